// "Near me": the nearest sites of a chosen kind from my position (or the tapped place, or the
// map centre when location is refused), with distance and a walking-route link; sites with a
// live status say it, and "open sites only" (on by itself during a municipality's disaster
// mode) lists the open ones first, or says that none is published as open.
import { carriesStatus, failureKind, nearest, withSiteStatus } from "./api.js";
import { absenceReasons, isOpen, pick, t } from "./text.js";
import { $, cachedNote, el, renderCheckFailed, renderEntries, renderNearestHeading } from "./ui.js";

const NEAREST_LIMIT = 5;
/**
 * The nearest open sites of a kind (its layer and designation): the server's nearest-open
 * (`open=true`), each site's own status checked again (a drill's never counts). When none is
 * open, `note` is the server's reason in ja/en (none open near here, or status not published).
 */
async function openNear(choice, from, signal) {
  const found = await nearest(choice.layer, from, NEAREST_LIMIT, { ...choice.filter, open: "true" }, signal);
  const features = found.features.filter((f) => isOpen(f.properties));
  return { ...found, features, note: features.length ? null : found.note };
}

export function createNearest(ctx) {
  const { state } = ctx;
  const choices = () => state.config.nearest.filter((n) => ctx.layerOf(n.layer)?.numberPublished);
  let request = null; // the list being fetched: a newer choice drops it (else both lists would show)
  let lastSaid = null; // what the list last said (a quiet round redraws only when it changed)
  let busy = false; // a list is being fetched: a quiet round does not interrupt it

  /** The list for the current choice; `quiet`: asked again for a status change (see below). */
  async function show({ quiet = false } = {}) {
    const box = $("nearest");
    box.lang = state.lang;
    const available = choices();
    if (!available.length) return;
    const choice = available.find((n) => n.id === state.nearestChoice) || available[0];
    state.nearestChoice = choice.id;
    const view = ctx.map.view();
    const from = state.me || state.tapped || [view.lon, view.lat];
    const fromLabel = t(state.lang, state.me ? "fromMe" : state.tapped ? "fromTap" : "fromCentre");
    const withStatus = carriesStatus(choice.layer);
    const openOnly = withStatus && state.nearestOpen;
    const heading = () => renderNearestHeading(box, state.lang, {
      choices: available, chosen: choice.id, fromLabel,
      onChoose: (id) => {
        state.nearestChoice = id;
        show();
      },
      openOnly: withStatus ? openOnly : null,
      onOpenOnly: (on) => {
        state.nearestOpen = on;
        show();
      },
    });
    if (!quiet) heading();
    request?.abort();
    const mine = (request = new AbortController());
    busy = true;
    try {
      const { signal } = mine;
      let found = openOnly ? await openNear(choice, from, signal) : null;
      const noneOpen = openOnly && !found.features.length ? pick(state.lang, found.note) || t(state.lang, "noneOpen") : null;
      if (!found?.features.length) found = await nearest(choice.layer, from, NEAREST_LIMIT, choice.filter, signal);
      if (withStatus) found = await withSiteStatus(choice.layer, found, signal);
      const features = withStatus ? [...found.features].sort((a, b) => isOpen(b.properties) - isOpen(a.properties)) : found.features;
      // Asked again for a status change: the list is redrawn only when it says something new
      // (a redraw would take a keyboard user's focus away every few seconds).
      const said = JSON.stringify([state.lang, choice.id, from, noneOpen, found.cachedAt,
        features.map((f) => [f.id, f.properties.status, f.properties.statusUpdated])]);
      if (quiet && said === lastSaid) return;
      lastSaid = said;
      if (quiet) heading();
      if (noneOpen) box.append(el("p", { class: "none-open" }, `${noneOpen}${t(state.lang, "nearestDesignated")}`));
      const collection = ctx.layerOf(choice.layer);
      if (found.cachedAt) box.append(cachedNote(state.lang, found.cachedAt));
      // The server lists those that may be absent (a fire-engine AED) last; each says why.
      renderEntries(box, state.lang, features.map((f) => ({
        name: f.properties[collection.layer.name_attribute], detail: f.properties.address, distanceM: f.properties.distance_m,
        status: withStatus ? f.properties : null, cachedAt: found.cachedAt,
        cautions: absenceReasons(state.lang, collection.layer, f.properties), lonLat: f.geometry.coordinates, from,
        feature: { ...f, cachedAt: found.cachedAt },
      })), (entry) => {
        ctx.map.flyTo(entry.lonLat, 16);
        ctx.selection.select(collection, entry.feature, entry.lonLat, from);
      });
    } catch (error) {
      if (error.name === "AbortError" || quiet) return; // a quiet round that failed leaves the list as it was
      const failed = el("div");
      renderCheckFailed(failed, state.lang, failureKind(error), show);
      box.append(failed);
    } finally {
      if (request === mine) busy = false;
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

  /** "Open sites near me for this hazard" (a disaster mode's banner): the hazard's choice, open only. */
  function showOpenFor(hazard) {
    const choice = choices().find((n) => n.filter?.[hazard] === "true");
    if (choice) state.nearestChoice = choice.id;
    state.nearestOpen = true;
    ctx.panel.showTab("info");
    return show();
  }

  /** Ask again, quietly, when the list holds sites with a live status (live.js, every round). */
  function refreshStatus() {
    const choice = choices().find((n) => n.id === state.nearestChoice);
    if ($("nearest").childElementCount && !busy && choice && carriesStatus(choice.layer)) show({ quiet: true });
  }

  return { show, relabel, locate, showOpenFor, refreshStatus };
}
