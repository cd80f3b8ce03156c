// Distances and map-app links for people on foot. Pure (tested with node --test).

const EARTH_RADIUS_M = 6371008.8;
const rad = (deg) => (deg * Math.PI) / 180;

/** Great-circle distance in metres between [lon, lat] points (haversine: ample for a city). */
export function distanceM([lon1, lat1], [lon2, lat2]) {
  const a = Math.sin(rad(lat2 - lat1) / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}

/** "850 m" / "1.2 km". */
export const formatDistance = (m) => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);

/** A walking route to [lon, lat] in the phone's maps app (Google Maps' universal link). */
export function routeLink([lon, lat], from = null) {
  const params = new URLSearchParams({ api: "1", destination: `${lat.toFixed(6)},${lon.toFixed(6)}`, travelmode: "walking" });
  if (from) params.set("origin", `${from[1].toFixed(6)},${from[0].toFixed(6)}`);
  return `https://www.google.com/maps/dir/?${params}`;
}

/** Metres covered by one screen pixel at a latitude and Web Mercator zoom. */
export const metresPerPixel = (lat, zoom) => (40075016.686 * Math.cos(rad(lat))) / 2 ** (zoom + 8);

/** Reads a string the same whatever the width of its characters (ｱ = ア, ＡＢ１ = ab1). */
export const fold = (text) => String(text ?? "").normalize("NFKC").toLowerCase();
