// Start-up wiring only: load the configuration and the layers, create the map and the
// controllers, restore the link, and listen. Each job lives in its own module.
import { getConfig, listLayers } from "./api.js";
import { createHistory } from "./history.js";
import { createLayers } from "./layers.js";
import { MapView } from "./map.js";
import { t } from "./text.js";

const byId = (id) => document.getElementById(id);
const browserLang = (navigator.languages?.[0] || "ja").startsWith("ja") ? "ja" : "en";
const MOVE_SETTLE_MS = 250; // a pan or zoom is "settled" (recorded, listed) after this pause
const INTERACTIVE_AT_LATEST_MS = 5000; // if the first view never finishes drawing

/**
 * The viewer's state and what every controller shares; controllers reach each other through it
 * (ctx.list, ctx.selection, …) once they are created.
 */
function createContext(config, collections, lang) {
  const state = {
    lang, config, collections, byId: new Map(collections.map((c) => [c.id, c])),
    defaults: {
      lon: config.center[0], lat: config.center[1], zoom: config.zoom, base: config.baseMaps[0]?.id,
      layers: config.defaultLayers, lang,
    },
    // "What is here?": where was asked (`town` when from an address), the answer or why it failed.
    enabled: new Set(), base: null, selected: null, me: null, tapped: null, town: null, answer: null, nearestSite: null, failed: null,
    sort: "distance", nearestChoice: null,
  };
  const ctx = {
    state,
    map: null,
    layerOf: (id) => state.byId.get(id),
    /** A national hazard overlay of the configuration (GSI's tiles, for reference only). */
    overlayOf: (id) => config.hazardOverlays?.find((o) => o.id === id),
    status: (text) => { byId("status").textContent = text; },
    /** The layers switched on (their collections). */
    layersShown: () => [...state.enabled].map(ctx.layerOf).filter(Boolean),
    /** The point layers switched on and drawn at this zoom (what a tap or the list may find). */
    pointLayersShown: () => ctx.layersShown()
      .filter((c) => c.layer.geometry_type === "point" && ctx.map.view().zoom >= c.layer.minzoom),
  };
  return ctx;
}

/**
 * A tap on a control, or a search sent, before its controller has loaded is not lost: it is
 * held and replayed once the controllers are there. Returns the function that stops holding.
 */
function holdEarlyActions(ctx) {
  const hold = (event) => {
    const target = event.type === "submit" ? event.target : event.target.closest?.("button, select, input[type=checkbox]");
    if (!target || target.closest(".leaflet-container")) return; // the map's own controls work already
    event.preventDefault();
    event.stopImmediatePropagation();
    ctx.interactive().then(() => (event.type === "submit" ? target.requestSubmit() : target.click()));
  };
  document.addEventListener("click", hold, true);
  document.addEventListener("submit", hold, true);
  return () => {
    document.removeEventListener("click", hold, true);
    document.removeEventListener("submit", hold, true);
  };
}

/**
 * What only a user's action needs (the panel, selection, near me, the list, search) loads once
 * the first view is drawn: on a 3G phone's first visit every module more in the first wave
 * costs a round trip, as a browser opens six connections per host. Returns the loader.
 */
function interactions(ctx) {
  let loading = null;
  const release = holdEarlyActions(ctx);
  return () => (loading ??= Promise.all([
    import("./panel.js"), import("./selection.js"), import("./nearest.js"), import("./list.js"), import("./search.js"), import("./live.js"),
  ]).then(([panel, selection, nearest, list, search, live]) => {
    Object.assign(ctx, {
      panel: panel.createPanel(ctx), selection: selection.createSelection(ctx), nearest: nearest.createNearest(ctx),
      list: list.createList(ctx), search: search.createSearch(ctx), live: live.createLive(ctx),
    });
    release(); // before wiring: the held actions replay through the real handlers
    ctx.panel.wire();
    ctx.panel.render();
    ctx.live.start();
  }).catch((error) => {
    loading = null; // offline before they loaded: the next action asks again
    throw error;
  }));
}

async function start() {
  const [config, collections] = await Promise.all([getConfig(), listLayers()]);
  const ctx = createContext(config, collections, browserLang);
  ctx.interactive = interactions(ctx);
  ctx.layers = createLayers(ctx);
  ctx.history = createHistory(ctx);
  const view = ctx.history.fromUrl();
  ctx.map = new MapView(byId("map"), view);
  window.addEventListener("resize", () => ctx.map.refreshSize());
  window.addEventListener("popstate", ctx.history.onPopState);
  window.addEventListener("offline", () => ctx.status(t(ctx.state.lang, "offline")));
  window.addEventListener("online", () => ctx.layers.zoomHints());
  await ctx.history.apply(view);
  ctx.history.complete();
  ctx.map.refreshSize();
  // A tap on the map is answered as soon as the controllers are there, however early it came.
  // A tap that cannot be answered (the code for it did not load) says so, never nothing.
  ctx.map.onTap((lon, lat) => ctx.interactive().then(() => ctx.selection.onTap(lon, lat),
    () => ctx.status(t(ctx.state.lang, "checkFailed_offline"))));
  setTimeout(() => ctx.interactive().catch(() => {}), INTERACTIVE_AT_LATEST_MS);
  let timer = null;
  ctx.map.onMoveEnd(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      ctx.layers.zoomHints();
      ctx.list?.refresh();
      ctx.live?.poll(); // the disasters and open sites of the new view
      ctx.history.commit();
    }, MOVE_SETTLE_MS);
  });
  if (!navigator.onLine) ctx.status(t(ctx.state.lang, "offline"));
}

start().catch(() => { byId("status").textContent = t(browserLang, "loadFailed"); });

// Keep the app shell and the last data viewed, so a reload without network still shows the map.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then(() => {
    document.documentElement.dataset.offlineReady = "true";
  }).catch(() => {});
}
