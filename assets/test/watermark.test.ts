// The client watermark (src/sync/watermark.ts), with the cases of src/client/watermark.rs.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Watermark } from "../src/sync/watermark";

test("advances only over contiguous, durable numbers", () => {
  const mark = new Watermark();
  mark.see(2);
  mark.see(3);
  assert.equal(mark.received, 0, "1 is missing");
  mark.see(1);
  assert.equal(mark.received, 3);
  assert.equal(mark.synced, 0, "nothing is durable yet");
  mark.durable(2);
  assert.equal(mark.synced, 2);
  mark.durable(10);
  assert.equal(mark.synced, 3);
  mark.see(3);
  mark.see(5);
  assert.equal(mark.synced, 3);
  assert.equal(new Watermark(7).synced, 7);
});

test("a snapshot covers everything up to its number", () => {
  const mark = new Watermark();
  mark.see(12);
  mark.cover(10);
  assert.equal(mark.received, 10);
  mark.see(11);
  assert.equal(mark.received, 12);
});
