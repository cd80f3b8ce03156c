// Every API path the viewer uses, in one place (mirrors mapsvc/api/routers).
export const urls = {
  layers: () => "/api/layers",
  items: (layerId, params) => `/api/collections/${encodeURIComponent(layerId)}/items?${new URLSearchParams(params)}`,
};
