// The disaster board's changes on a poor connection (no DOM here: tests/js runs it under node).
//
// Every tap becomes one entry with its own change_id, kept in storage (localStorage in the
// browser) until the server has answered it: a dead network or a reload loses nothing, and a
// retry of an entry the server did get is answered with the first result (same change_id), so
// it never makes a second event. Entries are sent in the order they were made.

/** What became of one entry when it was sent. */
export const SENT = "sent"; // the server made (or had made) the event
export const STALE = "stale"; // 412: someone changed the site meanwhile; the entry is dropped
export const REFUSED = "refused"; // any other answer the server gave on purpose (403, 404, 422)
export const UNSENT = "unsent"; // no answer (offline, 5xx, signed out): kept and tried again

export class ChangeQueue {
  /**
   * @param {{getItem(k: string): string|null, setItem(k: string, v: string): void}} storage
   * @param {string} key  one queue per board (municipality and mode)
   */
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
  }

  /** The entries not yet answered, oldest first. */
  entries() {
    try {
      const stored = JSON.parse(this.storage.getItem(this.key) ?? "[]");
      return Array.isArray(stored) ? stored : [];
    } catch {
      return []; // a damaged store must not stop the board
    }
  }

  save(entries) {
    this.storage.setItem(this.key, JSON.stringify(entries));
  }

  /** Keep a change: {change_id, site, if_match, fields} (fields: the form's name/value pairs). */
  add(entry) {
    this.save([...this.entries(), entry]);
  }

  /** The sites with a change not yet answered. */
  pendingSites() {
    return new Set(this.entries().map((e) => e.site));
  }

  /** Send every entry in order until one gets no answer; what became of each sent entry. */
  async flush(send) {
    const outcomes = [];
    // The stored head each time round: an earlier answer may have changed the entries after it.
    for (let entry = this.entries()[0]; entry; entry = this.entries()[0]) {
      const answer = await send(entry);
      if (answer.outcome === UNSENT) break; // keep it and the ones after it, in order
      let rest = this.entries().filter((e) => e.change_id !== entry.change_id);
      if (answer.outcome === SENT && answer.etag) {
        // The same person's later taps on this site were made against the state before this
        // one (they could not know its new ETag offline): they now follow it.
        rest = rest.map((e) => (e.site === entry.site && e.if_match === entry.if_match ? { ...e, if_match: answer.etag } : e));
      }
      this.save(rest);
      outcomes.push({ entry, ...answer });
    }
    return outcomes;
  }
}

/** What a response (or its absence: null) means for the entry that was sent. */
export function outcomeOf(response) {
  if (response === null || response.status >= 500 || response.redirected) return UNSENT; // redirected: to sign in
  if (response.ok) return SENT;
  if (response.status === 412) return STALE;
  if (response.status === 401 || response.status === 408 || response.status === 429) return UNSENT;
  return REFUSED;
}
