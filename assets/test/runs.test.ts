// The run panel's state machine: events in, what the panel shows out.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_OUTPUT_CHARS, type RunView, busy, initialState, parseEvent, reduce, statusLine } from "../src/run/state";

const run = (overrides: Partial<RunView> = {}): RunView => ({
  runId: "r1",
  startedBy: "Ada",
  createdAt: "2026-11-22T15:00:00.000Z",
  finishedAt: "2026-11-22T15:00:00.100Z",
  language: "python",
  stdin: "",
  status: "ok",
  stdout: "Hello, Ada!\n",
  stderr: "",
  exitCode: 0,
  executionTimeMs: 42,
  memoryUsageMb: 4.3,
  truncated: false,
  runtime: "Python 3.11.2",
  backend: "docker",
  message: "The program finished.",
  ...overrides,
});

test("a run goes from queued to running to finished, its output streamed in order", () => {
  let state = reduce(initialState, { type: "queued", runId: "r1", startedBy: "Ada", language: "python", position: 2 });
  assert.equal(statusLine(state.current!), "Queued: position 2 (started by Ada)");
  assert.ok(busy(state));
  state = reduce(state, { type: "started", runId: "r1", startedBy: "Ada", language: "python", runtime: "Python 3.11.2" });
  assert.equal(statusLine(state.current!), "Running Python 3.11.2… (started by Ada)");
  state = reduce(state, { type: "output", runId: "r1", stream: "stdout", data: "Hello, " });
  state = reduce(state, { type: "output", runId: "r1", stream: "stderr", data: "warn\n" });
  state = reduce(state, { type: "output", runId: "other", stream: "stdout", data: "not ours" });
  assert.deepEqual(
    state.current!.output.map((c) => c.data),
    ["Hello, ", "warn\n"],
  );
  state = reduce(state, { type: "finished", runId: "r1", run: run() });
  assert.ok(!busy(state));
  assert.equal(statusLine(state.current!), "The program finished. 42 ms, 4.3 MB. Python 3.11.2, started by Ada.");
  assert.equal(state.history.length, 1);
});

test("a page that joins during a run shows the finished run's output from its result", () => {
  const state = reduce(initialState, { type: "finished", runId: "r9", run: run({ runId: "r9", stderr: "oops\n" }) });
  assert.deepEqual(state.current!.output, [
    { stream: "stdout", data: "Hello, Ada!\n" },
    { stream: "stderr", data: "oops\n" },
  ]);
});

test("a compile error shows its message without figures; a refusal is kept apart", () => {
  let state = reduce(initialState, {
    type: "finished",
    runId: "r2",
    run: run({ runId: "r2", status: "compile_error", message: "Compile error: the code did not compile (see the messages)." }),
  });
  assert.equal(statusLine(state.current!), "Compile error: the code did not compile (see the messages). Python 3.11.2, started by Ada.");
  state = reduce(state, { type: "refused", message: "The interview has ended." });
  assert.equal(state.refusal, "The interview has ended.");
  assert.equal(state.current!.runId, "r2", "a refusal leaves the shown run alone");
});

test("output beyond the page's cap is dropped; unknown JSON is ignored", () => {
  let state = reduce(initialState, { type: "started", runId: "r3", startedBy: "Ada", language: "python", runtime: "Python" });
  const big = "x".repeat(MAX_OUTPUT_CHARS - 10);
  state = reduce(state, { type: "output", runId: "r3", stream: "stdout", data: big });
  state = reduce(state, { type: "output", runId: "r3", stream: "stdout", data: "y".repeat(100) });
  assert.equal(state.current!.kept, MAX_OUTPUT_CHARS);
  assert.equal(parseEvent("not json"), null);
  assert.equal(parseEvent('{"no":"type"}'), null);
  assert.equal(parseEvent('{"type":"refused","message":"m"}')?.type, "refused");
});
