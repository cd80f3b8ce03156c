// Requests to the mapsvc API; errors carry the server's ja/en message.
import { urls } from "./urls.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || `HTTP ${status}`);
    this.status = status;
    this.messageJa = body?.message_ja;
  }
}

async function getJSON(url, signal) {
  const response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export const listLayers = () => getJSON(urls.layers()).then((b) => b.layers);

/** What is at a point: municipality, ward, each hazard layer's answer. */
export const whatIsHere = (lon, lat) => getJSON(urls.point(lon, lat));

/** Features of a layer in a bbox [minLon, minLat, maxLon, maxLat]. */
export const getItems = (layerId, bbox, limit, signal) =>
  getJSON(urls.items(layerId, { bbox: bbox.map((v) => v.toFixed(5)).join(","), limit }), signal);
