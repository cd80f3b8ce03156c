import assert from "node:assert/strict";
import { test } from "node:test";

import { formatValue, safeLink } from "../../web/js/text.js";

const schoolClass = {
  type: "enum",
  values: [{ value: "16001", label: { ja: "小学校", en: "Elementary school" } }],
};

test("flags read as words in both languages", () => {
  assert.equal(formatValue("ja", { type: "flag" }, true), "○");
  assert.equal(formatValue("en", { type: "flag" }, "conditional"), "conditional");
});

test("enum codes show their labels", () => {
  assert.equal(formatValue("ja", schoolClass, "16001"), "小学校");
  assert.equal(formatValue("en", schoolClass, 16001), "Elementary school");
  assert.equal(formatValue("en", schoolClass, "99999"), "99999");
});

test("only http and https become links", () => {
  assert.equal(safeLink("https://www.city.kishiwada.osaka.jp/"), "https://www.city.kishiwada.osaka.jp/");
  assert.equal(safeLink("javascript:alert(1)"), null);
  assert.equal(safeLink("data:text/html,<script>alert(1)</script>"), null);
  assert.equal(safeLink("not a url"), null);
});
