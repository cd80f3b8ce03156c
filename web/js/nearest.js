// "Near me": the nearest sites of a chosen kind from my position (or the tapped place, or the
// map centre when location is refused), with distance and a walking-route link.
import { failureKind, nearest } from "./api.js";
import { absenceReasons, t } from "./text.js";
import { $, cachedNote, el, renderCheckFailed, renderEntries, renderNearestHeading } from "./ui.js";

const NEAREST_LIMIT = 5;

export function createNearest(ctx) {
  const { state } = ctx;
  const choices = () => state.config.nearest.filter((n) => ctx.layerOf(n.layer)?.numberPublished);
  let request = null; // the list being fetched: a newer choice drops it (else both lists would show)

  async function show() {
    const box = $("nearest");
    box.lang = state.lang;
    const available = choices();
    if (!available.length) return;
    const choice = available.find((n) => n.id === state.nearestChoice) || available[0];
    state.nearestChoice = choice.id;
    const view = ctx.map.view();
    const from = state.me || state.tapped || [view.lon, view.lat];
    const fromLabel = t(state.lang, state.me ? "fromMe" : state.tapped ? "fromTap" : "fromCentre");
    renderNearestHeading(box, state.lang, { choices: available, chosen: choice.id, fromLabel, onChoose: (id) => {
      state.nearestChoice = id;
      show();
    } });
    request?.abort();
    request = new AbortController();
    try {
      const found = await nearest(choice.layer, from, NEAREST_LIMIT, choice.filter, request.signal);
      const collection = ctx.layerOf(choice.layer);
      if (found.cachedAt) box.append(cachedNote(state.lang, found.cachedAt));
      // The server lists those that may be absent (a fire-engine AED) last; each says why.
      renderEntries(box, state.lang, found.features.map((f) => ({
        name: f.properties[collection.layer.name_attribute], detail: f.properties.address, distanceM: f.properties.distance_m,
        cautions: absenceReasons(state.lang, collection.layer, f.properties), lonLat: f.geometry.coordinates, from, feature: f,
      })), (entry) => {
        ctx.map.flyTo(entry.lonLat, 16);
        ctx.selection.select(collection, entry.feature, entry.lonLat, from);
      });
    } catch (error) {
      if (error.name === "AbortError") return;
      const failed = el("div");
      renderCheckFailed(failed, state.lang, failureKind(error), show);
      box.append(failed);
    }
  }

  /** Redraw (and ask again) only when it was written in the other language. */
  function relabel() {
    if ($("nearest").childElementCount && $("nearest").lang !== state.lang) show();
  }

  function locate() {
    ctx.panel.showTab("info");
    ctx.status(t(state.lang, "locating"));
    const fallback = () => {
      ctx.status(t(state.lang, "locateFailed"));
      show();
    };
    if (!navigator.geolocation) return fallback();
    navigator.geolocation.getCurrentPosition((position) => {
      state.me = [position.coords.longitude, position.coords.latitude];
      ctx.status("");
      ctx.map.mark("me", state.me);
      ctx.map.flyTo(state.me, 14);
      show();
    }, fallback, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  return { show, relabel, locate };
}
