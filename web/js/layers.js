// What is drawn on the map: the base map (with the map's controls), the national hazard overlays
// switched on (GSI's raster tiles, for reference), and the layers switched on, from the server's
// vector tiles.
import { urls } from "./api.js";
import { pick, t } from "./text.js";

const GEOMETRY_ORDER = { polygon: 0, line: 1, point: 2 }; // areas under lines under points

function styleOf(layer) {
  const classes = layer.style.class_attribute ? layer.attributes.find((a) => a.name === layer.style.class_attribute) : null;
  const classColors = Object.fromEntries((classes?.values || []).filter((v) => v.color).map((v) => [v.value, v.color]));
  return { ...layer.style, classColors, point: layer.geometry_type === "point" };
}

export function createLayers(ctx) {
  const { state } = ctx;

  /** Say which switched-on layers need a closer zoom to show. */
  function zoomHints() {
    const zoom = ctx.map.view().zoom;
    const hidden = [...state.enabled].map(ctx.layerOf).filter((c) => c?.numberPublished && zoom < c.layer.minzoom);
    ctx.status(hidden.map((c) => `${pick(state.lang, c.layer.title)}: ${t(state.lang, "zoomIn")}`).join(" / "));
  }

  function draw() {
    ctx.map.showOverlays(state.config.hazardOverlays?.filter((o) => state.enabled.has(o.id)) || []);
    const shown = [...state.enabled].map(ctx.layerOf).filter((c) => c?.numberPublished);
    shown.sort((a, b) => GEOMETRY_ORDER[a.layer.geometry_type] - GEOMETRY_ORDER[b.layer.geometry_type]);
    const styles = Object.fromEntries(shown.map((c) => [c.id, styleOf(c.layer)]));
    ctx.map.drawTiles(shown.length ? urls.tiles(shown.map((c) => c.id)) : null, styles, () => {
      // For tests and the render-time budget: the moment the first view's layers were drawn.
      if (!document.documentElement.dataset.rendered) performance.mark("mapsvc:layers-rendered");
      document.documentElement.dataset.rendered = "true";
      ctx.interactive().catch(() => {}); // the first view is drawn: now load what a user's action needs
    });
    zoomHints();
  }

  /** Switch a layer (or a national overlay) on or off, redraw, and record it in the link. */
  function toggle(id, on) {
    if (on) state.enabled.add(id);
    else state.enabled.delete(id);
    ctx.panel.render();
    draw();
    ctx.list.refresh();
    ctx.history.commit();
  }

  /** The map's controls and base-map switcher, labelled in the current language. */
  function renderBaseMaps() {
    const lang = state.lang;
    ctx.map.setControls({
      baseMaps: state.config.baseMaps, titleOf: (b) => pick(lang, b.title), selected: state.base,
      onChange: (id) => {
        state.base = id;
        ctx.history.commit();
      },
      labels: { zoomIn: t(lang, "zoomInButton"), zoomOut: t(lang, "zoomOutButton"), baseMap: t(lang, "baseMap"), close: t(lang, "close") },
    });
  }

  return { draw, zoomHints, toggle, renderBaseMaps };
}
