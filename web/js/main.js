// Bootstrap: holds the viewer's state and wires the API, the map and the panel together.
import { getConfig, getItem, getItems, listLayers, nearest, search, urls, whatIsHere } from "./api.js";
import { distanceM, fold, metresPerPixel } from "./geo.js";
import { pick, t } from "./text.js";
import {
  closePopup, createMap, drawTiles, fitBbox, flyTo, mark, onMoveEnd, onTap, refreshSize, setControls, setView, showPopup,
  viewOf, visibleBbox,
} from "./map.js";
import { decodeView, encodeView, sameView } from "./permalink.js";
import { el, featureDetails, renderEntries, renderHere, renderPanel, renderSearch } from "./ui.js";

const $ = (id) => document.getElementById(id);
const TAP_TOLERANCE_PX = 18;
const FEATURE_TAP_MINZOOM = 13; // zoomed out, dots crowd together: a tap asks "what is here?"
const LIST_LIMIT = 100;
const NEAREST_LIMIT = 5;
const GEOMETRY_ORDER = { polygon: 0, line: 1, point: 2 }; // areas under lines under points

const state = {
  lang: (navigator.languages?.[0] || "ja").startsWith("ja") ? "ja" : "en",
  config: null, defaults: null, collections: [], byId: new Map(), enabled: new Set(), base: null,
  selected: null, me: null, tapped: null, answer: null, nearestSite: null, sort: "distance", nearestChoice: null,
};
let map = null;
let applyingHistory = false;

const layerOf = (id) => state.byId.get(id);
const status = (text) => { $("status").textContent = text; };
const pointLayersShown = () => [...state.enabled].map(layerOf).filter((c) => c?.layer.geometry_type === "point" && viewOf(map).zoom >= c.layer.minzoom);

function styleOf(layer) {
  const classes = layer.style.class_attribute ? layer.attributes.find((a) => a.name === layer.style.class_attribute) : null;
  const classColors = Object.fromEntries((classes?.values || []).filter((v) => v.color).map((v) => [v.value, v.color]));
  return { ...layer.style, classColors, point: layer.geometry_type === "point" };
}

// ---- map layers, drawn from vector tiles --------------------------------------------------------

function drawLayers() {
  const shown = [...state.enabled].map(layerOf).filter((c) => c?.numberPublished);
  shown.sort((a, b) => GEOMETRY_ORDER[a.layer.geometry_type] - GEOMETRY_ORDER[b.layer.geometry_type]);
  const styles = Object.fromEntries(shown.map((c) => [c.id, styleOf(c.layer)]));
  drawTiles(map, shown.length ? urls.tiles(shown.map((c) => c.id)) : null, styles, () => {
    // For tests and the render-time budget: the moment the first view's layers were drawn.
    if (!document.documentElement.dataset.rendered) performance.mark("mapsvc:layers-rendered");
    document.documentElement.dataset.rendered = "true";
  });
  zoomHints();
}

function zoomHints() {
  const zoom = viewOf(map).zoom;
  const hidden = [...state.enabled].map(layerOf).filter((c) => c?.numberPublished && zoom < c.layer.minzoom);
  status(hidden.map((c) => `${pick(state.lang, c.layer.title)}: ${t(state.lang, "zoomIn")}`).join(" / "));
}

// ---- the permalink ------------------------------------------------------------------------------

/** Whether the URL already says `view` (a restored link differs from its view by snapping). */
function inUrl(view) {
  return Boolean(location.hash) && sameView(view, decodeView(location.hash, state.defaults));
}

function currentView() {
  return { ...viewOf(map), base: state.base, layers: [...state.enabled], feature: state.selected, lang: state.lang };
}

/** Record the view in the URL: each settled change is a history entry, so back/forward work. */
function commit() {
  if (applyingHistory || !map) return;
  const view = currentView();
  if (!inUrl(view)) history.pushState(null, "", encodeView(view));
}

async function applyView(view) {
  applyingHistory = true;
  state.lang = view.lang;
  state.base = view.base;
  state.enabled = new Set(view.layers.filter((id) => state.byId.has(id)));
  setView(map, view);
  render();
  renderBaseMaps();
  drawLayers();
  if (view.feature && (view.feature.layer !== state.selected?.layer || view.feature.id !== state.selected?.id)) {
    await openFeature(view.feature.layer, view.feature.id, false);
  } else if (!view.feature) {
    unselect();
  }
  applyingHistory = false;
}

// ---- selecting a feature ------------------------------------------------------------------------

function featureLonLat(feature, fallback) {
  const g = feature.geometry;
  return g?.type === "Point" ? g.coordinates : fallback;
}

