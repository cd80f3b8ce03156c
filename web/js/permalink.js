// The view as a URL fragment and back: what a shared link restores. Pure (tested with node --test).

/** `#map=zoom/lat/lon&base=id&layers=a,b&feature=layer/id&lang=en` for a view. */
export function encodeView(view) {
  const params = new URLSearchParams();
  params.set("map", `${view.zoom}/${view.lat.toFixed(5)}/${view.lon.toFixed(5)}`);
  params.set("base", view.base);
  params.set("layers", view.layers.join(","));
  if (view.feature) params.set("feature", `${view.feature.layer}/${view.feature.id}`);
  params.set("lang", view.lang);
  // Commas and slashes are safe in a fragment: keep the link readable.
  return `#${params.toString().replaceAll("%2C", ",").replaceAll("%2F", "/")}`;
}

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;

/** The view in a fragment; anything missing or malformed falls back to `defaults`. */
export function decodeView(hash, defaults) {
  const params = new URLSearchParams(String(hash).replace(/^#/, ""));
  const view = { ...defaults, feature: null };
  const [zoom, lat, lon] = (params.get("map") || "").split("/").map(Number);
  if (Number.isInteger(zoom) && zoom >= 0 && zoom <= 20 && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
    Object.assign(view, { zoom, lat, lon });
  }
  if (params.has("base")) view.base = params.get("base");
  if (params.has("layers")) view.layers = params.get("layers").split(",").filter((id) => IDENTIFIER.test(id));
  const feature = params.get("feature");
  if (feature && feature.includes("/")) {
    const [layer, ...rest] = feature.split("/");
    if (IDENTIFIER.test(layer) && rest.join("/")) view.feature = { layer, id: rest.join("/") };
  }
  if (["ja", "en"].includes(params.get("lang"))) view.lang = params.get("lang");
  return view;
}

/**
 * Whether two views are the same as a person sees them: the map snaps its centre to whole
 * pixels, so a restored view may differ from its link by a fraction of a pixel.
 */
export function sameView(a, b) {
  const twoPixelsDeg = (2 * 360) / 2 ** (a.zoom + 8);
  return a.zoom === b.zoom && Math.abs(a.lat - b.lat) < twoPixelsDeg && Math.abs(a.lon - b.lon) < twoPixelsDeg
    && a.base === b.base && a.lang === b.lang && a.layers.join(",") === b.layers.join(",")
    && `${a.feature?.layer}/${a.feature?.id}` === `${b.feature?.layer}/${b.feature?.id}`;
}
