// Panel, list and popup DOM, built with textContent only (data never becomes markup); no Leaflet here.
import { formatDistance, routeLink } from "./geo.js";
import {
  absenceReasons, cachedTime, coverageText, dataDateText, fill, formatValue, isOpen, pick, safeLink, savedNote,
  scenarioHeading, STATUS_WORDS, statusLine, statusParts, t,
} from "./text.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

const routeAnchor = (lang, lonLat, from) =>
  el("a", { href: routeLink(lonLat, from), target: "_blank", rel: "noopener", class: "route" }, t(lang, "route"));

/** Who published the feature and when (its own dataset's date; the layer's if it has none). */
function sourceNote(lang, collection, feature) {
  const layer = collection.layer;
  const credit = pick(lang, layer.source.attribution);
  // Japanese credits usually begin with 出典 already.
  const note = el("p", { class: "source" }, credit.startsWith(t(lang, "source")) ? credit : `${t(lang, "source")}: ${credit}`);
  note.append(el("br"), document.createTextNode(`${t(lang, "license")}: `));
  const licence = safeLink(layer.source.license.url);
  note.append(licence ? el("a", { href: licence, target: "_blank", rel: "noopener" }, layer.source.license.name) : document.createTextNode(layer.source.license.name));
  if (feature.municipality) note.append(el("br"), document.createTextNode(`${t(lang, "publishedBy")}: ${pick(lang, feature.municipality.name)}`));
  const updated = feature.updated || collection.updated;
  if (updated) note.append(el("br"), document.createTextNode(`${t(lang, "updated")}: ${updated.slice(0, 10)}`));
  // The data's own time, said loudly: a 2015 list of hospitals is not today's.
  if (feature.dataDate) note.append(el("br"), el("strong", { class: "data-date" }, `${t(lang, "dataDate")}: ${dataDateText(lang, feature.dataDate)}`));
  if (layer.source.notice) note.append(el("br"), document.createTextNode(pick(lang, layer.source.notice)));
  return note;
}

/**
 * A site's live status, each part a sentence of its own (a screen reader pauses between them),
 * marked "open" in words and by its box, never by colour alone; a copy the service worker kept
 * (`cachedAt`) says from when it is.
 */
export function statusBlock(lang, props, cachedAt = null) {
  const box = el("div", { class: `site-status${isOpen(props) ? " open" : ""}` });
  const [first, ...rest] = statusParts(lang, props);
  const line = el("p", {});
  line.append(el("strong", { class: "status-word" }, first), ...rest.map((part) => el("span", { class: "status-part" }, part)));
  box.append(line);
  if (cachedAt !== null) box.append(el("p", { class: "cached" }, savedNote(lang, cachedAt)));
  return box;
}

/**
 * An open site's mark on the map: a pin-shaped badge with the word (開設 / Open, and 満 / Full
 * when it takes no more), so it reads without colour; a saved copy's mark says "saved" too.
 */
export function siteBadge(lang, props, cachedAt = null) {
  const full = props.crowding === "full";
  const words = [pick(lang, STATUS_WORDS.status[props.status]), full ? pick(lang, STATUS_WORDS.crowding.full) : null];
  const badge = el("span", { class: `site-badge${full ? " full" : ""}${cachedAt !== null ? " saved" : ""}`, "aria-hidden": "true" });
  badge.textContent = words.filter(Boolean).join(lang === "ja" ? "・" : " · ");
  return badge;
}

/**
 * The banner of the disasters on now where the map looks (`emergencies` from the API): the
 * municipality (`placeOf(code)`: {ja, en}), the hazard (`hazardTitle(hazard)`), 警戒レベル, its
 * message, since when; and "open sites near me for this hazard" (`onOpenSites(emergency)`); a
 * copy the service worker kept says from when. Hidden when there is none.
 */
export function renderEmergencies(container, lang, emergencies, { hazardTitle, placeOf, cachedAt, onOpenSites }) {
  container.replaceChildren();
  container.hidden = !emergencies.length;
  if (emergencies.length && cachedAt) container.append(cachedNote(lang, cachedAt));
  for (const e of emergencies) {
    const item = el("div", { class: "emergency-item" });
    const place = pick(lang, placeOf(e.municipality)) || e.municipality;
    item.append(el("p", { class: "emergency-title" }, `${place}: ${hazardTitle(e.hazard)} ${fill(lang, "alertLevel", { level: e.alertLevel })}`));
    item.append(el("p", { class: "emergency-message" }, pick(lang, e.message) || e.message.ja));
    item.append(el("p", { class: "emergency-since" }, fill(lang, "emergencySince", { time: cachedTime(lang, e.started) })));
    const button = el("button", { type: "button", class: "emergency-open" }, fill(lang, "openSitesFor", { hazard: hazardTitle(e.hazard) }));
    button.addEventListener("click", () => onOpenSites(e));
    item.append(button);
    container.append(item);
  }
}