function select(collection, feature, lonLat, from = null) {
  state.selected = { layer: collection.id, id: String(feature.id) };
  showTab("info");
  mark(map, "selected", lonLat);
  // Restoring a link or a history entry must show exactly its view: no panning to fit.
  showPopup(map, lonLat, featureDetails(state.lang, collection, feature, lonLat, from), !applyingHistory);
  $("detail").replaceChildren(featureDetails(state.lang, collection, feature, lonLat, from));
  commit();
}

function unselect() {
  state.selected = null;
  mark(map, "selected", null);
  closePopup(map);
  $("detail").replaceChildren();
}

async function openFeature(layerId, id, move = true) {
  const collection = layerOf(layerId);
  if (!collection) return;
  try {
    const feature = await getItem(layerId, id);
    const lonLat = featureLonLat(feature, [viewOf(map).lon, viewOf(map).lat]);
    if (move) flyTo(map, lonLat, 16);
    if (!state.enabled.has(layerId)) {
      state.enabled.add(layerId);
      render();
      drawLayers();
    }
    select(collection, feature, lonLat);
  } catch {
    status(t(state.lang, "loadFailed"));
  }
}

// ---- a tap: the feature under the finger, or "what is here?" -------------------------------------

async function featureAt(lon, lat) {
  const view = viewOf(map);
  if (view.zoom < FEATURE_TAP_MINZOOM) return null;
  const tolerance = TAP_TOLERANCE_PX * metresPerPixel(lat, view.zoom);
  const found = await Promise.all(pointLayersShown().map((c) =>
    nearest(c.id, [lon, lat], 1, {}).then((fs) => fs.map((f) => ({ c, f }))).catch(() => [])));
  const hits = found.flat().filter(({ f }) => f.properties.distance_m <= tolerance);
  hits.sort((a, b) => a.f.properties.distance_m - b.f.properties.distance_m);
  return hits[0] || null;
}

async function answerHere(lon, lat) {
  state.tapped = [lon, lat];
  mark(map, "tap", state.tapped);
  showTab("info");
  try {
    const [answer, sites] = await Promise.all([
      whatIsHere(lon, lat),
      layerOf("evacuation_sites")?.numberPublished ? nearest("evacuation_sites", [lon, lat], 1, {}) : [],
    ]);
    state.answer = answer;
    const site = sites[0];
    state.nearestSite = site && {
      name: site.properties.name, distanceM: site.properties.distance_m, lonLat: site.geometry.coordinates, from: [lon, lat],
    };
  } catch {
    state.answer = null;
    state.nearestSite = null;
  }
  renderHere($("here"), state.lang, state.answer, state.nearestSite);
}

async function onMapTap(lon, lat) {
  const hit = await featureAt(lon, lat);
  if (hit) {
    select(hit.c, hit.f, hit.f.geometry.coordinates);
  } else {
    unselect();
    commit();
    await answerHere(lon, lat);
  }
}

// ---- nearest N from my location (or the tapped place, or the centre) --------------------------

function nearestChoices() {
  return state.config.nearest.filter((n) => layerOf(n.layer)?.numberPublished);
}

async function showNearest() {
  const box = $("nearest");
  box.lang = state.lang;
  const choices = nearestChoices();
  if (!choices.length) return;
  const choice = choices.find((n) => n.id === state.nearestChoice) || choices[0];
  state.nearestChoice = choice.id;
  const from = state.me || state.tapped || [viewOf(map).lon, viewOf(map).lat];
  const fromLabel = t(state.lang, state.me ? "fromMe" : state.tapped ? "fromTap" : "fromCentre");
  const chooser = el("select", { id: "nearest-choice", "aria-label": t(state.lang, "nearestOf") });
  for (const n of choices) {
    const option = el("option", { value: n.id }, pick(state.lang, n.title));
    option.selected = n.id === choice.id;
    chooser.append(option);
  }
  chooser.addEventListener("change", () => { state.nearestChoice = chooser.value; showNearest(); });
  const heading = el("h2", {}, `${t(state.lang, "nearestOf")} `);
  heading.append(chooser);
  box.replaceChildren(heading, el("p", { class: "hint" }, `${t(state.lang, "nearestFrom")}: ${fromLabel}`));
  try {
    const found = await nearest(choice.layer, from, NEAREST_LIMIT, choice.filter);
    const collection = layerOf(choice.layer);
    renderEntries(box, state.lang, found.map((f) => ({
      name: f.properties[collection.layer.name_attribute], detail: f.properties.address, distanceM: f.properties.distance_m,
      lonLat: f.geometry.coordinates, from, feature: f,
    })), (entry) => {
      flyTo(map, entry.lonLat, 16);
      select(collection, entry.feature, entry.lonLat, from);
    });
  } catch {
    box.append(el("p", {}, t(state.lang, "loadFailed")));
  }
}

