// The Leaflet adapter: the only module that imports Leaflet, and the only place where the
// API's lon/lat order becomes Leaflet's [lat, lng].
import * as L from "/vendor/leaflet/leaflet-src.esm.js";

const GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html">国土地理院</a>';
const BASE_TILES = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png";

export function createMap(element, { center, zoom }) {
  const map = L.map(element, { preferCanvas: true, zoomControl: true });
  map.setView([center[1], center[0]], zoom);
  // If the tiles fail (offline, blocked), the plain background, boundaries and layers remain.
  L.tileLayer(BASE_TILES, { attribution: GSI_ATTRIBUTION, maxZoom: 18, minZoom: 5 }).addTo(map);
  return map;
}

/** [minLon, minLat, maxLon, maxLat] of the visible map. */
export function visibleBbox(map) {
  const b = map.getBounds();
  return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)];
}

export const zoomOf = (map) => map.getZoom();

/** Call `handler(lon, lat)` when the map is tapped or clicked. */
export const onTap = (map, handler) => map.on("click", (event) => handler(event.latlng.lng, event.latlng.lat));

let tapped = null;
/** Mark the tapped place (one marker at a time). */
export function markPlace(map, lon, lat) {
  if (tapped) map.removeLayer(tapped);
  tapped = L.circleMarker([lat, lon], { radius: 9, color: "#000", weight: 3, fillOpacity: 0 }).addTo(map);
}
export const onMoveEnd = (map, handler) => map.on("moveend", handler);

function styleFor(style, feature) {
  const classValue = style.class_attribute ? feature.properties[style.class_attribute] : null;
  const fill = (classValue && style.classColors?.[classValue]) || style.fill_color || style.color;
  return { color: style.color, weight: style.weight, fillColor: fill, fillOpacity: style.fill_opacity, radius: style.radius };
}

/** Draw a FeatureCollection; `popup(feature)` returns a DOM element (null: not clickable). */
export function drawFeatures(map, collection, style, popup) {
  const layer = L.geoJSON(collection, {
    interactive: popup !== null,
    style: (feature) => styleFor(style, feature),
    // Small dots when zoomed out, so thousands of sites stay readable (layers redraw on zoom).
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
      ...styleFor(style, feature), fillOpacity: 0.85, radius: Math.min(style.radius, Math.max(2, map.getZoom() - 8)),
    }),
    onEachFeature: (feature, item) => popup && item.bindPopup(() => popup(feature), { maxWidth: 320 }),
  });
  layer.addTo(map);
  return layer;
}

export const removeDrawn = (map, handle) => handle && map.removeLayer(handle);
export const addAttribution = (map, text) => map.attributionControl.addAttribution(text);

/** Tell Leaflet the container changed size (the panel grew): keeps the centre where it was. */
export const refreshSize = (map) => map.invalidateSize({ animate: false });
