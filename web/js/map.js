// The Leaflet adapter: the only module that touches Leaflet (loaded as a classic script with its
// VectorGrid plugin, see index.html), and the only place where lon/lat becomes Leaflet's [lat, lng].
// Each MapView keeps its own controls, markers and tile layer: no state at module level.
const L = window.L;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Leaflet attribution HTML for a configured {text, url} (config, never data). */
const creditHtml = ({ text, url }) => `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(text)}</a>`;

const MARK_STYLES = {
  tap: { radius: 9, color: "#000", weight: 3, fillOpacity: 0 },
  selected: { radius: 12, color: "#ff6f00", weight: 4, fillOpacity: 0 },
  me: { radius: 8, color: "#fff", weight: 3, fillColor: "#1a73e8", fillOpacity: 1 },
};

function tileStyle(style, zoom, properties) {
  const fill = (properties.class && style.classColors[properties.class]) || style.fill_color || style.color;
  if (style.point) {
    // Small dots when zoomed out, so thousands of sites stay readable.
    const radius = Math.min(style.radius, Math.max(2, zoom - 8));
    return { radius, fill: true, fillColor: fill, fillOpacity: 0.85, color: "#fff", weight: radius > 3 ? 1 : 0, stroke: radius > 3 };
  }
  return { fill: style.fill_opacity > 0, fillColor: fill, fillOpacity: style.fill_opacity, color: style.color, weight: style.weight, stroke: style.weight > 0 };
}

/**
 * The server's display tiles send each class's points as one multipoint (a third of the bytes);
 * VectorGrid draws only a feature's first point, so each point is handed over on its own.
 */
function onePointPerFeature(tile) {
  for (const layer of Object.values(tile.layers)) {
    layer.features = layer.features?.flatMap((feature) => (feature.type === 1 && feature.geometry.length > 1
      ? feature.geometry.map((part) => ({ type: 1, properties: feature.properties, geometry: [part] }))
      : [feature]));
  }
  return tile;
}

// A tile the server refused (503 under a crowd, a dropped connection) comes back from VectorGrid
// as `{layers: []}` and would stay blank: it is asked again after 1, 2 and 4 s.
const TILE_RETRIES_S = [1, 2, 4];
const refused = (tile) => Array.isArray(tile.layers);

const DisplayGrid = L.VectorGrid.Protobuf.extend({
  _getVectorTilePromise(...args) {
    const fetchTile = () => L.VectorGrid.Protobuf.prototype._getVectorTilePromise.apply(this, args)
      .catch(() => ({ layers: [] }));
    const attempt = (retry) => fetchTile().then((tile) => (refused(tile) && retry < TILE_RETRIES_S.length
      ? new Promise((wait) => setTimeout(wait, TILE_RETRIES_S[retry] * 1000)).then(() => attempt(retry + 1))
      : tile));
    return attempt(0).then(onePointPerFeature);
  },
});

export class MapView {
  #map;
  #baseLayers = new Map();
  #baseControl = null;
  #zoomControl = null;
  #labels = {};
  #marks = new Map();
  #grid = null;
  #overlays = new Map();
  #sites = null;

  constructor(element, view) {
    this.#map = L.map(element, { zoomControl: false, minZoom: 5, maxZoom: 18 });
    this.#map.setView([view.lat, view.lon], view.zoom);
  }