function locate() {
  showTab("info");
  status(t(state.lang, "locating"));
  const fallback = () => { status(t(state.lang, "locateFailed")); showNearest(); };
  if (!navigator.geolocation) return fallback();
  navigator.geolocation.getCurrentPosition((position) => {
    state.me = [position.coords.longitude, position.coords.latitude];
    status("");
    mark(map, "me", state.me);
    flyTo(map, state.me, 14);
    showNearest();
  }, fallback, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
}

// ---- the list of what is visible ----------------------------------------------------------------

let listRequest = null;
let listed = { entries: [], matched: 0 };

/** Fetch what is visible of the point layers shown, then draw the list. */
async function refreshList() {
  if ($("view-list").hidden) return;
  listRequest?.abort();
  listRequest = new AbortController();
  const { signal } = listRequest;
  const view = viewOf(map);
  const from = state.me || [view.lon, view.lat];
  try {
    const pages = await Promise.all(pointLayersShown().map((c) =>
      getItems(c.id, visibleBbox(map), LIST_LIMIT, signal).then((page) => ({ c, page }))));
    if (signal.aborted) return;
    listed = { entries: [], matched: 0 };
    for (const { c, page } of pages) {
      listed.matched += page.numberMatched ?? page.numberReturned;
      for (const f of page.features) {
        const lonLat = f.geometry.coordinates;
        listed.entries.push({
          name: f.properties[c.layer.name_attribute], detail: [pick(state.lang, c.layer.title), f.properties.address].filter(Boolean).join(" · "),
          distanceM: distanceM(from, lonLat), lonLat, from, feature: f, collection: c,
        });
      }
    }
    renderList();
  } catch (error) {
    if (error.name !== "AbortError") $("list").replaceChildren(el("p", {}, t(state.lang, "loadFailed")));
  }
}

/** Draw the fetched list in the chosen order (re-sorting needs no request). */
function renderList() {
  const box = $("list");
  const entries = [...listed.entries];
  if (state.sort === "name") entries.sort((a, b) => fold(a.name).localeCompare(fold(b.name), state.lang));
  else entries.sort((a, b) => a.distanceM - b.distanceM);
  box.replaceChildren();
  if (!entries.length) {
    box.append(el("p", { class: "empty" }, t(state.lang, "listEmpty")));
    return;
  }
  if (listed.matched > entries.length) box.append(el("p", { class: "hint" }, `${listed.matched.toLocaleString()} ${t(state.lang, "listMore")}`));
  renderEntries(box, state.lang, entries, (entry) => {
    flyTo(map, entry.lonLat, 16);
    select(entry.collection, entry.feature, entry.lonLat, entry.from);
  });
}

// ---- search -------------------------------------------------------------------------------------

let searchRequest = null;
async function runSearch(text) {
  if (!text.trim()) return;
  searchRequest?.abort();
  searchRequest = new AbortController();
  try {
    const result = await search(text, searchRequest.signal);
    renderSearch($("search-results"), state.lang, result, state.collections,
      (place) => { unselect(); if (place.bbox) fitBbox(map, place.bbox); },
      (hit) => openFeature(hit.layer, hit.id));
  } catch (error) {
    if (error.name !== "AbortError") $("search-results").replaceChildren(el("p", {}, error.messageJa && state.lang === "ja" ? error.messageJa : t(state.lang, "loadFailed")));
  }
}

// ---- tabs, language, text size ------------------------------------------------------------------

const TABS = ["info", "layers", "list", "search"];
function showTab(name) {
  for (const tab of TABS) {
    const selected = tab === name;
    $(`tab-${tab}`).setAttribute("aria-selected", String(selected));
    $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`view-${tab}`).hidden = !selected;
  }
  $("panel").hidden = false;
  $("panel-toggle").setAttribute("aria-expanded", "true");
  refreshSize(map);
  if (name === "list") refreshList();
}

