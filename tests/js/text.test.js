import assert from "node:assert/strict";
import { test } from "node:test";

import {
  absenceReasons, ago, cachedTime, coverageText, dataDateText, fill, formatValue, isOpen, safeLink, scenarioHeading, statusLine, statusParts,
} from "../../web/js/text.js";

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

test("coverage reads as the part of the prefecture a layer covers", () => {
  const only = { municipalities: 1, of: 43, prefectureWide: false, only: { ja: "大阪市", en: "Osaka-shi" } };
  assert.equal(coverageText("ja", only), "大阪市のみ");
  assert.equal(coverageText("en", only), "Osaka-shi only");
  assert.equal(coverageText("ja", { municipalities: 3, of: 43, prefectureWide: false, only: null }), "3 / 43 市町村");
  assert.equal(coverageText("en", { municipalities: 3, of: 43, prefectureWide: false, only: null }), "3 of 43 municipalities");
  assert.equal(coverageText("ja", { municipalities: 43, of: 43, prefectureWide: false, only: null }), "");
  assert.equal(coverageText("ja", { municipalities: 0, of: 43, prefectureWide: true, only: null }), "府全域");
  const two = [{ ja: "大阪市", en: "Osaka-shi" }, { ja: "堺市", en: "Sakai-shi" }];
  assert.equal(coverageText("ja", { municipalities: 2, of: 43, prefectureWide: false, names: two }), "大阪市・堺市のみ");
  assert.equal(coverageText("en", { municipalities: 2, of: 43, prefectureWide: false, names: two }), "Osaka-shi, Sakai-shi only");
  const five = Array.from({ length: 5 }, (_, i) => ({ ja: `市${i}`, en: `City ${i}` }));
  assert.equal(coverageText("ja", { municipalities: 5, of: 43, prefectureWide: false, names: five }), "5 / 43 市町村");
});

test("the data's own date reads as people write it", () => {
  assert.equal(dataDateText("ja", "2015"), "2015年");
  assert.equal(dataDateText("ja", "2026-04"), "2026年4月");
  assert.equal(dataDateText("ja", "2026-04-01"), "2026年4月1日");
  assert.equal(dataDateText("en", "2026-04"), "2026-04");
});

test("a cached answer says when it was made, in Japan's time", () => {
  assert.equal(cachedTime("ja", "Mon, 07 Dec 2026 11:30:00 GMT"), "2026/12/07 20:30");
  assert.equal(cachedTime("en", "Mon, 07 Dec 2026 11:30:00 GMT"), "07/12/2026, 20:30");
  assert.equal(cachedTime("ja", ""), "日時不明");
  assert.match(fill("ja", "cachedAnswer", { time: "2026/12/07 20:30" }), /^保存済みの回答です（2026\/12\/07 20:30時点）/);
});

test("a feature that may be absent says why, in words", () => {
  const layer = {
    may_be_absent: ["on_fire_engine", "limited_hours"],
    attributes: [
      { name: "on_fire_engine", label: { ja: "消防車に積載", en: "On a fire engine" } },
      { name: "limited_hours", label: { ja: "時間限定", en: "Limited hours" } },
    ],
  };
  assert.deepEqual(absenceReasons("en", layer, { on_fire_engine: true }), ["On a fire engine"]);
  assert.deepEqual(absenceReasons("ja", layer, { on_fire_engine: false, limited_hours: true }), ["時間限定"]);
  assert.deepEqual(absenceReasons("ja", { attributes: [] }, { on_fire_engine: true }), []);
});

test("a scenario heading shows the exact depth beside the class where the data has it", () => {
  const surge = {
    hazard: { ja: "高潮", en: "Storm surge" },
    class: { ja: "3.0〜5.0m", en: "3 to 5 m" },
    depth_m: 3.68,
  };
  assert.equal(scenarioHeading("ja", surge), "高潮 3.0〜5.0m（3.68m）");
  assert.equal(scenarioHeading("en", surge), "Storm surge: 3 to 5 m (3.68 m)");
  assert.equal(scenarioHeading("en", { ...surge, depth_m: null }), "Storm surge: 3 to 5 m");
  assert.equal(scenarioHeading("ja", { hazard: surge.hazard, class: null }), "高潮");
});

const NOW = Date.parse("2026-12-07T11:35:00Z"); // 20:35 in Japan
const openSite = {
  status: "open", crowding: "somewhat", evacuees: 45, capacity: 100, statusUpdated: "2026-12-07T11:30:00Z", mode: "real",
};

test("a site's status reads status, crowding, evacuees and how long ago, in both languages", () => {
  assert.equal(statusLine("ja", openSite, NOW), "開設・やや混雑・避難者 45 / 100 人・5分前に更新（20:30）");
  assert.equal(statusLine("en", openSite, NOW), "Open · Somewhat crowded · evacuees 45 / 100 · updated 5 min ago (20:30)");
  assert.ok(isOpen(openSite));
});

test("a closed site says neither crowding nor evacuees; nothing published says so, never 'not opened'", () => {
  const closed = { ...openSite, status: "closed", crowding: "full" };
  assert.equal(statusLine("ja", closed, NOW), "閉鎖・5分前に更新（20:30）");
  assert.ok(!isOpen(closed));
  const silent = { status: "not_opened", crowding: "unknown", evacuees: null, capacity: 300, statusUpdated: null, mode: "real" };
  assert.deepEqual(statusParts("ja", silent, NOW), ["開設状況は未発表"]);
  assert.deepEqual(statusParts("en", {}, NOW), ["status not published"]);
  assert.ok(!isOpen(silent));
});

test("a drill's opening is marked as not real and never counts as open", () => {
  const drill = { ...openSite, mode: "drill" };
  assert.match(statusLine("ja", drill, NOW), /^開設 — 訓練（実際の開設ではありません）・/);
  assert.match(statusLine("en", drill, NOW), /^Open — Drill: not a real opening · /);
  assert.ok(!isOpen(drill));
});

test("how long ago: just now, minutes, hours, days", () => {
  const at = (minutes) => new Date(NOW - minutes * 60000).toISOString();
  assert.deepEqual(["ja", "en"].map((lang) => ago(lang, at(0.5), NOW)), ["たった今", "just now"]);
  assert.deepEqual(["ja", "en"].map((lang) => ago(lang, at(59), NOW)), ["59分前", "59 min ago"]);
  assert.deepEqual(["ja", "en"].map((lang) => ago(lang, at(150), NOW)), ["2時間前", "2 h ago"]);
  assert.deepEqual(["ja", "en"].map((lang) => ago(lang, at(3 * 1440), NOW)), ["3日前", "3 days ago"]);
});
