// The disaster board on a poor connection. Without this script every button is a plain form
// post; with it, each tap is kept in a queue (change-queue.js) and sent as one small request
// with its own change_id, a change that did not reach the server is marked 未送信 / not sent
// and sent again when the connection is back (also after a reload), and one refused because
// someone changed the site meanwhile (412) is shown with the site's state now.

import { ChangeQueue, outcomeOf, REFUSED, SENT, STALE } from "./change-queue.js";

const RETRY_MS = 10000;
const list = document.querySelector("ul.sites");
const queue = new ChangeQueue(window.localStorage, list.dataset.queue);
const hint = document.querySelector(".unsent-hint");
const board = window.location.pathname.replace(/\/$/, "");
let flushing = null;

const rowOf = (site) => list.querySelector(`li[data-site="${CSS.escape(site)}"]`);
const csrf = () => list.querySelector("form.change input[name=csrf]")?.value ?? "";

function showUnsent() {
  const pending = queue.pendingSites();
  for (const li of list.querySelectorAll("li.site")) li.querySelector(".unsent").hidden = !pending.has(li.dataset.site);
  hint.hidden = pending.size === 0;
}

// The server renders a row (one template for the page and for this): swap it in.
function replaceRow(site, html) {
  const old = rowOf(site);
  if (!old || !html) return;
  old.replaceWith(new DOMParser().parseFromString(`<ul>${html}</ul>`, "text/html").querySelector("li"));
}

// Say why a change was not made (the row's own words for a 412, else the server's).
function explain(site, message) {
  const note = rowOf(site)?.querySelector(".stale-note");
  if (!note) return;
  if (message) note.textContent = message;
  note.hidden = false;
}

async function answered(url, init) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, ...init });
    return { response, body: await response.json().catch(() => null) };
  } catch {
    return { response: null, body: null }; // no answer at all: the network, not the server
  }
}

async function send(entry) {
  const body = new URLSearchParams([...entry.fields, ["if_match", entry.if_match], ["change_id", entry.change_id], ["csrf", csrf()]]);
  const { response, body: json } = await answered(`${board}/change`, { method: "POST", body });
  return { outcome: outcomeOf(response), etag: json?.etag, row: json?.row, message: json?.message };
}

async function flush() {
  if (flushing) return flushing;
  flushing = (async () => {
    for (const done of await queue.flush(send)) {
      const site = done.entry.site;
      if (done.outcome === SENT) replaceRow(site, done.row);
      else if (done.outcome === STALE) {
        const [layer, ...key] = site.split(":");
        const mode = new URLSearchParams(done.entry.fields).get("mode");
        const now = await answered(`${board}/row?${new URLSearchParams({ layer, key: key.join(":"), mode })}`);
        replaceRow(site, now.body?.row);
        explain(site);
      } else if (done.outcome === REFUSED) explain(site, done.message);
    }
    showUnsent();
  })().finally(() => {
    flushing = null;
  });
  return flushing;
}

list.addEventListener("submit", (event) => {
  const form = event.target.closest("form.change");
  if (!form) return;
  event.preventDefault();
  const data = new FormData(form, event.submitter);
  const ifMatch = data.get("if_match") ?? "";
  for (const name of ["csrf", "change_id", "if_match"]) data.delete(name);
  const site = form.closest("li.site").dataset.site;
  queue.add({ change_id: crypto.randomUUID(), site, if_match: ifMatch, fields: [...data.entries()] });
  showUnsent();
  flush();
});

window.addEventListener("online", flush);
setInterval(() => {
  if (queue.entries().length) flush();
}, RETRY_MS);
showUnsent();
flush();
