import assert from "node:assert/strict";
import { test } from "node:test";

import { ChangeQueue, outcomeOf, REFUSED, SENT, STALE, UNSENT } from "../../mapsvc/staff/static/change-queue.js";

function memory() {
  const items = new Map();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, v) };
}

const change = (id, site, ifMatch) => ({ change_id: id, site, if_match: ifMatch, fields: [["status", "open"]] });

test("changes survive a reload (a new queue on the same storage) until answered", async () => {
  const storage = memory();
  new ChangeQueue(storage, "board:272027:real").add(change("a", "shelters:K1", '"e1"'));
  const again = new ChangeQueue(storage, "board:272027:real");
  assert.deepEqual([...again.pendingSites()], ["shelters:K1"]);
  assert.equal(new ChangeQueue(storage, "board:272027:drill").entries().length, 0);
  await again.flush(async () => ({ outcome: SENT, etag: '"e2"' }));
  assert.equal(again.entries().length, 0);
});

test("an unanswered change is kept with the ones after it, in order, and sent first next time", async () => {
  const queue = new ChangeQueue(memory(), "q");
  queue.add(change("a", "s:1", '"e1"'));
  queue.add(change("b", "s:2", '"f1"'));
  const sent = [];
  const outcomes = await queue.flush(async (e) => {
    sent.push(e.change_id);
    return { outcome: UNSENT };
  });
  assert.deepEqual(sent, ["a"]);
  assert.deepEqual(outcomes, []);
  assert.deepEqual(queue.entries().map((e) => e.change_id), ["a", "b"]);
  await queue.flush(async (e) => {
    sent.push(e.change_id);
    return { outcome: SENT };
  });
  assert.deepEqual(sent, ["a", "a", "b"]); // the retry carries the same change_id
  assert.equal(queue.entries().length, 0);
});

test("later taps on the same site follow the ETag the earlier one produced; a stale one is dropped", async () => {
  const queue = new ChangeQueue(memory(), "q");
  queue.add(change("a", "s:1", '"e1"'));
  queue.add(change("b", "s:1", '"e1"'));
  queue.add(change("c", "s:2", '"e1"'));
  const seen = [];
  const outcomes = await queue.flush(async (e) => {
    seen.push([e.change_id, e.if_match]);
    return e.change_id === "c" ? { outcome: STALE } : { outcome: SENT, etag: `"${e.change_id}2"` };
  });
  assert.deepEqual(seen, [["a", '"e1"'], ["b", '"a2"'], ["c", '"e1"']]);
  assert.deepEqual(outcomes.map((o) => o.outcome), [SENT, SENT, STALE]);
  assert.equal(queue.entries().length, 0);
});

test("a damaged store reads as empty instead of stopping the board", () => {
  const storage = memory();
  storage.setItem("q", "{not json");
  assert.deepEqual(new ChangeQueue(storage, "q").entries(), []);
});

test("what an answer means: only a deliberate refusal drops a change unsent", () => {
  const answer = (status, redirected = false) => ({ status, ok: status < 300, redirected });
  assert.equal(outcomeOf(null), UNSENT);
  assert.equal(outcomeOf(answer(200)), SENT);
  assert.equal(outcomeOf(answer(412)), STALE);
  assert.equal(outcomeOf(answer(403)), REFUSED);
  assert.equal(outcomeOf(answer(422)), REFUSED);
  for (const status of [401, 429, 500, 502, 503]) assert.equal(outcomeOf(answer(status)), UNSENT, status);
  assert.equal(outcomeOf(answer(200, true)), UNSENT); // sent to the sign-in page
});
