// Pure formatting of feature values for people: no DOM, no Leaflet (tested with node --test).
import { pick, t } from "./i18n.js";

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