/**
 * A feature's details: its name, its live status where the layer has one (`status`), the
 * catalog's popup attributes, a route link, a share button where `onShare(box)` is given (it
 * fills the box it is handed), source and licence.
 */
export function featureDetails(lang, collection, feature, lonLat, from = null, { onShare = null, status = false } = {}) {
  const layer = collection.layer;
  const props = feature.properties || {};
  const box = el("div", { class: "popup" });
  box.append(el("h3", {}, String(props[layer.name_attribute] ?? pick(lang, layer.title))));
  box.append(el("p", { class: "layer-name" }, pick(lang, layer.title)));
  if (status) box.append(statusBlock(lang, props, feature.cachedAt ?? null));
  for (const reason of absenceReasons(lang, layer, props)) box.append(el("p", { class: "may-be-absent" }, `⚠ ${reason}`));
  const list = el("dl");
  for (const name of layer.popup) {
    if (name === layer.name_attribute || layer.may_be_absent?.includes(name)) continue;
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
  if (lonLat && layer.geometry_type === "point") {
    const actions = el("p", { class: "actions" });
    if (props.distance_m !== undefined) actions.append(el("span", { class: "distance" }, formatDistance(props.distance_m)), " ");
    actions.append(routeAnchor(lang, lonLat, from));
    box.append(actions);
    if (onShare) {
      const share = el("button", { type: "button", class: "share", "aria-expanded": "false" }, t(lang, "share"));
      const shareBox = el("div", { class: "share-box" });
      share.addEventListener("click", () => {
        share.setAttribute("aria-expanded", "true");
        onShare(shareBox);
      });
      actions.append(share);
      box.append(shareBox);
    }
  }
  box.append(sourceNote(lang, collection, feature));
  return box;
}

/**
 * "What is here?": the municipality, each hazard's answer and the nearest site, as text; and
 * which of the `shown` layers (collections) this municipality has not published, so that an
 * empty map there is not taken for "nothing here".
 */
export function renderHere(container, lang, answer, nearestSite, shown = []) {
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
    const near = hazard.nearest_building;
    if (near) {
      item.append(el("p", { class: "nearest-building" }, `${t(lang, "nearestBuilding")} (${formatDistance(near.distance_m)}): ${pick(lang, near.summary)}`));
    }
    for (const scenario of hazard.scenarios || []) item.append(scenarioBlock(lang, scenario, answer.point));
    list.append(item);
  }
  container.append(list);
  const code = answer.municipality.code;
  const missing = shown.filter((c) => c.numberPublished && !c.coverage?.prefectureWide && !c.publishers?.includes(code)
    && !answer.hazards.some((h) => h.layer === c.id));
  if (missing.length) {
    const titles = missing.map((c) => pick(lang, c.layer.title)).join(lang === "ja" ? "、" : ", ");
    container.append(el("p", { class: "not-published" }, `${titles}: ${t(lang, "notPublishedHere")}`));
  }
  if (nearestSite) {
    const p = el("p", { class: "nearest-site" }, `${t(lang, "nearestAnySite")}: ${nearestSite.name} (${formatDistance(nearestSite.distanceM)}) `);
    p.append(routeAnchor(lang, nearestSite.lonLat, nearestSite.from));
    container.append(p);
    if (nearestSite.status) container.append(statusBlock(lang, nearestSite.status));
  }
}

/**
 * One scenario where a hazard applies: its class and exact depth, what to do and whose guidance
 * that is, and where to go — a site designated for this very hazard, or, where the municipality
 * designates none, the sentence that says so and names the nearest one elsewhere.
 */
function scenarioBlock(lang, scenario, from) {
  const box = el("div", { class: "scenario" });
  box.append(el("strong", { class: "scenario-hazard" }, scenarioHeading(lang, scenario)));
  box.append(el("p", { class: "advice" }, pick(lang, scenario.advice)));
  if (scenario.advice.source) box.append(el("small", { class: "advice-source" }, pick(lang, scenario.advice.source)));
  const evacuation = scenario.evacuation;
  const site = evacuation?.site;
  if (evacuation?.note || site) {
    const text = evacuation.note ? pick(lang, evacuation.note) : `${t(lang, "nearestSite")}: ${site.name} (${formatDistance(site.distance_m)})`;
    const p = el("p", { class: evacuation.note ? "no-site-here" : "scenario-site" }, `${text} `);
    if (site) p.append(routeAnchor(lang, site.geometry.coordinates, from));
    box.append(p);
  }
  return box;
}

