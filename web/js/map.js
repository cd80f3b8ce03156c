// The Leaflet adapter: the only module that touches Leaflet (loaded as a classic script with its
// VectorGrid plugin, see index.html), and the only place where lon/lat becomes Leaflet's [lat, lng].
const L = window.L;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Leaflet attribution HTML for a configured {text, url} (config, never data). */
const creditHtml = ({ text, url }) => `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(text)}</a>`;

export function createMap(element, view) {
  const map = L.map(element, { zoomControl: false, minZoom: 5, maxZoom: 18 });
  map.setView([view.lat, view.lon], view.zoom);
  return map;
}

let baseLayers = new Map();
let baseControl = null;
let zoomControl = null;
let labels = {};

/**
 * The map's controls in the current language (`labels`: zoomIn, zoomOut, baseMap, close) and
 * the base maps of the configuration, one shown; `onChange(id)` is told which one the user picks.
 * If the tiles fail (offline, blocked) the plain background, boundaries and layers remain.
 */
export function setControls(map, { baseMaps, titleOf, selected, onChange, labels: text }) {
  labels = text;
  zoomControl?.remove();
  zoomControl = L.control.zoom({ zoomInTitle: text.zoomIn, zoomOutTitle: text.zoomOut }).addTo(map);
  baseControl?.remove();
  for (const layer of baseLayers.values()) map.removeLayer(layer);
  baseLayers = new Map(
    baseMaps.map((b) => [b.id, L.tileLayer(b.url, { attribution: creditHtml(b.attribution), maxNativeZoom: b.maxNativeZoom, maxZoom: 18 })]),
  );
  const chosen = baseLayers.get(selected) || baseLayers.values().next().value;
  chosen?.addTo(map);
  baseControl = L.control.layers(Object.fromEntries(baseMaps.map((b) => [escapeHtml(titleOf(b)), baseLayers.get(b.id)])), null, { position: "topright" });
  baseControl.addTo(map);
  const toggle = baseControl.getContainer().querySelector(".leaflet-control-layers-toggle");
  toggle?.setAttribute("title", text.baseMap);
  toggle?.setAttribute("aria-label", text.baseMap);
  map.off("baselayerchange").on("baselayerchange", (event) => {
    const entry = [...baseLayers].find(([, layer]) => layer === event.layer);
    if (entry) onChange(entry[0]);
  });
}

/** The current view: centre, zoom. */
export function viewOf(map) {
  const c = map.getCenter();
  return { lon: c.lng, lat: c.lat, zoom: map.getZoom() };
}

export const setView = (map, { lon, lat, zoom }) => map.setView([lat, lon], zoom);
export const flyTo = (map, [lon, lat], zoom) => map.setView([lat, lon], Math.max(map.getZoom(), zoom));
export const fitBbox = (map, [w, s, e, n]) => map.fitBounds([[s, w], [n, e]]);

/** [minLon, minLat, maxLon, maxLat] of the visible map. */
export function visibleBbox(map) {
  const b = map.getBounds();
  return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)];
}

/** Call `handler(lon, lat)` when the map is tapped or clicked. */
export const onTap = (map, handler) => map.on("click", (event) => handler(event.latlng.lng, event.latlng.lat));
export const onMoveEnd = (map, handler) => map.on("moveend", handler);

const marks = new Map();
/** One marker per purpose ("tap", "selected", "me"); null removes it. */
export function mark(map, purpose, lonLat) {
  if (marks.has(purpose)) map.removeLayer(marks.get(purpose));
  marks.delete(purpose);
  if (!lonLat) return;
  const styles = {
    tap: { radius: 9, color: "#000", weight: 3, fillOpacity: 0 },
    selected: { radius: 12, color: "#ff6f00", weight: 4, fillOpacity: 0 },
    me: { radius: 8, color: "#fff", weight: 3, fillColor: "#1a73e8", fillOpacity: 1 },
  };
  marks.set(purpose, L.circleMarker([lonLat[1], lonLat[0]], { ...styles[purpose], interactive: false }).addTo(map));
}

/** Show a DOM element in a popup at [lon, lat]; `autoPan` moves the map to fit it. */
export function showPopup(map, lonLat, element, autoPan = true) {
  const popup = L.popup({ maxWidth: 320, autoPan, autoPanPaddingTopLeft: [10, 60] }).setLatLng([lonLat[1], lonLat[0]]).setContent(element).openOn(map);
  const close = popup.getElement()?.querySelector(".leaflet-popup-close-button");
  close?.setAttribute("aria-label", labels.close);
  close?.setAttribute("title", labels.close);
}
export const closePopup = (map) => map.closePopup();

function tileStyle(style, zoom, properties) {
  const fill = (properties.class && style.classColors[properties.class]) || style.fill_color || style.color;
  if (style.point) {
    // Small dots when zoomed out, so thousands of sites stay readable.
    const radius = Math.min(style.radius, Math.max(2, zoom - 8));
    return { radius, fill: true, fillColor: fill, fillOpacity: 0.85, color: "#fff", weight: radius > 3 ? 1 : 0, stroke: radius > 3 };
  }
  return { fill: style.fill_opacity > 0, fillColor: fill, fillOpacity: style.fill_opacity, color: style.color, weight: style.weight, stroke: style.weight > 0 };
}

let grid = null;
/**
 * Draw layers from the server's vector tiles (one multi-layer tile per tile position), so tens
 * of thousands of points or a detailed hazard layer cost the same as a few. `styles` maps a
 * layer id to its style; `tileUrl` is the tile template. `onLoad` runs when the view is drawn.
 */
export function drawTiles(map, tileUrl, styles, onLoad) {
  if (grid) map.removeLayer(grid);
  grid = null;
  if (!tileUrl) return onLoad();
  const layerStyles = Object.fromEntries(Object.entries(styles).map(([id, style]) => [id, (props, zoom) => tileStyle(style, zoom, props)]));
  // Not interactive: a tap is resolved by the API (nearest feature or "what is here").
  grid = L.vectorGrid.protobuf(tileUrl, { vectorTileLayerStyles: layerStyles, interactive: false, rendererFactory: L.canvas.tile });
  grid.on("load", onLoad);
  grid.addTo(map);
}

/** Tell Leaflet the container changed size (the panel grew): keeps the centre where it was. */
export const refreshSize = (map) => map.invalidateSize({ animate: false });