  /**
   * The map's controls in the current language (`labels`: zoomIn, zoomOut, baseMap, close) and
   * the base maps of the configuration, one shown; `onChange(id)` is told which one the user picks.
   * If the tiles fail (offline, blocked) the plain background, boundaries and layers remain.
   */
  setControls({ baseMaps, titleOf, selected, onChange, labels }) {
    const map = this.#map;
    this.#labels = labels;
    this.#zoomControl?.remove();
    this.#zoomControl = L.control.zoom({ zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
    this.#baseControl?.remove();
    for (const layer of this.#baseLayers.values()) map.removeLayer(layer);
    this.#baseLayers = new Map(
      baseMaps.map((b) => [b.id, L.tileLayer(b.url, { attribution: creditHtml(b.attribution), maxNativeZoom: b.maxNativeZoom, maxZoom: 18 })]),
    );
    const chosen = this.#baseLayers.get(selected) || this.#baseLayers.values().next().value;
    chosen?.addTo(map);
    const choices = Object.fromEntries(baseMaps.map((b) => [escapeHtml(titleOf(b)), this.#baseLayers.get(b.id)]));
    this.#baseControl = L.control.layers(choices, null, { position: "topright" }).addTo(map);
    const toggle = this.#baseControl.getContainer().querySelector(".leaflet-control-layers-toggle");
    toggle?.setAttribute("title", labels.baseMap);
    toggle?.setAttribute("aria-label", labels.baseMap);
    map.off("baselayerchange").on("baselayerchange", (event) => {
      const entry = [...this.#baseLayers].find(([, layer]) => layer === event.layer);
      if (entry) onChange(entry[0]);
    });
  }

  /**
   * The raster overlays to show (config.json's hazardOverlays: each {id, urls, maxNativeZoom,
   * attribution}), over the base map and under the data layers; the others are removed.
   */
  showOverlays(overlays) {
    const wanted = new Set(overlays.map((o) => o.id));
    for (const [id, group] of this.#overlays) {
      if (!wanted.has(id)) {
        this.#map.removeLayer(group);
        this.#overlays.delete(id);
      }
    }
    for (const o of overlays) {
      if (this.#overlays.has(o.id)) continue;
      const options = { attribution: creditHtml(o.attribution), maxNativeZoom: o.maxNativeZoom, maxZoom: 18, opacity: 0.6, zIndex: 2 };
      this.#overlays.set(o.id, L.layerGroup(o.urls.map((url) => L.tileLayer(url, options))).addTo(this.#map));
    }
  }

  /** The current view: centre, zoom. */
  view() {
    const c = this.#map.getCenter();
    return { lon: c.lng, lat: c.lat, zoom: this.#map.getZoom() };
  }

  setView({ lon, lat, zoom }) { this.#map.setView([lat, lon], zoom); }
  flyTo([lon, lat], zoom) { this.#map.setView([lat, lon], Math.max(this.#map.getZoom(), zoom)); }
  fitBbox([w, s, e, n]) { this.#map.fitBounds([[s, w], [n, e]]); }

  /** [minLon, minLat, maxLon, maxLat] of the visible map. */
  visibleBbox() {
    const b = this.#map.getBounds();
    return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)];
  }

  /** Call `handler(lon, lat)` when the map is tapped or clicked. */
  onTap(handler) { this.#map.on("click", (event) => handler(event.latlng.lng, event.latlng.lat)); }
  onMoveEnd(handler) { this.#map.on("moveend", handler); }

  /** One marker per purpose ("tap", "selected", "me"); null removes it. */
  mark(purpose, lonLat) {
    if (this.#marks.has(purpose)) this.#map.removeLayer(this.#marks.get(purpose));
    this.#marks.delete(purpose);
    if (!lonLat) return;
    const marker = L.circleMarker([lonLat[1], lonLat[0]], { ...MARK_STYLES[purpose], interactive: false });
    this.#marks.set(purpose, marker.addTo(this.#map));
  }

  /**
   * The sites with a live status to mark (each {lonLat, badge: a DOM element, title, onSelect}),
   * over the layers; the previous marks go. A mark is a button for the keyboard and a reader
   * (its title says the name and status), and a tap on it selects the site.
   */
  showSites(sites) {
    if (this.#sites) this.#map.removeLayer(this.#sites);
    this.#sites = L.layerGroup(sites.map((site) => {
      const icon = L.divIcon({ className: "site-mark", html: site.badge, iconSize: null, iconAnchor: [0, 0] });
      const marker = L.marker([site.lonLat[1], site.lonLat[0]], { icon, title: site.title, alt: site.title, keyboard: true, zIndexOffset: 500 });
      marker.on("click", site.onSelect);
      return marker;
    })).addTo(this.#map);
  }

  /** Show a DOM element in a popup at [lon, lat]; `autoPan` moves the map to fit it. */
  showPopup(lonLat, element, autoPan = true) {
    const popup = L.popup({ maxWidth: 320, autoPan, autoPanPaddingTopLeft: [10, 60] })
      .setLatLng([lonLat[1], lonLat[0]]).setContent(element).openOn(this.#map);
    const close = popup.getElement()?.querySelector(".leaflet-popup-close-button");
    close?.setAttribute("aria-label", this.#labels.close);
    close?.setAttribute("title", this.#labels.close);
  }

  closePopup() { this.#map.closePopup(); }

  /**
   * Draw layers from the server's vector tiles (one multi-layer tile per tile position), so tens
   * of thousands of points or a detailed hazard layer cost the same as a few. `styles` maps a
   * layer id to its style; `tileUrl` is the tile template. `onLoad` runs when the view is drawn.
   */
  drawTiles(tileUrl, styles, onLoad) {
    if (this.#grid) this.#map.removeLayer(this.#grid);
    this.#grid = null;
    if (!tileUrl) return onLoad();
    const layerStyles = Object.fromEntries(Object.entries(styles).map(([id, style]) => [id, (props, zoom) => tileStyle(style, zoom, props)]));
    // Not interactive: a tap is resolved by the API (nearest feature or "what is here").
    this.#grid = new DisplayGrid(tileUrl, { vectorTileLayerStyles: layerStyles, interactive: false, rendererFactory: L.canvas.tile });
    this.#grid.on("load", onLoad);
    this.#grid.addTo(this.#map);
  }

  /** Tell Leaflet the container changed size (the panel grew): keeps the centre where it was. */
  refreshSize() { this.#map.invalidateSize({ animate: false }); }
}