/**
 * "What is here?" as the viewer holds it: still being checked, not checkable (`failed`: "offline"
 * or "error", with a retry, never read as an answer), or the answer, marked where it came from a
 * cache (and when) or from an address's town (approximate). `here` is the viewer's state.
 */
export function renderAnswer(container, lang, here, shown, onRetry) {
  if (here.failed) return renderCheckFailed(container, lang, here.failed, onRetry, t(lang, "here"));
  if (!here.answer) {
    container.replaceChildren(el("h2", {}, t(lang, "here")), el("p", { class: "checking" }, t(lang, "checking")));
    return;
  }
  renderHere(container, lang, here.answer, here.nearestSite, shown);
  const marks = [];
  if (here.town) marks.push(el("p", { class: "town-level" }, fill(lang, "townLevel", { town: `${here.town.city} ${here.town.name}` })));
  if (here.answer.cachedAt) marks.push(cachedNote(lang, here.answer.cachedAt));
  container.querySelector("h2").after(...marks);
}

const SVG = "http://www.w3.org/2000/svg";
const QR_QUIET_ZONE = 4; // modules of light margin, as the QR standard asks

/** A QR code (rows of dark modules) as an SVG picture labelled for a screen reader. */
function qrPicture(modules, label) {
  const size = modules.length + 2 * QR_QUIET_ZONE;
  const svg = document.createElementNS(SVG, "svg");
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": label, class: "qr", "shape-rendering": "crispEdges" })) {
    svg.setAttribute(k, v);
  }
  const background = document.createElementNS(SVG, "rect");
  for (const [k, v] of Object.entries({ width: size, height: size, fill: "#fff" })) background.setAttribute(k, v);
  const dark = document.createElementNS(SVG, "path");
  const d = modules.flatMap((row, r) => row.map((on, c) => (on ? `M${c + QR_QUIET_ZONE} ${r + QR_QUIET_ZONE}h1v1h-1z` : ""))).join("");
  dark.setAttribute("d", d);
  dark.setAttribute("fill", "#000");
  svg.append(background, dark);
  return svg;
}

/**
 * "Share with family": the site's link (to open, or copy with a button) and its QR code; a QR
 * code that could not be made (`modules` null: offline before it loaded) is said to be missing.
 */
export function renderShare(container, lang, link, modules) {
  const copy = el("button", { type: "button", class: "copy-link" }, t(lang, "copyLink"));
  copy.addEventListener("click", () => navigator.clipboard?.writeText(link).then(() => { copy.textContent = t(lang, "copied"); }, () => {}));
  const anchor = el("p");
  anchor.append(el("a", { href: link, class: "share-link" }, link));
  container.replaceChildren(el("p", { class: "share-hint" }, t(lang, "shareHint")), anchor, copy);
  container.append(modules ? qrPicture(modules, `${t(lang, "qrLabel")}: ${link}`) : el("p", { class: "hint" }, t(lang, "qrFailed")));
}

/** "Could not check" with the reason (`kind`: offline, error) and a button to ask again. */
export function renderCheckFailed(container, lang, kind, onRetry, heading = null) {
  const retry = el("button", { type: "button", class: "retry" }, t(lang, "retry"));
  retry.addEventListener("click", onRetry);
  const box = el("div", { class: "check-failed", role: "alert" });
  box.append(el("p", { class: "check-failed-reason" }, t(lang, `checkFailed_${kind}`)), el("p", {}, t(lang, "checkFailedNote")), retry);
  container.replaceChildren(...(heading ? [el("h2", {}, heading)] : []), box);
}

/** The mark on an answer served from the service worker's cache: saved, and when. */
export function cachedNote(lang, cachedAt) {
  return el("p", { class: "cached" }, fill(lang, "cachedAnswer", { time: cachedTime(lang, cachedAt) }));
}

/**
 * A list of places: `entries` are {name, detail, status, cautions, distanceM, lonLat, from}
 * (`status`: a site's properties, for its live status); each name is a button (`onSelect(entry)`)
 * followed by a route link, so the list works with a keyboard and a reader.
 */
