// Requests to the mapsvc API; errors carry the server's ja/en message.
const q = (params) => new URLSearchParams(params).toString();

/** Every API path the viewer uses, in one place (mirrors mapsvc/api/routers). */
export const urls = {
  config: () => "/config.json",
  layers: () => "/api/layers",
  point: (lon, lat) => `/api/point?${q({ lon: lon.toFixed(6), lat: lat.toFixed(6) })}`,
  nearest: (layerId, lon, lat, limit, filter = {}) =>
    `/api/nearest?${q({ layer: layerId, lon: lon.toFixed(6), lat: lat.toFixed(6), limit, ...filter })}`,
  search: (text) => `/api/search?${q({ q: text, limit: 20 })}`,
  items: (layerId, params) => `/api/collections/${encodeURIComponent(layerId)}/items?${q(params)}`,
  item: (layerId, id) => `/api/collections/${encodeURIComponent(layerId)}/items/${encodeURIComponent(id)}`,
  // One vector tile holding every listed layer: one request per tile, whatever is switched on.
  tiles: (layerIds) => `/api/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=${layerIds.join(",")}`,
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || `HTTP ${status}`);
    this.status = status;
    this.messageJa = body?.message_ja;
  }
}

// No custom headers: the page preloads /api/layers and the first tiles, and a preload is only
// reused by a request that looks exactly like it.
async function getJSON(url, signal) {
  const response = await fetch(url, { signal });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** The configuration the server wrote into the page, or else config.json. */
export function getConfig() {
  const embedded = document.getElementById("viewer-config")?.textContent;
  return embedded ? Promise.resolve(JSON.parse(embedded)) : getJSON(urls.config());
}
export const listLayers = () => getJSON(urls.layers()).then((b) => b.layers);

/** What is at a point: municipality, ward, each hazard layer's answer. */
export const whatIsHere = (lon, lat) => getJSON(urls.point(lon, lat));

/** The `limit` nearest features of a layer to [lon, lat], each with properties.distance_m. */
export const nearest = (layerId, [lon, lat], limit, filter, signal) =>
  getJSON(urls.nearest(layerId, lon, lat, limit, filter), signal).then((b) => b.features);

/** Places and facilities matching a name or address. */
export const search = (text, signal) => getJSON(urls.search(text), signal);

/** Features of a layer in a bbox [minLon, minLat, maxLon, maxLat]. */
export const getItems = (layerId, bbox, limit, signal) =>
  getJSON(urls.items(layerId, { bbox: bbox.map((v) => v.toFixed(5)).join(","), limit }), signal);

export const getItem = (layerId, id) => getJSON(urls.item(layerId, id));
