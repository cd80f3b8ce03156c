// Text for people: every UI string in Japanese and English, and feature values written out.
// Pure: no DOM, no Leaflet (tested with node --test).
const STRINGS = {
  ja: {
    title: "広域デジタルマップ", layers: "レイヤー", langButton: "EN", langLabel: "English",
    map: "地図", noData: "データ未公開", zoomIn: "拡大すると表示されます", loadFailed: "読み込みに失敗しました",
    yes: "○", no: "—", conditional: "△（条件付き）",
    source: "出典", license: "ライセンス", updated: "更新日", publishedBy: "提供",
    nearestBuilding: "すぐ近くの建物",
    here: "この場所", tapHint: "地図をタップすると、その場所の災害の危険と避難先を表示します",
    nearestSite: "この災害で最寄りの避難場所", nearestAnySite: "最寄りの指定緊急避難場所（災害の種類を問わず）", outsidePrefecture: "この場所は対象区域の外です", metres: "m",
    info: "情報", list: "一覧", searchTab: "検索", panelToggle: "パネルを表示／非表示",
    locate: "現在地", locating: "現在地を確認しています…",
    locateFailed: "現在地を取得できませんでした。地図をタップした場所（または地図の中心）から探します",
    nearestOf: "近くの", nearestFrom: "からの距離", fromMe: "現在地", fromTap: "タップした場所", fromCentre: "地図の中心",
    route: "経路", showOnMap: "地図で見る", noneFound: "見つかりませんでした",
    textSize: "文字", textSizeLabel: "文字を大きくする",
    sortBy: "並べ替え", byDistance: "近い順", byName: "名前順",
    listEmpty: "この範囲に表示中のレイヤーの施設はありません", listMore: "件のうち近い順に表示しています。拡大すると絞り込めます",
    listHint: "地図に表示している施設の一覧（地図の中心から近い順）",
    searchLabel: "施設名・住所・市区町村名で検索", searchButton: "検索", places: "市区町村", facilities: "施設",
    baseMap: "背景地図", legend: "凡例", offline: "オフラインです。保存済みのデータを表示しています",
    zoomInButton: "拡大", zoomOutButton: "縮小", close: "閉じる",
    dataDate: "データの時点", prefectureWide: "府全域", notPublishedHere: "この市町村はまだ公開していません", coverageLink: "市町村ごとの公開状況", forStaff: "自治体職員の方",
    checking: "確認しています…", checkFailed_offline: "確認できませんでした（オフライン）", checkFailed_error: "確認できませんでした（サーバーエラー）",
    checkFailedNote: "この場所が安全かどうかは分かりません。通信できる所で、もう一度確認してください", retry: "もう一度確認する",
    cachedAnswer: "保存済みの回答です（{time}時点）。最新とは限りません",
    addressResult: "住所", addressCandidates: "住所の候補（町丁目）", addressNotFound: "この住所の町丁目は見つかりませんでした",
    nationalMaps: "国の参考図（重ねるハザードマップ）",
    nationalMapsNote: "国土交通省・国土地理院の全国の図です。市町村がデータを公開していない所の参考にしてください。「この場所」の回答はこの図を読みません。色がない所も安全という意味ではありません",
    statusNotPublished: "開設状況は未発表", evacuees: "避難者", people: "人", updatedAgo: "{ago}に更新（{time}）",
    justNow: "たった今", minutesAgo: "{n}分前", hoursAgo: "{n}時間前", daysAgo: "{n}日前",
    drillMark: "{mode}（実際の開設ではありません）", savedStatus: "保存済みの開設状況です（{time}時点）。今は変わっているかもしれません",
    openOnly: "開設中の所を探す", noneOpen: "開設中と発表された場所はありません", nearestDesignated: "。近い順に指定された所を表示します",
    alertLevel: "警戒レベル{level}", emergencySince: "{time}から", openSitesFor: "{hazard}：近くの開設中の避難場所", emergencyRegion: "災害の情報",
    share: "家族に知らせる", shareHint: "このリンクを送るか、QRコードを読み取ってもらうと、この場所が地図で開きます",
    copyLink: "リンクをコピー", copied: "コピーしました", qrLabel: "この場所へのリンクのQRコード", qrFailed: "QRコードを作れませんでした（オフライン）。リンクを送ってください",
    addressSuggest: "似た町名", townLevel: "{town}（町丁目の代表地点）の回答です。建物ごとの位置ではなく、おおよその場所です",
  },
  en: {
    title: "Wide-area digital map", layers: "Layers", langButton: "日本語", langLabel: "日本語",
    map: "Map", noData: "no data published", zoomIn: "zoom in to see", loadFailed: "could not load",
    yes: "yes", no: "—", conditional: "conditional",
    source: "Source", license: "Licence", updated: "Updated", publishedBy: "Published by",
    nearestBuilding: "The building next to this spot",
    here: "This place", tapHint: "Tap the map to see the hazards there and where to evacuate",
    nearestSite: "Nearest site for this hazard", nearestAnySite: "Nearest evacuation site (any hazard)", outsidePrefecture: "This place is outside the area covered", metres: "m",
    info: "Info", list: "List", searchTab: "Search", panelToggle: "Show or hide the panel",
    locate: "Near me", locating: "Finding your location…",
    locateFailed: "Your location is not available: searching from the tapped place (or the map centre)",
    nearestOf: "Nearest", nearestFrom: "distance from", fromMe: "your location", fromTap: "the tapped place", fromCentre: "the map centre",
    route: "Route", showOnMap: "Show on map", noneFound: "Nothing found",
    textSize: "A+", textSizeLabel: "Larger text",
    sortBy: "Sort", byDistance: "Nearest first", byName: "By name",
    listEmpty: "No facilities of the layers shown in this area", listMore: "found; the nearest are listed. Zoom in to narrow down",
    listHint: "Facilities shown on the map (nearest to the map centre first)",
    searchLabel: "Search facility, address or municipality", searchButton: "Search", places: "Municipalities", facilities: "Facilities",
    baseMap: "Base map", legend: "Legend", offline: "You are offline: showing saved data",
    zoomInButton: "Zoom in", zoomOutButton: "Zoom out", close: "Close",
    dataDate: "Data as of", prefectureWide: "whole prefecture", notPublishedHere: "not yet published by this municipality", coverageLink: "What each municipality publishes", forStaff: "For municipal staff",
    checking: "Checking…", checkFailed_offline: "Could not check (offline)", checkFailed_error: "Could not check (server error)",
    checkFailedNote: "This says nothing about whether the place is safe. Check again where you have a connection", retry: "Check again",
    cachedAnswer: "Saved answer from {time}: it may be out of date",
    addressResult: "Address", addressCandidates: "Possible towns for this address", addressNotFound: "No town (町丁目) found for this address",
    nationalMaps: "National reference maps (重ねるハザードマップ)",
    nationalMapsNote: "Nationwide maps of MLIT and GSI, for reference where a municipality publishes no data. The answer for a tapped place does not read them, and a place without colour is not thereby safe",
    statusNotPublished: "status not published", evacuees: "evacuees", people: "", updatedAgo: "updated {ago} ({time})",
    justNow: "just now", minutesAgo: "{n} min ago", hoursAgo: "{n} h ago", daysAgo: "{n} days ago",
    drillMark: "{mode}: not a real opening", savedStatus: "Saved status from {time}: it may have changed since",
    openOnly: "Find open sites", noneOpen: "None is reported open", nearestDesignated: ". The nearest designated sites follow",
    alertLevel: "alert level {level}", emergencySince: "since {time}", openSitesFor: "{hazard}: open sites near me", emergencyRegion: "Disaster information",
    share: "Share with family", shareHint: "Send this link, or let them scan the QR code: it opens this place on the map",
    copyLink: "Copy link", copied: "Copied", qrLabel: "QR code of the link to this place", qrFailed: "Could not make the QR code (offline): send the link instead",
    addressSuggest: "Similar town names", townLevel: "Answer for {town} (the town's representative point): approximate, not your building",
  },
};

