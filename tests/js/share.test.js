import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeView } from "../../web/js/permalink.js";
import { qrModules, siteLink } from "../../web/js/share.js";

const qrcodeGenerator = () => import("../../node_modules/qrcode-generator/dist/qrcode.mjs");

test("a site's link opens the viewer on that site, its layer shown, in the sharer's language", () => {
  const link = siteLink("https://map.example.jp", {
    layer: "shelters", id: "271004-E2710000001101", lonLat: [135.50021, 34.69374], base: "pale", lang: "en",
  });
  assert.ok(link.startsWith("https://map.example.jp/#map=16/34.69374/135.50021&"));
  const view = decodeView(new URL(link).hash, { layers: [], lang: "ja" });
  assert.deepEqual(view.feature, { layer: "shelters", id: "271004-E2710000001101" });
  assert.deepEqual(view.layers, ["shelters"]);
  assert.equal(view.lang, "en");
});

test("the QR code of a link is a square with the three finder patterns in its corners", async () => {
  const link = "https://map.example.jp/#map=16/34.69374/135.50021&base=pale&layers=shelters&feature=shelters/271004-E2710000001101&lang=ja";
  const modules = await qrModules(link, qrcodeGenerator);
  const size = modules.length;
  assert.equal((size - 17) % 4, 0); // version v is 17 + 4v modules wide
  assert.ok(size > 21, "a link this long needs more than version 1");
  assert.ok(modules.every((row) => row.length === size));
  // A finder pattern: a dark 7×7 ring, a light ring inside, a dark 3×3 centre.
  const finder = (top, left) => [0, 1, 2, 3, 4, 5, 6].every((r) => [0, 1, 2, 3, 4, 5, 6].every((c) => {
    const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
    return modules[top + r][left + c] === (ring !== 2);
  }));
  assert.ok(finder(0, 0) && finder(0, size - 7) && finder(size - 7, 0));
  const other = await qrModules("https://map.example.jp/#other", qrcodeGenerator);
  assert.notDeepEqual(other, modules.slice(0, other.length));
});
