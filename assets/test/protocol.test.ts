// The TypeScript codec against the golden encodings the Rust codec writes
// (assets/test/protocol-fixtures.json, from src/protocol/tests.rs): the same messages must
// encode to the same bytes and decode back, and malformed input must throw DecodeError.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  type ClientMessage,
  DecodeError,
  type Peer,
  Reader,
  type Selection,
  type ServerMessage,
  VERSION,
  Writer,
  decodeClient,
  decodeServer,
  encodeClient,
  encodeServer,
} from "../src/sync/protocol";

// The bundled test runs from assets/.test-build/.
const fixturesPath = new URL("../test/protocol-fixtures.json", import.meta.url);
const fixtures: Record<string, string> = JSON.parse(readFileSync(fixturesPath, "utf8"));

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const unhex = (text: string) => new Uint8Array(Buffer.from(text, "hex"));
const filled = (byte: number, len = 32) => new Uint8Array(len).fill(byte);

const selection = (n: number): Selection => ({ anchor: `${n}@aabbccdd`, head: `${n + 1}@aabbccdd` });
const peer = (id: number): Peer => ({
  peerId: id,
  name: `Ada ${id} ✓`,
  color: "#1f77b4",
  role: id % 2 === 0 ? "editor" : "observer",
});

/** The same messages as `client_messages()` in src/protocol/tests.rs. */
const clientMessages: ClientMessage[] = [
  {
    type: "hello",
    hello: {
      version: VERSION,
      syncedSeq: 123_456,
      heads: [filled(7), filled(9)],
      name: "Grace Hopper",
      color: "#ff7f0e",
      role: "editor",
    },
  },
  { type: "changes", changes: [new Uint8Array([1, 2, 3]), new Uint8Array(), filled(0xff, 300)] },
  { type: "presence", selections: [selection(1), selection(5)] },
  { type: "presence", selections: [] },
  { type: "run", stdin: "Ada\nGrace 🌍\n" },
  { type: "media", signal: String.raw`{"type":"answer","sdp":"v=0\r\n"}` },
];

/** The same messages as `server_messages()` in src/protocol/tests.rs. */
const serverMessages: ServerMessage[] = [
  {
    type: "welcome",
    welcome: {
      version: VERSION,
      peerId: 3,
      maxSeq: 900,
      durableSeq: 899,
      reset: false,
      preview: { seq: 880, code: "print('héllo 🌍')\n", language: "python", title: "Round 1" },
      snapshot: { coversSeq: 500, document: new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]) },
      peers: [peer(1), peer(2)],
      role: "observer",
      endedAt: 1_700_000_000_123,
    },
  },
  {
    type: "changes",
    durableSeq: 10,
    changes: [
      { seq: 11, change: new Uint8Array([1]) },
      { seq: 12, change: new Uint8Array([2, 2]) },
    ],
  },
  { type: "ack", durableSeq: 12, acked: [{ hash: filled(3), seq: 12 }] },
  { type: "need", hashes: [filled(4)] },
  { type: "peerJoined", peer: peer(8) },
  { type: "peerLeft", peerId: 8 },
  { type: "peerPresence", peerId: 2, selections: [selection(3)] },
  { type: "error", code: "rate_limited", message: "slow down", fatal: true },
  { type: "ended", endedAt: 1_700_000_000_456, role: "observer" },
  { type: "run", event: '{"type":"output","runId":"r1","stream":"stdout","data":"héllo\\n"}' },
  { type: "media", signal: '{"type":"speaker","peer_id":7}' },
];

function fixture(side: "client" | "server", index: number): string {
  const key = Object.keys(fixtures).find((k) => k.startsWith(`${side}_${index}_`));
  assert.ok(key, `no fixture for ${side} message ${index}`);
  return fixtures[key];
}

test("the fixtures cover every message", () => {
  assert.equal(Object.keys(fixtures).length, clientMessages.length + serverMessages.length);
});

test("client messages encode and decode byte for byte like the Rust codec", () => {
  clientMessages.forEach((message, index) => {
    const expected = fixture("client", index);
    assert.equal(hex(encodeClient(message)), expected, `client message ${index} encodes`);
    assert.deepEqual(decodeClient(unhex(expected)), message, `client message ${index} decodes`);
  });
});

test("server messages encode and decode byte for byte like the Rust codec", () => {
  serverMessages.forEach((message, index) => {
    const expected = fixture("server", index);
    assert.equal(hex(encodeServer(message)), expected, `server message ${index} encodes`);
    assert.deepEqual(decodeServer(unhex(expected)), message, `server message ${index} decodes`);
  });
});

test("every truncation and extension is refused with a DecodeError", () => {
  const all: [Uint8Array, (b: Uint8Array) => unknown][] = [
    ...clientMessages.map((m) => [encodeClient(m), decodeClient] as [Uint8Array, (b: Uint8Array) => unknown]),
    ...serverMessages.map((m) => [encodeServer(m), decodeServer] as [Uint8Array, (b: Uint8Array) => unknown]),
  ];
  for (const [bytes, decode] of all) {
    for (let len = 0; len < bytes.length; len++) {
      assert.throws(() => decode(bytes.subarray(0, len)), DecodeError, `a ${len}-byte prefix decoded`);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.throws(() => decode(longer), /left over/);
  }
});

test("bad fields are refused", () => {
  assert.throws(() => decodeClient(new Uint8Array([0x7f])), /unknown message type 0x7f/);
  assert.throws(() => decodeServer(new Uint8Array([0x01])), /unknown message type 0x01/);
  assert.throws(() => decodeClient(new Uint8Array()), /empty/);
  const hello = (name: Uint8Array, role: number) =>
    new Writer(0x01).uint(1).uint(0).uint(0).bytes(name).string("#000000").uint(role).finish();
  assert.throws(() => decodeClient(hello(new Uint8Array([0xff, 0xfe]), 0)), /name is not valid/);
  assert.throws(() => decodeClient(hello(new TextEncoder().encode("a"), 7)), /role is not valid/);
  const error = encodeServer({ type: "error", code: "internal", message: "", fatal: false });
  error[error.length - 1] = 2;
  assert.throws(() => decodeServer(error), /fatal is not valid/);
  const unknownCode = new Writer(0x88).string("nope").string("").bool(false).finish();
  assert.throws(() => decodeServer(unknownCode), /code is not valid/);
  // A list claiming more items than bytes remain is refused before anything is read.
  assert.throws(() => decodeServer(new Writer(0x84).uint(1_000_000).finish()), /ends inside hashes/);
});

test("integers round-trip at every length; overlong and overflowing ones are refused", () => {
  for (const value of [0n, 1n, 127n, 128n, 300n, 16_383n, 16_384n, 0xffffffffn, (1n << 64n) - 1n]) {
    const bytes = new Writer(0).uint(value).finish();
    const r = new Reader(bytes.subarray(1));
    assert.equal(r.bigUint("value"), value);
    r.end();
  }
  assert.throws(() => new Reader(new Uint8Array([...new Array(10).fill(0x80), 0])).bigUint("x"), DecodeError);
  const overflow = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
  assert.throws(() => new Reader(overflow).bigUint("x"), /too large/);
  assert.throws(() => new Reader(new Uint8Array([0x80])).bigUint("x"), /ends inside/);
  // Valid on the wire but beyond a JavaScript number: refused where a number is needed.
  const big = new Writer(0).uint(1n << 60n).finish();
  assert.throws(() => new Reader(big.subarray(1)).uint("seq"), /too large/);
});
