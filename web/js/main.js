// Bootstrap: the only module that knows all the others.
import { getItems, listLayers, whatIsHere } from "./api.js";
import { pick, t } from "./i18n.js";
import {
  addAttribution, createMap, drawFeatures, markPlace, onMoveEnd, onTap, refreshSize, removeDrawn, visibleBbox,
  zoomOf,
} from "./map.js";
import { popupContent, renderHere, renderPanel } from "./ui.js";

const MAX_FEATURES = 5000;
const DEFAULT_LAYERS = ["municipal_boundaries", "evacuation_sites"];
const state = { lang: "ja", collections: [], enabled: new Set(DEFAULT_LAYERS), drawn: new Map(), requests: new Map() };

const $ = (id) => document.getElementById(id);
const map = createMap($("map"), { center: [135.52, 34.62], zoom: 10 });

function status(text) {
  $("status").textContent = text;
}

function styleOf(layer) {
  const classes = layer.style.class_attribute ? layer.attributes.find((a) => a.name === layer.style.class_attribute) : null;
  const classColors = Object.fromEntries((classes?.values || []).filter((v) => v.color).map((v) => [v.value, v.color]));
  return { ...layer.style, classColors };
}

async function refresh(id) {
  const collection = state.collections.find((c) => c.id === id);
  state.requests.get(id)?.abort();
  removeDrawn(map, state.drawn.get(id));
  state.drawn.delete(id);
  if (!state.enabled.has(id) || !collection) return;
  if (zoomOf(map) < collection.layer.minzoom) {
    status(`${pick(state.lang, collection.layer.title)}: ${t(state.lang, "zoomIn")}`);
    return;
  }
  const controller = new AbortController();
  state.requests.set(id, controller);
  try {
    const page = await getItems(id, visibleBbox(map), MAX_FEATURES, controller.signal);
    const layer = collection.layer;
    // Boundaries are context, not content: taps go through them to "what is here?".
    const popup = id === "municipal_boundaries" ? null : (f) => popupContent(state.lang, layer, f);
    state.drawn.set(id, drawFeatures(map, page, styleOf(layer), popup));
    if (page.numberReturned >= MAX_FEATURES) status(t(state.lang, "tooMany"));
  } catch (error) {
    if (error.name !== "AbortError") status(`${pick(state.lang, collection.layer.title)}: ${t(state.lang, "loadFailed")}`);
  }
}

function refreshAll() {
  status("");
  for (const id of state.enabled) refresh(id);
}

function render() {
  document.documentElement.lang = state.lang;
  document.title = t(state.lang, "title");
  $("app-title").textContent = t(state.lang, "title");
  $("lang").textContent = t(state.lang, "langButton");
  $("lang").setAttribute("aria-label", t(state.lang, "langLabel"));
  $("panel-toggle").textContent = t(state.lang, "layers");
  $("panel").setAttribute("aria-label", t(state.lang, "layers"));
  $("map").setAttribute("aria-label", t(state.lang, "map"));
  if (lastAnswer) renderHere($("here"), state.lang, lastAnswer);
  else $("here").replaceChildren(document.createTextNode(t(state.lang, "tapHint")));
  renderPanel($("layer-list"), state.lang, state.collections, state.enabled, (id, on) => {
    if (on) state.enabled.add(id);
    else state.enabled.delete(id);
    refresh(id);
  });
}

$("lang").addEventListener("click", () => {
  state.lang = state.lang === "ja" ? "en" : "ja";
  render();
});
$("panel-toggle").addEventListener("click", () => {
  const panel = $("panel");
  panel.hidden = !panel.hidden;
  $("panel-toggle").setAttribute("aria-expanded", String(!panel.hidden));
  refreshSize(map);
});
window.addEventListener("resize", () => refreshSize(map));

let lastAnswer = null;
onTap(map, async (lon, lat) => {
  markPlace(map, lon, lat);
  try {
    lastAnswer = await whatIsHere(lon, lat);
  } catch {
    lastAnswer = null;
  }
  renderHere($("here"), state.lang, lastAnswer);
});

let timer = null;
onMoveEnd(map, () => {
  clearTimeout(timer);
  timer = setTimeout(refreshAll, 150);
});

listLayers()
  .then((collections) => {
    state.collections = collections;
    // Every source's credit, in full, below the layers; the map itself carries a short credit so
    // that a phone's small map is not covered by text.
    const credits = [...new Set(collections.filter((c) => c.numberPublished).map((c) => c.layer.source.attribution.ja))];
    $("attribution").textContent = credits.join(" / ");
    addAttribution(map, "データ出典は一覧の下 / Data sources below the list");
    render();
    refreshSize(map);
    refreshAll();
  })
  .catch(() => status(t(state.lang, "loadFailed")));
