// The page/worker transform (src/sync/ot.ts): two sides editing the same text at once,
// with messages delayed in both directions, always end with the same text, and no
// inserted character is lost or misplaced when both type at the same spot.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ChangeSet, Text } from "@codemirror/state";

import { Jupiter } from "../src/sync/ot";

interface Side {
  doc: Text;
  ot: Jupiter;
  inbox: { changes: ChangeSet; seen: number }[];
}

function side(text: string, ownFirst: boolean): Side {
  return { doc: Text.of(text.split("\n")), ot: new Jupiter(ownFirst), inbox: [] };
}

function edit(from: Side, to: Side, spec: { from: number; to?: number; insert?: string }): void {
  const changes = ChangeSet.of(spec, from.doc.length);
  from.doc = changes.apply(from.doc);
  to.inbox.push({ changes, seen: from.ot.own(changes) });
}

function deliver(to: Side, count = Infinity): void {
  while (count-- > 0 && to.inbox.length > 0) {
    const { changes, seen } = to.inbox.shift()!;
    to.doc = to.ot.receive(changes, seen).apply(to.doc);
  }
}

test("concurrent insertions at the same spot keep every character, page first", () => {
  const page = side("ab", true);
  const worker = side("ab", false);
  edit(page, worker, { from: 1, insert: "PAGE" });
  edit(worker, page, { from: 1, insert: "REMOTE" });
  deliver(page);
  deliver(worker);
  assert.equal(page.doc.toString(), "aPAGEREMOTEb");
  assert.equal(worker.doc.toString(), page.doc.toString());
});

test("random concurrent edits with random delays converge", () => {
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const page = side("hello world", true);
    const worker = side("hello world", false);
    for (let step = 0; step < 40; step++) {
      const [from, to] = random(2) ? [page, worker] : [worker, page];
      const action = random(4);
      if (action < 3) {
        const len = from.doc.length;
        const at = random(len + 1);
        const del = random(3) === 0 ? Math.min(random(4), len - at) : 0;
        edit(from, to, { from: at, to: at + del, insert: random(5) ? String.fromCharCode(97 + random(26)) : "" });
      } else {
        deliver(to, random(3));
      }
    }
    deliver(page);
    deliver(worker);
    assert.equal(page.doc.toString(), worker.doc.toString(), `round ${round}`);
  }
});

test("positions from the other side are mapped over unseen own edits", () => {
  const page = side("0123456789", true);
  const worker = side("0123456789", false);
  edit(page, worker, { from: 0, insert: "xx" });
  // The worker reports a cursor at 5 before it has seen the page's edit.
  assert.equal(page.ot.mapPos(5, worker.ot.received), 7);
  deliver(worker);
  assert.equal(page.ot.mapPos(7, worker.ot.received), 7);
});
