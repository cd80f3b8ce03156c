// The selected feature (popup, detail and marker), and what a tap on the map means: the feature
// under the finger when zoomed in, otherwise "what is here?" for that spot.
import { carriesStatus, failureKind, getItem, nearest, whatIsHere, withSiteStatus } from "./api.js";
import { metresPerPixel } from "./geo.js";
import { qrModules, siteLink } from "./share.js";
import { t } from "./text.js";
import { $, featureDetails, renderAnswer, renderShare } from "./ui.js";

const TAP_TOLERANCE_PX = 18;
const FEATURE_TAP_MINZOOM = 13; // zoomed out, dots crowd together: a tap asks "what is here?"

const lonLatOf = (feature, fallback) => (feature.geometry?.type === "Point" ? feature.geometry.coordinates : fallback);

export function createSelection(ctx) {
  const { state } = ctx;

  /** Fill `box` with the site's link and QR code (the QR code needs its module: it may fail). */
  async function share(box, layer, id, lonLat) {
    const link = siteLink(location.origin, { layer, id, lonLat, base: state.base, lang: state.lang });
    renderShare(box, state.lang, link, await qrModules(link).catch(() => null));
  }

  // What the popup says of a site's status, to redraw it when that changes: a new status, or
  // the same one now from the service worker's copy (offline: it must say from when it is).
  const statusShown = (feature) => `${feature.properties?.status}@${feature.properties?.statusUpdated}@${feature.cachedAt ?? "live"}`;

  function select(collection, feature, lonLat, from = null, { showTab = true } = {}) {
    state.selected = { layer: collection.id, id: String(feature.id), status: statusShown(feature), from };
    if (showTab) ctx.panel.showTab("info");
    ctx.map.mark("selected", lonLat);
    const details = () => featureDetails(state.lang, collection, feature, lonLat, from, {
      onShare: (box) => share(box, collection.id, String(feature.id), lonLat), status: carriesStatus(collection.id),
    });
    // Restoring a link or a history entry must show exactly its view: no panning to fit.
    ctx.map.showPopup(lonLat, details(), !ctx.history.isApplying());
    $("detail").replaceChildren(details());
    ctx.history.commit();
  }

  /** The selected site as it is now (`feature`): its popup redrawn if its status changed. */
  function refreshStatus(feature) {
    const selected = state.selected;
    if (selected?.id !== String(feature.id) || selected.status === statusShown(feature)) return;
    select(ctx.layerOf(selected.layer), feature, lonLatOf(feature, [ctx.map.view().lon, ctx.map.view().lat]), selected.from, { showTab: false });
  }

  function unselect() {
    state.selected = null;
    ctx.map.mark("selected", null);
    ctx.map.closePopup();
    $("detail").replaceChildren();
  }

  /** Select a feature by layer and id (from search or a link); `move` flies to it. */
  async function open(layerId, id, move = true) {
    const collection = ctx.layerOf(layerId);
    if (!collection) return;
    try {
      const feature = await getItem(layerId, id);
      const view = ctx.map.view();
      const lonLat = lonLatOf(feature, [view.lon, view.lat]);
      if (move) ctx.map.flyTo(lonLat, 16);
      if (!state.enabled.has(layerId)) {
        state.enabled.add(layerId);
        ctx.panel.render();
        ctx.layers.draw();
      }
      select(collection, feature, lonLat);
    } catch {
      ctx.status(t(state.lang, "loadFailed"));
    }
  }

  async function featureAt(lon, lat) {
    const view = ctx.map.view();
    if (view.zoom < FEATURE_TAP_MINZOOM) return null;
    const tolerance = TAP_TOLERANCE_PX * metresPerPixel(lat, view.zoom);
    const found = await Promise.all(ctx.pointLayersShown().map((c) =>
      nearest(c.id, [lon, lat], 1, {}, undefined, "distance").then((b) => b.features.map((f) => ({ c, f }))).catch(() => [])));
    const hits = found.flat().filter(({ f }) => f.properties.distance_m <= tolerance);
    hits.sort((a, b) => a.f.properties.distance_m - b.f.properties.distance_m);
    return hits[0] || null;
  }

  /** "What is here?" in the panel, from the viewer's state (a failure is never an answer). */
  function renderHereNow() {
    const onRetry = () => answerHere(...state.tapped, state.town);
    renderAnswer($("here"), state.lang, state, ctx.layersShown(), onRetry);
  }

  /** Ask what is at [lon, lat]; `town` when it is an address's town point (approximate). */
  async function answerHere(lon, lat, town = null) {
    Object.assign(state, { tapped: [lon, lat], town, answer: null, nearestSite: null, failed: null });
    ctx.map.mark("tap", state.tapped);
    ctx.panel.showTab("info");
    renderHereNow();
    try {
      const [answer, sites] = await Promise.all([
        whatIsHere(lon, lat),
        ctx.layerOf("evacuation_sites")?.numberPublished
          ? nearest("evacuation_sites", [lon, lat], 1, {}).then((found) => withSiteStatus("evacuation_sites", found))
          : { features: [] },
      ]);
      if (state.tapped[0] !== lon || state.tapped[1] !== lat) return; // asked again meanwhile
      state.answer = answer;
      const site = sites.features[0];
      state.nearestSite = site && {
        name: site.properties.name, distanceM: site.properties.distance_m, lonLat: site.geometry.coordinates, from: [lon, lat],
        status: site.properties,
      };
    } catch (error) {
      if (state.tapped[0] !== lon || state.tapped[1] !== lat) return;
      state.failed = failureKind(error);
    }
    renderHereNow();
  }

  /** An address's town: its representative point's answer, marked as town-level. */
  function showTown(town) {
    unselect();
    ctx.map.flyTo([town.lon, town.lat], 15);
    ctx.history.commit();
    return answerHere(town.lon, town.lat, town);
  }

  async function onTap(lon, lat) {
    const hit = await featureAt(lon, lat);
    if (hit) {
      select(hit.c, hit.f, hit.f.geometry.coordinates);
    } else {
      unselect();
      ctx.history.commit();
      await answerHere(lon, lat);
    }
  }

  return { select, unselect, open, onTap, showTown, renderHereNow, refreshStatus };
}
