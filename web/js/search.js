// Search by name or address: places to jump to, and facilities to open.
import { search as searchApi } from "./api.js";
import { t } from "./text.js";
import { $, renderMessage, renderSearch } from "./ui.js";

export function createSearch(ctx) {
  const { state } = ctx;
  let request = null;

  async function run(text) {
    if (!text.trim()) return;
    request?.abort();
    request = new AbortController();
    try {
      const result = await searchApi(text, request.signal);
      renderSearch($("search-results"), state.lang, result, state.collections,
        (place) => {
          ctx.selection.unselect();
          if (place.bbox) ctx.map.fitBbox(place.bbox);
        },
        (hit) => ctx.selection.open(hit.layer, hit.id));
    } catch (error) {
      if (error.name === "AbortError") return;
      const message = error.messageJa && state.lang === "ja" ? error.messageJa : t(state.lang, "loadFailed");
      renderMessage($("search-results"), message);
    }
  }

  return { run };
}
