// The panel and the page's controls: tabs, language, text size, the layer list, credits.
import { pick, t } from "./text.js";
import { $, renderMessage, renderPanel } from "./ui.js";

const TABS = ["info", "layers", "list", "search"];
const TAB_LABELS = { info: "info", layers: "layers", list: "list", search: "searchTab" };

export function createPanel(ctx) {
  const { state } = ctx;

  function showTab(name) {
    for (const tab of TABS) {
      const selected = tab === name;
      $(`tab-${tab}`).setAttribute("aria-selected", String(selected));
      $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
      $(`view-${tab}`).hidden = !selected;
    }
    $("panel").hidden = false;
    $("panel-toggle").setAttribute("aria-expanded", "true");
    ctx.map.refreshSize();
    if (name === "list") ctx.list.refresh();
  }

  function labelPage(lang) {
    document.documentElement.lang = lang;
    document.title = t(lang, "title");
    $("app-title").textContent = t(lang, "title");
    $("lang").textContent = t(lang, "langButton");
    $("lang").setAttribute("aria-label", t(lang, "langLabel"));
    $("locate").textContent = t(lang, "locate");
    $("text-size").textContent = t(lang, "textSize");
    $("text-size").setAttribute("aria-label", t(lang, "textSizeLabel"));
    $("panel-toggle").setAttribute("aria-label", t(lang, "panelToggle"));
    $("panel").setAttribute("aria-label", t(lang, "layers"));
    $("map").setAttribute("aria-label", t(lang, "map"));
    $("emergency").setAttribute("aria-label", t(lang, "emergencyRegion"));
    for (const tab of TABS) $(`tab-${tab}`).textContent = t(lang, TAB_LABELS[tab]);
    $("list-hint").textContent = t(lang, "listHint");
    $("sort-label").textContent = t(lang, "sortBy");
    $("sort").options[0].textContent = t(lang, "byDistance");
    $("sort").options[1].textContent = t(lang, "byName");
    $("search-label").textContent = t(lang, "searchLabel");
    $("search-button").textContent = t(lang, "searchButton");
  }

  /** Everything in the panel in the current language (the keyboard focus stays where it was). */
  function render() {
    const lang = state.lang;
    const focused = document.activeElement?.id;
    labelPage(lang);
    if (state.tapped) ctx.selection.renderHereNow();
    else renderMessage($("here"), t(lang, "tapHint"));
    renderPanel($("layer-list"), lang, state.collections, state.enabled, ctx.layers.toggle, state.config.hazardOverlays);
    const credits = [...new Set(state.collections.filter((c) => c.numberPublished).map((c) => pick(lang, c.layer.source.attribution)))];
    $("attribution").textContent = credits.join(" / ");
    if (focused) $(focused)?.focus();
    ctx.nearest.relabel();
  }

  function switchLanguage() {
    state.lang = state.lang === "ja" ? "en" : "ja";
    render();
    ctx.layers.renderBaseMaps();
    ctx.list.refresh();
    ctx.live.render();
    ctx.history.commit();
  }

  function setLargeText(large) {
    document.documentElement.classList.toggle("large-text", large);
    $("text-size").setAttribute("aria-pressed", String(large));
  }

  function togglePanel() {
    const panel = $("panel");
    panel.hidden = !panel.hidden;
    $("panel-toggle").setAttribute("aria-expanded", String(!panel.hidden));
    ctx.map.refreshSize();
  }

  /** Tabs follow the ARIA tab pattern: arrow keys move between them. */
  function wireTabs() {
    for (const tab of TABS) {
      $(`tab-${tab}`).addEventListener("click", () => showTab(tab));
      $(`tab-${tab}`).addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length];
        showTab(next);
        $(`tab-${next}`).focus();
      });
    }
  }

  function wire() {
    $("lang").addEventListener("click", switchLanguage);
    $("text-size").addEventListener("click", () => {
      const large = !document.documentElement.classList.contains("large-text");
      setLargeText(large);
      localStorage.setItem("mapsvc.largeText", large ? "1" : "");
      ctx.map.refreshSize();
    });
    if (localStorage.getItem("mapsvc.largeText")) setLargeText(true);
    $("locate").addEventListener("click", ctx.nearest.locate);
    $("panel-toggle").addEventListener("click", togglePanel);
    wireTabs();
    $("sort").addEventListener("change", () => {
      state.sort = $("sort").value;
      ctx.list.render();
    });
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      ctx.search.run($("search-input").value);
    });
  }

  return { showTab, render, wire };
}
