// Every UI string in Japanese and English.
const STRINGS = {
  ja: {
    title: "広域デジタルマップ", layers: "レイヤー", langButton: "EN", langLabel: "English",
    map: "地図", noData: "データ未公開", zoomIn: "拡大すると表示されます", loadFailed: "読み込みに失敗しました",
    tooMany: "表示しきれないため一部のみ表示しています。拡大してください", yes: "○", no: "—", conditional: "△（条件付き）",
    source: "出典", license: "ライセンス",
    here: "この場所", tapHint: "地図をタップすると、その場所の災害の危険と避難先を表示します",
    nearestSite: "最寄りの避難場所", outsidePrefecture: "この場所は対象区域の外です", metres: "m",
  },
  en: {
    title: "Wide-area digital map", layers: "Layers", langButton: "日本語", langLabel: "日本語",
    map: "Map", noData: "no data published", zoomIn: "zoom in to see", loadFailed: "could not load",
    tooMany: "Too many to show at once: zoom in to see all", yes: "yes", no: "—", conditional: "conditional",
    source: "Source", license: "Licence",
    here: "This place", tapHint: "Tap the map to see the hazards there and where to evacuate",
    nearestSite: "Nearest evacuation site", outsidePrefecture: "This place is outside the area covered", metres: "m",
  },
};

export const t = (lang, key) => STRINGS[lang][key];
export const pick = (lang, text) => (text ? text[lang] : "");
