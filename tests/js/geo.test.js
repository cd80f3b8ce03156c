import assert from "node:assert/strict";
import { test } from "node:test";

import { distanceM, fold, formatDistance, metresPerPixel, routeLink } from "../../web/js/geo.js";

test("distances agree with the geodesic ones PostGIS gives within a few metres", () => {
  // Osaka Station to Osaka Castle: 3,248 m by PostGIS ST_Distance(geography).
  const m = distanceM([135.4959, 34.7025], [135.5262, 34.6873]);
  assert.ok(Math.abs(m - 3248) < 15, `got ${m}`);
  assert.equal(distanceM([135.5, 34.7], [135.5, 34.7]), 0);
});

test("distances read as metres nearby and kilometres further away", () => {
  assert.equal(formatDistance(849.6), "850 m");
  assert.equal(formatDistance(1234), "1.2 km");
});

test("route links open a walking route in the phone's maps app", () => {
  const url = new URL(routeLink([135.5, 34.7], [135.51, 34.69]));
  assert.equal(url.origin + url.pathname, "https://www.google.com/maps/dir/");
  assert.equal(url.searchParams.get("destination"), "34.700000,135.500000");
  assert.equal(url.searchParams.get("origin"), "34.690000,135.510000");
  assert.equal(url.searchParams.get("travelmode"), "walking");
});

test("character width does not matter when matching names", () => {
  assert.equal(fold("ＡＥＤ１号"), fold("aed1号"));
  assert.equal(fold("ｵｵｻｶ"), "オオサカ");
});

test("a pixel at zoom 16 in Osaka is about two metres", () => {
  assert.ok(Math.abs(metresPerPixel(34.7, 16) - 1.96) < 0.02);
});
