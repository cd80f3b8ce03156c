import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeView, encodeView, sameView } from "../../web/js/permalink.js";

const DEFAULTS = { lon: 135.52, lat: 34.62, zoom: 10, base: "pale", layers: ["evacuation_sites"], lang: "ja" };

test("a view survives the round trip through its link", () => {
  const view = {
    lon: 135.50021, lat: 34.69374, zoom: 15, base: "photo", layers: ["aed", "shelters"],
    feature: { layer: "aed", id: "271004-X/1" }, lang: "en",
  };
  const hash = encodeView(view);
  assert.equal(hash, "#map=15/34.69374/135.50021&base=photo&layers=aed,shelters&feature=aed/271004-X/1&lang=en");
  assert.deepEqual(decodeView(hash, DEFAULTS), view);
});

test("a missing or malformed link falls back to the defaults, piece by piece", () => {
  assert.deepEqual(decodeView("", DEFAULTS), { ...DEFAULTS, feature: null });
  const view = decodeView("#map=99/500/abc&layers=aed,<script>,Shelters&lang=fr&feature=nolayer", DEFAULTS);
  assert.deepEqual([view.zoom, view.lat, view.lon], [10, 34.62, 135.52]);
  assert.deepEqual(view.layers, ["aed"]);
  assert.equal(view.lang, "ja");
  assert.equal(view.feature, null);
});

test("a view restored from a link is the same view, give or take a pixel of snapping", () => {
  const view = { ...DEFAULTS, zoom: 16, lat: 34.7025, lon: 135.498, feature: null };
  assert.ok(sameView(view, { ...view, lat: 34.702494, lon: 135.497993 }));
  assert.ok(!sameView(view, { ...view, lat: 34.7035 }));
  assert.ok(!sameView(view, { ...view, layers: ["aed"] }));
  assert.ok(!sameView(view, { ...view, feature: { layer: "aed", id: "1" } }));
});
