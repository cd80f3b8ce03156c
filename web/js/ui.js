// Panel and popup DOM, built with textContent only (data never becomes markup); no Leaflet here.
import { formatValue, safeLink } from "./format.js";
import { pick, t } from "./i18n.js";

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

/** Popup content of a feature of `layer` (a catalog entry). */
export function popupContent(lang, layer, feature) {
  const props = feature.properties || {};
  const box = el("div", { class: "popup" });
  box.append(el("h3", {}, String(props[layer.name_attribute] ?? pick(lang, layer.title))));
  const list = el("dl");
  for (const name of layer.popup) {
    if (name === layer.name_attribute) continue;
    const value = props[name];
    if (value === null || value === undefined || value === "" || value === false) continue;
    const attribute = layer.attributes.find((a) => a.name === name);
    list.append(el("dt", {}, pick(lang, attribute?.label) || name));
    const dd = el("dd");
    const href = attribute?.type === "url" ? safeLink(value) : null;
    if (href) dd.append(el("a", { href, target: "_blank", rel: "noopener" }, href));
    else if (attribute?.type === "phone") dd.append(el("a", { href: `tel:${String(value).replace(/[^0-9+]/g, "")}` }, String(value)));
    else dd.textContent = formatValue(lang, attribute, value);
    list.append(dd);
  }
  box.append(list);
  const source = el("p", { class: "source" }, `${t(lang, "source")}: ${pick(lang, layer.source.attribution)}`);
  if (layer.source.notice) source.append(el("br"), document.createTextNode(pick(lang, layer.source.notice)));
  box.append(source);
  return box;
}

/** "What is here?": the municipality and each hazard's answer, as text a screen reader reads. */
export function renderHere(container, lang, answer) {
  container.replaceChildren(el("h2", {}, t(lang, "here")));
  if (!answer || !answer.municipality) {
    container.append(el("p", {}, t(lang, "outsidePrefecture")));
    return;
  }
  const place = [answer.municipality, answer.ward].filter(Boolean).map((m) => pick(lang, m.name));
  container.append(el("p", { class: "place" }, place[place.length - 1]));
  const list = el("ul", { class: "hazards" });
  for (const hazard of answer.hazards) {
    const item = el("li", { class: `hazard ${hazard.status}` }, pick(lang, hazard.summary));
    const site = hazard.nearest_evacuation_site;
    if (site && hazard.status === "inside") {
      item.append(el("br"), document.createTextNode(
        `${t(lang, "nearestSite")}: ${site.name} (${Math.round(site.distance_m)} ${t(lang, "metres")})`));
    }
    list.append(item);
  }
  container.append(list);
}

/** The layer panel, grouped by category; `onToggle(id, checked)` is called on change. */
export function renderPanel(container, lang, collections, enabled, onToggle) {
  container.replaceChildren();
  let category = null;
  for (const c of collections) {
    if (c.layer.category !== category) {
      category = c.layer.category;
      container.append(el("h2", {}, pick(lang, c.layer.category_title)));
    }
    const id = `layer-${c.id}`;
    const row = el("div", { class: c.numberPublished ? "layer" : "layer empty" });
    const box = el("input", { type: "checkbox", id });
    box.checked = enabled.has(c.id);
    box.disabled = !c.numberPublished;
    box.addEventListener("change", () => onToggle(c.id, box.checked));
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.borderColor = c.layer.style.color;
    swatch.style.background = c.layer.style.fill_color || c.layer.style.color;
    const label = el("label", { for: id }, pick(lang, c.layer.title));
    const count = el("span", { class: "count" }, c.numberPublished ? c.numberPublished.toLocaleString() : t(lang, "noData"));
    row.append(box, swatch, label, count);
    container.append(row);
  }
}
