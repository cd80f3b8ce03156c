// Sharing a site with family: a link that opens the viewer on that very site, and the same link
// as a QR code to show a phone beside you. The QR code comes from kazuhikoarase's
// qrcode-generator (npm, MIT, pinned in package.json, served by the app under /vendor/ like
// Leaflet: no CDN), loaded on the first share only.
import { encodeView } from "./permalink.js";

const SITE_ZOOM = 16;
const QR_MODULE = "/vendor/qrcode-generator/qrcode.mjs";

/**
 * The permalink of a site: the map at the site, its layer shown and the site selected (so the
 * link opens its popup, with its status as it is when opened), in the sharer's language.
 */
export function siteLink(origin, { layer, id, lonLat, base, lang }) {
  const view = { lon: lonLat[0], lat: lonLat[1], zoom: SITE_ZOOM, base, layers: [layer], feature: { layer, id }, lang };
  return `${origin}/${encodeView(view)}`;
}

/** `text` as a QR code: rows of booleans (dark modules), error correction M (15 %). */
export async function qrModules(text, load = () => import(QR_MODULE)) {
  const { default: qrcode } = await load();
  const code = qrcode(0, "M"); // 0: the smallest version that holds the text
  code.addData(text, "Byte");
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => code.isDark(row, col)));
}
