// Every UI string in Japanese and English.
const STRINGS = {
  ja: {
    title: "広域デジタルマップ", layers: "レイヤー", langButton: "EN", langLabel: "English",
    map: "地図", noData: "データ未公開", zoomIn: "拡大すると表示されます", loadFailed: "読み込みに失敗しました",
    tooMany: "表示しきれないため一部のみ表示しています。拡大してください", yes: "○", no: "—", conditional: "△（条件付き）",
    source: "出典", license: "ライセンス",
  },
  en: {
    title: "Wide-area digital map", layers: "Layers", langButton: "日本語", langLabel: "日本語",
    map: "Map", noData: "no data published", zoomIn: "zoom in to see", loadFailed: "could not load",
    tooMany: "Too many to show at once: zoom in to see all", yes: "yes", no: "—", conditional: "conditional",
    source: "Source", license: "Licence",
  },
};

export const t = (lang, key) => STRINGS[lang][key];
export const pick = (lang, text) => (text ? text[lang] : "");
