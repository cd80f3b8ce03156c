// The list of what is visible: the point layers shown, nearest to me (or the centre) first, or
// by name; re-sorting needs no request.
import { carriesStatus, getItems } from "./api.js";
import { distanceM, fold } from "./geo.js";
import { absenceReasons, pick, t } from "./text.js";
import { $, renderList, renderMessage } from "./ui.js";

const LIST_LIMIT = 100;

export function createList(ctx) {
  const { state } = ctx;
  let request = null;
  let listed = { entries: [], matched: 0 };

  /** Draw the fetched list in the chosen order. */
  function render() {
    const entries = [...listed.entries];
    if (state.sort === "name") entries.sort((a, b) => fold(a.name).localeCompare(fold(b.name), state.lang));
    else entries.sort((a, b) => a.distanceM - b.distanceM);
    renderList($("list"), state.lang, { entries, matched: listed.matched, onSelect: (entry) => {
      ctx.map.flyTo(entry.lonLat, 16);
      ctx.selection.select(entry.collection, entry.feature, entry.lonLat, entry.from);
    } });
  }

  /** Fetch what is visible of the point layers shown (only while the list is on screen). */
  async function refresh() {
    if ($("view-list").hidden) return;
    request?.abort();
    request = new AbortController();
    const { signal } = request;
    const view = ctx.map.view();
    const from = state.me || [view.lon, view.lat];
    try {
      const pages = await Promise.all(ctx.pointLayersShown().map((c) =>
        getItems(c.id, ctx.map.visibleBbox(), LIST_LIMIT, signal).then((page) => ({ c, page }))));
      if (signal.aborted) return;
      listed = { entries: [], matched: 0 };
      for (const { c, page } of pages) {
        listed.matched += page.numberMatched ?? page.numberReturned;
        for (const f of page.features) {
          const lonLat = f.geometry.coordinates;
          listed.entries.push({
            name: f.properties[c.layer.name_attribute],
            detail: [pick(state.lang, c.layer.title), f.properties.address].filter(Boolean).join(" · "),
            cautions: absenceReasons(state.lang, c.layer, f.properties),
            status: carriesStatus(c.id) ? f.properties : null, cachedAt: page.cachedAt,
            distanceM: distanceM(from, lonLat), lonLat, from, feature: { ...f, cachedAt: page.cachedAt }, collection: c,
          });
        }
      }
      render();
    } catch (error) {
      if (error.name !== "AbortError") renderMessage($("list"), t(state.lang, "loadFailed"));
    }
  }

  return { refresh, render };
}
