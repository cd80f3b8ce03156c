// The permalink in the URL fragment: each settled change is a history entry; back/forward and a
// shared link restore view, base map, layers, selection and language exactly as given.
import { decodeView, encodeView, sameView } from "./permalink.js";

export function createHistory(ctx) {
  const { state } = ctx;
  let applying = false;

  /** Whether the URL already says `view` (a restored link differs from its view by snapping). */
  const inUrl = (view) => Boolean(location.hash) && sameView(view, decodeView(location.hash, state.defaults));

  const current = () => ({ ...ctx.map.view(), base: state.base, layers: [...state.enabled], feature: state.selected, lang: state.lang });

  /** Record the view in the URL (a new entry), unless it is already there or being restored. */
  function commit() {
    if (applying || !ctx.map) return;
    const view = current();
    if (!inUrl(view)) history.pushState(null, "", encodeView(view));
  }

  /** Show `view` (from a link or a history entry) without recording it again. */
  async function apply(view) {
    applying = true;
    state.lang = view.lang;
    state.base = view.base;
    state.enabled = new Set(view.layers.filter((id) => state.byId.has(id) || ctx.overlayOf(id)));
    ctx.map.setView(view);
    ctx.layers.renderBaseMaps();
    ctx.layers.draw();
    ctx.panel?.render(); // on the first view the panel is drawn when it has loaded
    const selected = state.selected;
    if (view.feature && (view.feature.layer !== selected?.layer || view.feature.id !== selected?.id)) {
      await ctx.interactive(); // a shared link to a feature: open it without waiting for the map
      await ctx.selection.open(view.feature.layer, view.feature.id, false);
    } else if (!view.feature) {
      ctx.selection?.unselect();
    }
    applying = false;
  }

  /** A link is kept as given; a missing or partial one is completed without a new entry. */
  function complete() {
    if (!inUrl(current())) history.replaceState(null, "", encodeView(current()));
  }

  const fromUrl = () => decodeView(location.hash, state.defaults);
  const onPopState = () => apply(decodeView(location.hash, current()));

  return { commit, apply, complete, fromUrl, onPopState, isApplying: () => applying };
}