export function renderEntries(container, lang, entries, onSelect) {
  const list = el("ol", { class: "entries" });
  for (const entry of entries) {
    const item = el("li");
    const button = el("button", { type: "button", class: "entry" });
    button.append(el("span", { class: "entry-name" }, entry.name || "—"));
    if (entry.detail) button.append(el("span", { class: "entry-detail" }, entry.detail));
    if (entry.status) {
      button.append(el("span", { class: `entry-status${isOpen(entry.status) ? " open" : ""}` }, statusLine(lang, entry.status)));
      if (entry.cachedAt) button.append(el("span", { class: "entry-caution" }, savedNote(lang, entry.cachedAt)));
    }
    for (const caution of entry.cautions || []) button.append(el("span", { class: "entry-caution" }, `⚠ ${caution}`));
    if (entry.distanceM !== undefined && entry.distanceM !== null) {
      button.append(el("span", { class: "entry-distance" }, formatDistance(entry.distanceM)));
    }
    button.addEventListener("click", () => onSelect(entry));
    item.append(button);
    if (entry.lonLat) item.append(routeAnchor(lang, entry.lonLat, entry.from));
    list.append(item);
  }
  container.append(entries.length ? list : el("p", { class: "empty" }, t(lang, "noneFound")));
}

/**
 * The heading of "near me": a chooser of the kind of site (`onChoose(id)`), where from, and for
 * sites with a live status (`openOnly` not null) a switch "open sites only" (`onOpenOnly(on)`).
 */
export function renderNearestHeading(container, lang, { choices, chosen, fromLabel, onChoose, openOnly = null, onOpenOnly }) {
  const chooser = el("select", { id: "nearest-choice", "aria-label": t(lang, "nearestOf") });
  for (const n of choices) {
    const option = el("option", { value: n.id }, pick(lang, n.title));
    option.selected = n.id === chosen;
    chooser.append(option);
  }
  chooser.addEventListener("change", () => onChoose(chooser.value));
  const heading = el("h2", {}, `${t(lang, "nearestOf")} `);
  heading.append(chooser);
  container.replaceChildren(heading, el("p", { class: "hint" }, `${t(lang, "nearestFrom")}: ${fromLabel}`));
  if (openOnly !== null) {
    const box = el("input", { type: "checkbox", id: "nearest-open" });
    box.checked = openOnly;
    box.addEventListener("change", () => onOpenOnly(box.checked));
    const row = el("p", { class: "open-only" });
    row.append(box, el("label", { for: "nearest-open" }, t(lang, "openOnly")));
    container.append(row);
  }
}

/** A message in place of a container's content (a failure, say). */
export function renderMessage(container, text) {
  container.replaceChildren(el("p", {}, text));
}

/** The list of what is visible: how many more there are, then the entries (`onSelect(entry)`). */
export function renderList(container, lang, { entries, matched, onSelect }) {
  container.replaceChildren();
  if (!entries.length) {
    container.append(el("p", { class: "empty" }, t(lang, "listEmpty")));
    return;
  }
  if (matched > entries.length) container.append(el("p", { class: "hint" }, `${matched.toLocaleString()} ${t(lang, "listMore")}`));
  renderEntries(container, lang, entries, onSelect);
}

function legend(lang, layer) {
  const classes = layer.style.class_attribute ? layer.attributes.find((a) => a.name === layer.style.class_attribute) : null;
  const values = (classes?.values || []).filter((v) => v.color);
  if (!values.length) return null;
  const list = el("ul", { class: "legend", "aria-label": `${pick(lang, layer.title)} ${t(lang, "legend")}` });
  for (const v of values) {
    const item = el("li");
    const swatch = el("span", { class: "swatch square", "aria-hidden": "true" });
    swatch.style.background = v.color;
    item.append(swatch, document.createTextNode(pick(lang, v.label)));
    list.append(item);
  }
  return list;
}

/** A switch for a layer or an overlay: checkbox, swatch, label, then what `extra` holds. */
function layerRow(id, title, checked, onToggle, swatch, ...extra) {
  const row = el("div", { class: "layer" });
  const box = el("input", { type: "checkbox", id });
  box.checked = checked;
  box.addEventListener("change", () => onToggle(box.checked));
  row.append(box, swatch, el("label", { for: id }, title), ...extra);
  return row;
}

/**
 * GSI's national hazard maps (重ねるハザードマップ), offered where a municipality publishes
 * nothing: said to be a reference the answer at a point does not read, with their source.
 */