export const t = (lang, key) => STRINGS[lang][key];

// A shelter's status in words: the same words as mapsvc/services/shelter_status.py's
// STATUS_LABELS, MODE_LABELS and CROWDING_LABELS (EEI v1.1 item 21's 開設状況, L-Alert's modes,
// VACAN's crowding levels); tests/web/test_status_words.py keeps the two equal.
export const STATUS_WORDS = {
  status: {
    not_opened: { ja: "未開設", en: "Not opened" }, open: { ja: "開設", en: "Open" }, closed: { ja: "閉鎖", en: "Closed" },
    unknown: { ja: "不明", en: "Unknown" }, permanent: { ja: "常設", en: "Always open" },
  },
  mode: { real: { ja: "本番", en: "Real" }, drill: { ja: "訓練", en: "Drill" }, test: { ja: "テスト", en: "Test" } },
  crowding: {
    vacant: { ja: "空いています", en: "Vacant" }, somewhat: { ja: "やや混雑", en: "Somewhat crowded" },
    crowded: { ja: "混雑", en: "Crowded" }, full: { ja: "満", en: "Full" }, unknown: { ja: "不明", en: "Unknown" },
  },
};
// Statuses in which a site takes people in: only there do crowding and evacuees mean anything.
const RECEIVING = new Set(["open", "permanent"]);
/** A string with its {placeholders} filled in. */
export const fill = (lang, key, values) => t(lang, key).replace(/\{(\w+)\}/g, (_, name) => values[name]);
export const pick = (lang, text) => (text ? text[lang] : "");

