// Every API path the viewer uses, in one place (mirrors mapsvc/api/routers).
export const urls = {
  layers: () => "/api/layers",
  point: (lon, lat) => `/api/point?${new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6) })}`,
  items: (layerId, params) => `/api/collections/${encodeURIComponent(layerId)}/items?${new URLSearchParams(params)}`,
};