function nationalOverlays(lang, overlays, enabled, onToggle) {
  const section = el("section", { class: "national", "aria-labelledby": "national-title" });
  section.append(el("h2", { id: "national-title" }, t(lang, "nationalMaps")), el("p", { class: "hint" }, t(lang, "nationalMapsNote")));
  for (const o of overlays) {
    const swatch = el("span", { class: "swatch square national-swatch", "aria-hidden": "true" });
    section.append(layerRow(`overlay-${o.id}`, pick(lang, o.title), enabled.has(o.id), (on) => onToggle(o.id, on), swatch));
  }
  const credit = el("p", { class: "source" });
  const link = safeLink(overlays[0]?.attribution.url);
  credit.append(link ? el("a", { href: link, target: "_blank", rel: "noopener" }, overlays[0].attribution.text) : "");
  section.append(credit);
  return section;
}

/**
 * The layer panel, grouped by category with legends, then the national hazard overlays;
 * `onToggle(id, checked)` is called on change.
 */
export function renderPanel(container, lang, collections, enabled, onToggle, overlays = []) {
  container.replaceChildren();
  let category = null;
  for (const c of collections) {
    if (c.layer.category !== category) {
      category = c.layer.category;
      container.append(el("h2", {}, pick(lang, c.layer.category_title)));
    }
    const id = `layer-${c.id}`;
    const swatch = el("span", { class: `swatch ${c.layer.geometry_type}`, "aria-hidden": "true" });
    swatch.style.borderColor = c.layer.style.color;
    swatch.style.background = c.layer.style.fill_opacity === 0 ? "transparent" : c.layer.style.fill_color || c.layer.style.color;
    const count = el("span", { class: "count" }, c.numberPublished ? c.numberPublished.toLocaleString() : t(lang, "noData"));
    const row = layerRow(id, pick(lang, c.layer.title), enabled.has(c.id), (on) => onToggle(c.id, on), swatch, count);
    row.classList.toggle("empty", !c.numberPublished);
    row.querySelector("input").disabled = !c.numberPublished;
    const covers = coverageText(lang, c.coverage);
    if (covers) row.append(el("span", { class: "coverage" }, covers));
    container.append(row);
    const key = enabled.has(c.id) ? legend(lang, c.layer) : null;
    if (key) container.append(key);
  }
  if (overlays.length) container.append(nationalOverlays(lang, overlays, enabled, onToggle));
  container.append(el("p", {}).appendChild(el("a", { href: `/coverage/?lang=${lang}`, class: "coverage-link" }, t(lang, "coverageLink"))).parentNode);
  container.append(el("p", {}).appendChild(el("a", { href: `/staff/?lang=${lang}`, class: "staff-link" }, t(lang, "forStaff"))).parentNode);
}

/**
 * Search results: the address's town (or the candidate towns, or similar names when nothing at
 * all was found; `onTown(town)`), municipalities to jump to, then facilities.
 */
export function renderSearch(container, lang, result, collections, { onPlace, onFeature, onTown, onSuggestion }) {
  container.replaceChildren();
  if (result.cachedAt) container.append(cachedNote(lang, result.cachedAt));
  const address = result.address;
  if (address?.towns.length) {
    const towns = el("section", { class: "address" });
    towns.append(el("h3", {}, t(lang, address.status === "found" ? "addressResult" : "addressCandidates")));
    renderEntries(towns, lang, address.towns.map((town) => ({ name: `${town.city} ${town.name}`, town })), (e) => onTown(e.town));
    container.append(towns);
  } else if (address && !result.places.length && !result.features.length) {
    const missing = el("section", { class: "address not-found" });
    missing.append(el("p", {}, t(lang, "addressNotFound")));
    if (address.suggestions.length) {
      const list = el("p", { class: "suggestions" }, `${t(lang, "addressSuggest")}: `);
      for (const name of address.suggestions) {
        const button = el("button", { type: "button", class: "suggestion" }, name);
        button.addEventListener("click", () => onSuggestion(name));
        list.append(button, " ");
      }
      missing.append(list);
    }
    container.append(missing);
    return;
  }
  if (result.places.length) {
    const places = el("section", { class: "places" });
    places.append(el("h3", {}, t(lang, "places")));
    renderEntries(places, lang, result.places.map((p) => ({ name: pick(lang, p.name), place: p })), (e) => onPlace(e.place));
    container.append(places);
  }
  const facilities = el("section", { class: "facilities" });
  container.append(facilities);
  facilities.append(el("h3", {}, t(lang, "facilities")));
  const titles = Object.fromEntries(collections.map((c) => [c.id, pick(lang, c.layer.title)]));
  renderEntries(
    facilities,
    lang,
    result.features.map((f) => ({
      name: f.name, detail: [titles[f.layer], f.address].filter(Boolean).join(" · "), lonLat: [f.lon, f.lat], hit: f,
    })),
    (e) => onFeature(e.hit),
  );
}
