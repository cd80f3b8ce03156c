// Requests to the mapsvc API; errors carry the server's ja/en message.
const q = (params) => new URLSearchParams(params).toString();

/** Every API path the viewer uses, in one place (mirrors mapsvc/api/routers). */
export const urls = {
  config: () => "/config.json",
  layers: () => "/api/layers",
  point: (lon, lat) => `/api/point?${q({ lon: lon.toFixed(6), lat: lat.toFixed(6) })}`,
  nearest: (layerId, lon, lat, limit, filter = {}, order = "availability") =>
    `/api/nearest?${q({ layer: layerId, lon: lon.toFixed(6), lat: lat.toFixed(6), limit, ...filter, ...(order === "distance" ? { order } : {}) })}`,
  search: (text) => `/api/search?${q({ q: text, limit: 20 })}`,
  items: (layerId, params) => `/api/collections/${encodeURIComponent(layerId)}/items?${q(params)}`,
  item: (layerId, id) => `/api/collections/${encodeURIComponent(layerId)}/items/${encodeURIComponent(id)}`,
  // One vector tile holding every listed layer: one request per tile, whatever is switched on.
  tiles: (layerIds) => `/api/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=${layerIds.join(",")}`,
  emergencies: (bbox) => `/api/emergencies?${q({ bbox: bboxParam(bbox) })}`,
  municipalities: () => "/api/municipalities",
};

const bboxParam = (bbox) => bbox.map((v) => v.toFixed(5)).join(",");

// The layers whose items carry a shelter's live status (mapsvc/services/shelter_status.py's
// STATUS_LAYERS). Their answers are always revalidated (If-None-Match: a 304 costs little):
// the browser's cache may keep other answers for a minute, but a status must never be one
// minute old without saying so.
const STATUS_LAYERS = new Set(["evacuation_sites", "shelters"]);
export const carriesStatus = (layerId) => STATUS_LAYERS.has(layerId);
const cacheFor = (layerId) => (carriesStatus(layerId) || layerId === STATUS_COLLECTION ? "no-cache" : "default");

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || `HTTP ${status}`);
    this.status = status;
    this.messageJa = body?.message_ja;
  }
}

// A phone on a dying network must hear "could not check" rather than wait for ever.
const ANSWER_TIMEOUT_MS = 20000;
// The service worker's mark on an answer it served from its cache (sw.js): when it was made.
export const CACHED_HEADER = "x-mapsvc-cached-at";

/** Why a request failed, for the words shown: "offline" (no network, timed out) or "error". */
export const failureKind = (error) => (error instanceof ApiError ? "error" : "offline");

// No custom headers: the page preloads /api/layers and the first tiles, and a preload is only
// reused by a request that looks exactly like it. An object answered from the service worker's
// cache carries `cachedAt` (the server's Date of the copy), so that it is never shown as fresh.
async function getJSON(url, signal, cache = "default") {
  const timeout = AbortSignal.timeout(ANSWER_TIMEOUT_MS);
  const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, cache });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  const cachedAt = response.headers.get(CACHED_HEADER);
  if (cachedAt !== null && body && typeof body === "object") body.cachedAt = cachedAt;
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

/**
 * The `limit` nearest features of a layer to [lon, lat] (a FeatureCollection, each feature with
 * properties.distance_m). By "availability" those that may be absent (a fire-engine AED) come
 * last; "distance" is for finding what a tap is on.
 */
export const nearest = (layerId, [lon, lat], limit, filter, signal, order = "availability") =>
  getJSON(urls.nearest(layerId, lon, lat, limit, filter, order), signal, cacheFor(layerId));

/** Places and facilities matching a name, and the town an address is in (`address`). */
export const search = (text, signal) => getJSON(urls.search(text), signal);

/** Features of a layer in a bbox [minLon, minLat, maxLon, maxLat]. */
export const getItems = (layerId, bbox, limit, signal, filter = {}) =>
  getJSON(urls.items(layerId, { bbox: bboxParam(bbox), limit, ...filter }), signal, cacheFor(layerId));

export const getItem = (layerId, id, signal) => getJSON(urls.item(layerId, id), signal, cacheFor(layerId));

/** The municipalities' disasters on now (real mode only) whose area touches the bbox. */
export const emergencies = (bbox, signal) => getJSON(urls.emergencies(bbox), signal, "no-cache");

/** The prefecture's municipalities and wards: code, name_ja, name_en, kind, parent_code. */
export const listMunicipalities = () => getJSON(urls.municipalities()).then((b) => b.municipalities);

const STATUS_COLLECTION = "shelter_status";

/** A status item's id ("evacuation_sites:271004-E27100…") as the site's layer and its id there. */
export function siteOf(itemId) {
  const at = String(itemId).indexOf(":");
  return { layer: String(itemId).slice(0, at), id: String(itemId).slice(at + 1) };
}

// The collection lists every published site (status null where none is recorded): only those
// with a status recorded at all are asked for, as "changed since 1970" (a URL that never changes,
// so nginx and the browser revalidate one answer).
const RECORDED = { datetime: "1970-01-01T00:00:00Z/.." };

/** The sites with a status recorded (real mode) in a bbox: their points and status properties. */
export const siteStatuses = (bbox, limit, signal) => getItems(STATUS_COLLECTION, bbox, limit, signal, RECORDED);

// The status properties a site's item carries (SiteStatus.as_properties in the service).
const STATUS_PROPERTIES = ["status", "crowding", "evacuees", "capacity", "statusUpdated", "mode"];

/**
 * The sites of an answer (a FeatureCollection of a status layer) with their status: those the
 * answer gives without one (`/api/nearest` does) get it from the status collection, one small
 * revalidated request each; a site with none recorded comes back without `statusUpdated`
 * ("not published"). A failure fails the whole: a status never silently goes missing.
 */
export async function withSiteStatus(layerId, found, signal) {
  const features = await Promise.all(found.features.map(async (f) => {
    if ("status" in f.properties) return f;
    const { properties } = await getJSON(urls.item(STATUS_COLLECTION, `${layerId}:${f.id}`), signal, "no-cache");
    return { ...f, properties: { ...f.properties, ...Object.fromEntries(STATUS_PROPERTIES.map((k) => [k, properties[k]])) } };
  }));
  return { ...found, features };
}
