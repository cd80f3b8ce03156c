// Search by name or address: an address's town (and its answer), places to jump to, facilities to open.
import { failureKind, search as searchApi } from "./api.js";
import { $, renderCheckFailed, renderMessage, renderSearch } from "./ui.js";

export function createSearch(ctx) {
  const { state } = ctx;
  let request = null;

  async function run(text) {
    if (!text.trim()) return;
    request?.abort();
    request = new AbortController();
    try {
      const result = await searchApi(text, request.signal);
      renderSearch($("search-results"), state.lang, result, state.collections, {
        onPlace: (place) => {
          ctx.selection.unselect();
          if (place.bbox) ctx.map.fitBbox(place.bbox);
        },
        onFeature: (hit) => ctx.selection.open(hit.layer, hit.id),
        onTown: (town) => ctx.selection.showTown(town),
        onSuggestion: (name) => {
          $("search-input").value = name;
          run(name);
        },
      });
      // One town for the address: its answer at once (the list stays in the search tab).
      if (result.address?.status === "found") ctx.selection.showTown(result.address.towns[0]);
    } catch (error) {
      if (error.name === "AbortError") return;
      // A question the server refused (400) says why, in the user's language.
      if (error.status === 400) return renderMessage($("search-results"), state.lang === "ja" ? error.messageJa : error.message);
      renderCheckFailed($("search-results"), state.lang, failureKind(error), () => run(text));
    }
  }

  return { run };
}