const NAMED_UP_TO = 4; // more publishers than this are counted, not named

/**
 * One scenario of a point answer as a heading: the hazard, its class and the exact depth where
 * the data has it ("高潮 3.0〜5.0m（3.68m）", "Storm surge: 3 to 5 m (3.68 m)").
 */
export function scenarioHeading(lang, scenario) {
  const hazard = pick(lang, scenario.hazard);
  if (!scenario.class) return hazard;
  const depth = typeof scenario.depth_m === "number"
    ? (lang === "ja" ? `（${scenario.depth_m}m）` : ` (${scenario.depth_m} m)`) : "";
  return lang === "ja" ? `${hazard} ${pick(lang, scenario.class)}${depth}` : `${hazard}: ${pick(lang, scenario.class)}${depth}`;
}

/**
 * How much of the prefecture a layer covers, or "" where it is everywhere (or nowhere):
 * "大阪市のみ" / "Osaka-shi only", "大阪市・堺市のみ" (up to four named), "12 / 43 市町村" /
 * "12 of 43 municipalities", "府全域".
 */
export function coverageText(lang, coverage) {
  if (!coverage) return "";
  if (coverage.prefectureWide) return t(lang, "prefectureWide");
  const { municipalities: n, of } = coverage;
  if (!n || n >= of) return "";
  const names = coverage.names || (coverage.only ? [coverage.only] : []);
  if (names.length && names.length <= NAMED_UP_TO) {
    return lang === "ja" ? `${names.map((m) => m.ja).join("・")}のみ` : `${names.map((m) => m.en).join(", ")} only`;
  }
  return lang === "ja" ? `${n} / ${of} 市町村` : `${n} of ${of} municipalities`;
}

/** A data date ("2015", "2026-04", "2026-04-01") as people write it: "2015年", "2026年4月". */
export function dataDateText(lang, value) {
  const [year, month, day] = value.split("-").map(Number);
  if (lang === "ja") return `${year}年${month ? `${month}月` : ""}${day ? `${day}日` : ""}`;
  return value;
}