function render() {
  const lang = state.lang;
  const focused = document.activeElement?.id; // re-rendering must not lose a keyboard user's place
  document.documentElement.lang = lang;
  document.title = t(lang, "title");
  $("app-title").textContent = t(lang, "title");
  $("lang").textContent = t(lang, "langButton");
  $("lang").setAttribute("aria-label", t(lang, "langLabel"));
  $("locate").textContent = t(lang, "locate");
  $("text-size").textContent = t(lang, "textSize");
  $("text-size").setAttribute("aria-label", t(lang, "textSizeLabel"));
  $("panel-toggle").setAttribute("aria-label", t(lang, "panelToggle"));
  $("panel").setAttribute("aria-label", t(lang, "layers"));
  $("map").setAttribute("aria-label", t(lang, "map"));
  for (const [tab, key] of [["info", "info"], ["layers", "layers"], ["list", "list"], ["search", "searchTab"]]) $(`tab-${tab}`).textContent = t(lang, key);
  $("list-hint").textContent = t(lang, "listHint");
  $("sort-label").textContent = t(lang, "sortBy");
  $("sort").options[0].textContent = t(lang, "byDistance");
  $("sort").options[1].textContent = t(lang, "byName");
  $("search-label").textContent = t(lang, "searchLabel");
  $("search-button").textContent = t(lang, "searchButton");
  if (state.answer || state.tapped) renderHere($("here"), lang, state.answer, state.nearestSite);
  else $("here").replaceChildren(el("p", {}, t(lang, "tapHint")));
  renderPanel($("layer-list"), lang, state.collections, state.enabled, (id, on) => {
    if (on) state.enabled.add(id);
    else state.enabled.delete(id);
    render();
    drawLayers();
    refreshList();
    commit();
  });
  const credits = [...new Set(state.collections.filter((c) => c.numberPublished).map((c) => pick(lang, c.layer.source.attribution)))];
  $("attribution").textContent = credits.join(" / ");
  if (focused) $(focused)?.focus();
  // Redrawn (and asked again) only when it was written in the other language.
  if ($("nearest").childElementCount && $("nearest").lang !== lang) showNearest();
}

/** The map's controls and base-map switcher, labelled in the current language. */
function renderBaseMaps() {
  const lang = state.lang;
  setControls(map, {
    baseMaps: state.config.baseMaps, titleOf: (b) => pick(lang, b.title), selected: state.base,
    onChange: (id) => { state.base = id; commit(); },
    labels: { zoomIn: t(lang, "zoomInButton"), zoomOut: t(lang, "zoomOutButton"), baseMap: t(lang, "baseMap"), close: t(lang, "close") },
  });
}

function wireControls() {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "ja" ? "en" : "ja";
    render();
    renderBaseMaps();
    refreshList();
    commit();
  });
  $("text-size").addEventListener("click", () => {
    const large = document.documentElement.classList.toggle("large-text");
    $("text-size").setAttribute("aria-pressed", String(large));
    localStorage.setItem("mapsvc.largeText", large ? "1" : "");
    refreshSize(map);
  });
  $("locate").addEventListener("click", locate);
  $("panel-toggle").addEventListener("click", () => {
    const panel = $("panel");
    panel.hidden = !panel.hidden;
    $("panel-toggle").setAttribute("aria-expanded", String(!panel.hidden));
    refreshSize(map);
  });
  for (const tab of TABS) {
    $(`tab-${tab}`).addEventListener("click", () => showTab(tab));
    $(`tab-${tab}`).addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length];
      showTab(next);
      $(`tab-${next}`).focus();
    });
  }
  $("sort").addEventListener("change", () => { state.sort = $("sort").value; renderList(); });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    runSearch($("search-input").value);
  });
  if (localStorage.getItem("mapsvc.largeText")) {
    document.documentElement.classList.add("large-text");
    $("text-size").setAttribute("aria-pressed", "true");
  }
  window.addEventListener("resize", () => refreshSize(map));
  window.addEventListener("popstate", () => applyView(decodeView(location.hash, currentView())));
  window.addEventListener("offline", () => status(t(state.lang, "offline")));
  window.addEventListener("online", () => zoomHints());
}

async function start() {
  const [config, collections] = await Promise.all([getConfig(), listLayers()]);
  state.config = config;
  state.collections = collections;
  state.byId = new Map(collections.map((c) => [c.id, c]));
  state.defaults = {
    lon: config.center[0], lat: config.center[1], zoom: config.zoom, base: config.baseMaps[0]?.id,
    layers: config.defaultLayers, lang: state.lang,
  };
  const view = decodeView(location.hash, state.defaults);
  map = createMap($("map"), view);
  wireControls();
  await applyView(view);
  // A link is kept as given; a missing or partial one is completed.
  if (!inUrl(currentView())) history.replaceState(null, "", encodeView(currentView()));
  refreshSize(map);
  onTap(map, onMapTap);
  let timer = null;
  onMoveEnd(map, () => {
    clearTimeout(timer);
    timer = setTimeout(() => { zoomHints(); refreshList(); commit(); }, 250);
  });
  if (!navigator.onLine) status(t(state.lang, "offline"));
}

start().catch(() => status(t(state.lang, "loadFailed")));

// Keep the app shell and the last data viewed, so a reload without network still shows the map.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then(() => {
    document.documentElement.dataset.offlineReady = "true";
  }).catch(() => {});
}
