// A disaster day for residents: the banner of the municipalities' disaster modes touching the
// view, and the sites published as open drawn on the map (a shape and a word, not a colour
// alone). Both are asked again every few seconds while the page is in sight, so a duty officer's
// change reaches a resident without a reload; each answer is revalidated (api.js), never taken
// from the browser's cache, and an answer the service worker kept offline says from when it is.
import { carriesStatus, emergencies, getItem, listMunicipalities, siteOf, siteStatuses } from "./api.js";
import { isOpen, pick, savedNote, statusLine } from "./text.js";
import { $, renderEmergencies, siteBadge } from "./ui.js";

// Asked every second: nginx keeps a status answer 1 s (s-maxage) and serves the kept copy once
// more while it asks the app again, so a change reaches the page on the second round after it;
// 2 s rounds took 4-6 s through nginx, 1 s rounds stay within the 5 s the issue asks for
// (tests/web/test_residents.py measures it). Behind nginx most rounds are its cache hits.
const POLL_MS = 1000;
const MAX_SITES = 1000; // open sites drawn at once; more only at a closer zoom


export function createLive(ctx) {
  const { state } = ctx;
  let timer = null;
  let shown = { emergencies: [], sites: [], cachedAt: null };
  let drawn = null; // what the banner and the marks say: redrawn only when that changes
  let openedFor = null; // the emergency whose "open sites near me" was opened: once per emergency
  let names = null; // municipality code -> {ja, en}, asked for with the first emergency

  async function municipalityNames() {
    names ??= listMunicipalities().then((all) => new Map(all.map((m) => [m.code, { ja: m.name_ja, en: m.name_en }])))
      .catch(() => { names = null; return new Map(); });
    return names;
  }

  /** The hazard's words, from the catalog (the evacuation sites' designation flags). */
  const hazardTitle = (hazard) => pick(state.lang, ctx.layerOf("evacuation_sites")?.layer.attributes.find((a) => a.name === hazard)?.label) || hazard;

  /**
   * The banner and the marks, redrawn only when what they say changed (or `always`, for a new
   * language): the banner is a live region, and a reader must not hear it again every second.
   */
  function render({ always = true } = {}) {
    const says = JSON.stringify([state.lang, shown.emergencies, shown.emergenciesCachedAt, shown.names?.size, signature(shown.sites), shown.cachedAt]);
    if (!always && says === drawn) return;
    drawn = says;
    renderEmergencies($("emergency"), state.lang, shown.emergencies, {
      hazardTitle, placeOf: (code) => shown.names?.get(code), cachedAt: shown.emergenciesCachedAt,
      onOpenSites: (e) => ctx.nearest.showOpenFor(e.hazard),
    });
    document.documentElement.style.setProperty("--banner", `${$("emergency").offsetHeight}px`);
    ctx.map.refreshSize();
    ctx.map.showSites(shown.sites.map((f) => {
      const site = siteOf(f.id);
      return {
        lonLat: f.geometry.coordinates, badge: siteBadge(state.lang, f.properties, shown.cachedAt),
        title: [f.properties.name, statusLine(state.lang, f.properties), shown.cachedAt && savedNote(state.lang, shown.cachedAt)]
          .filter(Boolean).join(" "),
        onSelect: () => ctx.selection.open(site.layer, site.id, false),
      };
    }));
  }

  /** The selected site's popup, again, when its status changed (closed while it was open, say). */
  async function refreshSelected() {
    const selected = state.selected;
    if (!selected || !carriesStatus(selected.layer)) return;
    const feature = await getItem(selected.layer, selected.id).catch(() => null);
    if (feature && state.selected === selected) ctx.selection.refreshStatus(feature);
  }

  /** What the lists show of the open sites: when it changes, the lists are asked again. */
  const signature = (sites) => sites.map((f) => `${f.id}@${f.properties.statusUpdated}`).sort().join(",");

  async function poll() {
    const bbox = ctx.map.visibleBbox();
    try {
      const [active, items] = await Promise.all([emergencies(bbox), siteStatuses(bbox, MAX_SITES)]);
      const sites = items.features.filter((f) => isOpen(f.properties));
      const changed = signature(sites) !== signature(shown.sites);
      shown = {
        emergencies: active.emergencies, emergenciesCachedAt: active.cachedAt ?? null,
        names: active.emergencies.length ? await municipalityNames() : shown.names,
        sites, cachedAt: items.cachedAt ?? null,
      };
      render({ always: false });
      if (changed) ctx.list.refresh();
      ctx.nearest.refreshStatus(); // its sites may lie outside the view: asked every round, redrawn on a change
      const first = shown.emergencies[0];
      if (first && openedFor !== first.id) {
        openedFor = first.id; // opens once on "open sites near me for this hazard"; the resident may move on
        ctx.nearest.showOpenFor(first.hazard);
      }
      await refreshSelected();
    } catch {
      // Offline or refused: what is shown stays, marked as saved where it came from a cache;
      // the next round asks again.
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!document.hidden) await poll();
      schedule();
    }, POLL_MS);
  }

  function start() {
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) poll();
    });
    poll();
    schedule();
  }

  return { start, poll, render };
}
