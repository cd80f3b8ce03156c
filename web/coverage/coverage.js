// The coverage page: municipalities × layers, each cell the published count (its date in the
// cell's title), "—" where nothing is published. Plain table: readable by screen readers, and
// scrollable on a phone with the municipality column kept in view.
import { el } from "../js/ui.js";

const TEXT = {
  ja: { title: "市町村ごとの公開状況", municipality: "市区町村", lang: "English", other: "en", back: "地図に戻る",
        caption: (n) => `${n} 市町村・府`, published: "公開日",
        intro: "各市町村がどのレイヤーのデータを公開しているか（件数と公開日）。「—」はまだ公開されていないことを示します（危険や施設がないという意味ではありません）。",
        hazards: "災害の想定を公開している市町村", nobody: "まだどの市町村も公開していません",
        national: "公開していない市町村では、地図の「国の参考図（重ねるハザードマップ）」を参考にしてください（「この場所」の回答には使われません）。" },
  en: { title: "What each municipality publishes", municipality: "Municipality", lang: "日本語", other: "ja", back: "Back to the map",
        caption: (n) => `${n} municipalities and the prefecture`, published: "published",
        intro: "Which layers each municipality has published (feature count and date). \u201c—\u201d means nothing is published yet (not that there is no hazard or facility).",
        hazards: "Who publishes each hazard", nobody: "no municipality yet",
        national: "Elsewhere, the map's \u201cNational reference maps\u201d (重ねるハザードマップ) show GSI's nationwide maps (the answer for a tapped place does not read them)." },
};

const lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "ja";
const text = TEXT[lang];
document.documentElement.lang = lang;
document.title = text.title;
for (const [id, value] of [["title", text.title], ["lang", text.lang], ["back", text.back], ["intro", text.intro]]) {
  document.getElementById(id).textContent = value;
}
document.getElementById("lang").href = `?lang=${text.other}`;
document.getElementById("back").href = `/#lang=${lang}`;

const response = await fetch("/api/coverage");
const matrix = await response.json();
const table = document.getElementById("matrix");
const head = el("tr");
head.append(el("th", { scope: "col" }, text.municipality));
for (const layer of matrix.layers) head.append(el("th", { scope: "col" }, layer.title[lang]));
const body = el("tbody");
for (const m of matrix.municipalities) {
  const row = el("tr");
  row.append(el("th", { scope: "row" }, m.name[lang]));
  for (const layer of matrix.layers) {
    const cell = m.layers[layer.id];
    const td = cell ? el("td", {}, cell.count.toLocaleString()) : el("td", { class: "none" }, "—");
    if (cell?.published) td.title = `${text.published} ${cell.published.slice(0, 10)}`;
    row.append(td);
  }
  body.append(row);
}
// Each hazard and who publishes it: where it is missing, the national maps are the reference.
const hazards = document.getElementById("hazards");
hazards.append(el("h2", {}, text.hazards));
const list = el("ul");
for (const layer of matrix.layers.filter((l) => l.category === "disaster" && l.geometry_type === "polygon")) {
  const publishers = matrix.municipalities.filter((m) => m.layers[layer.id]).map((m) => m.name[lang]);
  list.append(el("li", {}, `${layer.title[lang]}: ${publishers.length ? publishers.join(lang === "ja" ? "、" : ", ") : text.nobody}`));
}
hazards.append(list, el("p", {}, text.national));

table.querySelector("caption").textContent = text.caption(matrix.municipalities.filter((m) => m.kind !== "prefecture").length);
table.append(el("thead", {}, null), body);
table.querySelector("thead").append(head);