/** A value as text, with flags in words and enum codes as their labels. */
export function formatValue(lang, attribute, value) {
  if (value === true) return t(lang, "yes");
  if (value === false) return t(lang, "no");
  if (value === "conditional") return t(lang, "conditional");
  if (attribute?.type === "enum") {
    const match = attribute.values.find((v) => v.value === String(value));
    if (match) return pick(lang, match.label);
  }
  return String(value);
}

/** `value` as an http(s) URL, or null: javascript:, data: and the like never become links. */
export function safeLink(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** When a cached copy was made (an HTTP Date) or a disaster mode began (ISO), in Japan's time: "2026/12/7 20:30". */
export function cachedTime(lang, httpDate) {
  const when = new Date(httpDate);
  if (Number.isNaN(when.getTime())) return lang === "ja" ? "日時不明" : "an unknown time";
  return when.toLocaleString(lang === "ja" ? "ja-JP" : "en-GB", { timeZone: "Asia/Tokyo", dateStyle: "short", timeStyle: "short" });
}

/** How long ago an ISO time was, as people say it: "たった今", "5分前" / "5 min ago", "2時間前". */
export function ago(lang, iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
  if (minutes < 1) return t(lang, "justNow");
  if (minutes < 60) return fill(lang, "minutesAgo", { n: minutes });
  if (minutes < 24 * 60) return fill(lang, "hoursAgo", { n: Math.floor(minutes / 60) });
  return fill(lang, "daysAgo", { n: Math.floor(minutes / (24 * 60)) });
}

/** Whether a site's properties carry a status its municipality has published. */
export const statusPublished = (props) => Boolean(props?.status && props.statusUpdated);

/** Whether a site takes people in now, as published in real mode (a drill's "open" never counts). */
export const isOpen = (props) => statusPublished(props) && props.mode === "real" && RECEIVING.has(props.status);

/**
 * A site's status as the parts people read, each a sentence of its own for a screen reader:
 * [status, crowding, evacuees, updated], or ["開設状況は未発表"] where the municipality has
 * said nothing; a drill or test status is marked as not real.
 */
export function statusParts(lang, props, now = Date.now()) {
  if (!statusPublished(props)) return [t(lang, "statusNotPublished")];
  const status = pick(lang, STATUS_WORDS.status[props.status]) || props.status;
  const parts = [props.mode === "real" ? status : `${status} — ${fill(lang, "drillMark", { mode: pick(lang, STATUS_WORDS.mode[props.mode]) })}`];
  if (RECEIVING.has(props.status)) {
    parts.push(pick(lang, STATUS_WORDS.crowding[props.crowding]) || props.crowding);
    if (typeof props.evacuees === "number") {
      const of = typeof props.capacity === "number" ? ` / ${props.capacity}` : "";
      parts.push(`${t(lang, "evacuees")} ${props.evacuees}${of}${lang === "ja" ? " " : ""}${t(lang, "people")}`.trim());
    }
  }
  parts.push(fill(lang, "updatedAgo", { ago: ago(lang, props.statusUpdated, now), time: clockTime(lang, props.statusUpdated) }));
  return parts;
}

/** A site's status on one line: "開設・やや混雑・避難者 45 / 300 人・5分前に更新（20:30）". */
export const statusLine = (lang, props, now = Date.now()) => statusParts(lang, props, now).join(lang === "ja" ? "・" : " · ");

/** The mark on a status the service worker kept: "保存済みの開設状況です（…時点）…". */
export const savedNote = (lang, cachedAt) => fill(lang, "savedStatus", { time: cachedTime(lang, cachedAt) });

/** The time of day in Japan: "20:30" (statuses are read on the day they are made). */
export function clockTime(lang, iso) {
  return new Date(iso).toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB", { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit" });
}

/** The labels of the layer's `may_be_absent` flags set on a feature (why it may not be there). */
export function absenceReasons(lang, layer, properties) {
  return (layer.may_be_absent || []).filter((name) => properties?.[name] === true)
    .map((name) => pick(lang, layer.attributes.find((a) => a.name === name)?.label) || name);
}
