// The sync protocol of docs/protocol.md: message types and their binary encoding, with
// no I/O. The browser encodes client messages and decodes server messages; tests do both
// directions against the golden fixtures the Rust codec produces.

export const VERSION = 4;
export const MAX_NAME_CHARS = 64;
export const MAX_CURSOR_BYTES = 128;
export const MAX_SELECTIONS = 16;

import { DecodeError, HASH_BYTES, Reader, Writer } from "./codec";

export { DecodeError, Reader, Writer, hashToHex, hexToHash } from "./codec";

export type Role = "editor" | "observer";
export type Hash = Uint8Array;
export interface Selection {
  anchor: string;
  head: string;
}
export interface Peer {
  peerId: number;
  name: string;
  color: string;
  role: Role;
}
export interface Hello {
  version: number;
  syncedSeq: number;
  heads: Hash[];
  name: string;
  color: string;
  role: Role;
}
export interface Preview {
  seq: number;
  code: string;
  language: string;
  title: string;
}
export interface Snapshot {
  coversSeq: number;
  document: Uint8Array;
}
export interface Welcome {
  version: number;
  peerId: number;
  maxSeq: number;
  durableSeq: number;
  reset: boolean;
  preview: Preview;
  snapshot: Snapshot | null;
  peers: Peer[];
  /** The role the server granted (observer for a candidate once the room has ended). */
  role: Role;
  /** When the interviewer ended the room (ms since the epoch); 0 while it goes on. */
  endedAt: number;
}

export type ErrorCode =
  | "malformed_message"
  | "unsupported_version"
  | "expected_hello"
  | "invalid_hello"
  | "invalid_change"
  | "observer_cannot_edit"
  | "missing_dependencies"
  | "too_many_pending"
  | "message_too_large"
  | "rate_limited"
  | "room_full"
  | "room_not_found"
  | "invalid_presence"
  | "room_ended"
  | "access_revoked"
  | "server_shutting_down"
  | "internal";

export const ERROR_CODES: readonly ErrorCode[] = [
  "malformed_message",
  "unsupported_version",
  "expected_hello",
  "invalid_hello",
  "invalid_change",
  "observer_cannot_edit",
  "missing_dependencies",
  "too_many_pending",
  "message_too_large",
  "rate_limited",
  "room_full",
  "room_not_found",
  "invalid_presence",
  "room_ended",
  "access_revoked",
  "server_shutting_down",
  "internal",
];

export type ClientMessage =
  | { type: "hello"; hello: Hello }
  | { type: "changes"; changes: Uint8Array[] }
  | { type: "presence"; selections: Selection[] }
  /** Run the room's code as it is now, with this standard input. */
  | { type: "run"; stdin: string }
  /** A media signal: JSON (docs/protocol.md, "Media: audio and video"). */
  | { type: "media"; signal: string };

export type ServerMessage =
  | { type: "welcome"; welcome: Welcome }
  | { type: "changes"; durableSeq: number; changes: { seq: number; change: Uint8Array }[] }
  | { type: "ack"; durableSeq: number; acked: { hash: Hash; seq: number }[] }
  | { type: "need"; hashes: Hash[] }
  | { type: "peerJoined"; peer: Peer }
  | { type: "peerLeft"; peerId: number }
  | { type: "peerPresence"; peerId: number; selections: Selection[] }
  | { type: "error"; code: ErrorCode; message: string; fatal: boolean }
  /** The room ended at `endedAt`; `role` is the recipient's role from now on. */
  | { type: "ended"; endedAt: number; role: Role }
  /** A run event: a JSON object (docs/protocol.md, `0x8a Run`). */
  | { type: "run"; event: string }
  /** A media signal: JSON (docs/protocol.md, "Media: audio and video"). */
  | { type: "media"; signal: string };

const TAG = {
  hello: 0x01,
  changes: 0x02,
  presence: 0x03,
  run: 0x04,
  media: 0x05,
  welcome: 0x81,
  serverChanges: 0x82,
  ack: 0x83,
  need: 0x84,
  peerJoined: 0x85,
  peerLeft: 0x86,
  peerPresence: 0x87,
  error: 0x88,
  ended: 0x89,
  runEvent: 0x8a,
  mediaSignal: 0x8b,
} as const;

function roleCode(role: Role): number {
  return role === "editor" ? 0 : 1;
}

function readRole(r: Reader): Role {
  const code = r.uint("role");
  if (code === 0) return "editor";
  if (code === 1) return "observer";
  throw new DecodeError("role is not valid");
}

function writeSelections(w: Writer, selections: readonly Selection[]): void {
  w.list(selections, (w, s) => w.string(s.anchor).string(s.head));
}

function readSelections(r: Reader): Selection[] {
  return r.list("selections", (r) => ({ anchor: r.string("anchor"), head: r.string("head") }));
}

function writePeer(w: Writer, peer: Peer): void {
  w.uint(peer.peerId).string(peer.name).string(peer.color).uint(roleCode(peer.role));
}

function readPeer(r: Reader): Peer {
  return {
    peerId: r.uint("peer_id"),
    name: r.string("name", MAX_NAME_CHARS * 4),
    color: r.string("color", 16),
    role: readRole(r),
  };
}

export function encodeClient(message: ClientMessage): Uint8Array {
  switch (message.type) {
    case "hello": {
      const h = message.hello;
      const w = new Writer(TAG.hello, 64 + h.heads.length * HASH_BYTES);
      w.uint(h.version).uint(h.syncedSeq);
      w.list(h.heads, (w, head) => w.hash(head));
      return w.string(h.name).string(h.color).uint(roleCode(h.role)).finish();
    }
    case "changes": {
      const size = message.changes.reduce((sum, c) => sum + c.length + 5, 8);
      const w = new Writer(TAG.changes, size);
      return w.list(message.changes, (w, change) => w.bytes(change)).finish();
    }
    case "presence": {
      const w = new Writer(TAG.presence);
      writeSelections(w, message.selections);
      return w.finish();
    }
    case "run":
      return new Writer(TAG.run).string(message.stdin).finish();
    case "media":
      return new Writer(TAG.media).string(message.signal).finish();
  }
}

export function decodeClient(bytes: Uint8Array): ClientMessage {
  if (bytes.length === 0) throw new DecodeError("the message is empty");
  const r = new Reader(bytes.subarray(1));
  let message: ClientMessage;
  switch (bytes[0]) {
    case TAG.hello:
      message = {
        type: "hello",
        hello: {
          version: r.uint("version"),
          syncedSeq: r.uint("synced_seq"),
          heads: r.list("heads", (r) => r.hash("head")),
          name: r.string("name", MAX_NAME_CHARS * 4),
          color: r.string("color", 16),
          role: readRole(r),
        },
      };
      break;
    case TAG.changes:
      message = { type: "changes", changes: r.list("changes", (r) => r.bytes("change")) };
      break;
    case TAG.presence:
      message = { type: "presence", selections: readSelections(r) };
      break;
    case TAG.run:
      message = { type: "run", stdin: r.string("stdin") };
      break;
    case TAG.media:
      message = { type: "media", signal: r.string("signal") };
      break;
    default:
      throw new DecodeError(`unknown message type 0x${bytes[0].toString(16).padStart(2, "0")}`);
  }
  r.end();
  return message;
}

export function encodeServer(message: ServerMessage): Uint8Array {
  switch (message.type) {
    case "welcome": {
      const m = message.welcome;
      const w = new Writer(TAG.welcome, 64 + m.preview.code.length * 3 + (m.snapshot?.document.length ?? 0));
      w.uint(m.version).uint(m.peerId).uint(m.maxSeq).uint(m.durableSeq).bool(m.reset);
      w.uint(m.preview.seq).string(m.preview.code).string(m.preview.language).string(m.preview.title);
      w.bool(m.snapshot !== null);
      if (m.snapshot) w.uint(m.snapshot.coversSeq).bytes(m.snapshot.document);
      return w.list(m.peers, writePeer).uint(roleCode(m.role)).uint(m.endedAt).finish();
    }
    case "changes": {
      const w = new Writer(TAG.serverChanges);
      w.uint(message.durableSeq);
      return w.list(message.changes, (w, c) => w.uint(c.seq).bytes(c.change)).finish();
    }
    case "ack": {
      const w = new Writer(TAG.ack);
      w.uint(message.durableSeq);
      return w.list(message.acked, (w, a) => w.hash(a.hash).uint(a.seq)).finish();
    }
    case "need":
      return new Writer(TAG.need).list(message.hashes, (w, h) => w.hash(h)).finish();
    case "peerJoined": {
      const w = new Writer(TAG.peerJoined);
      writePeer(w, message.peer);
      return w.finish();
    }
    case "peerLeft":
      return new Writer(TAG.peerLeft).uint(message.peerId).finish();
    case "peerPresence": {
      const w = new Writer(TAG.peerPresence).uint(message.peerId);
      writeSelections(w, message.selections);
      return w.finish();
    }
    case "error":
      return new Writer(TAG.error).string(message.code).string(message.message).bool(message.fatal).finish();
    case "ended":
      return new Writer(TAG.ended).uint(message.endedAt).uint(roleCode(message.role)).finish();
    case "run":
      return new Writer(TAG.runEvent).string(message.event).finish();
    case "media":
      return new Writer(TAG.mediaSignal).string(message.signal).finish();
  }
}

export function decodeServer(bytes: Uint8Array): ServerMessage {
  if (bytes.length === 0) throw new DecodeError("the message is empty");
  const r = new Reader(bytes.subarray(1));
  let message: ServerMessage;
  switch (bytes[0]) {
    case TAG.welcome:
      message = {
        type: "welcome",
        welcome: {
          version: r.uint("version"),
          peerId: r.uint("peer_id"),
          maxSeq: r.uint("max_seq"),
          durableSeq: r.uint("durable_seq"),
          reset: r.bool("reset"),
          preview: {
            seq: r.uint("preview seq"),
            code: r.string("preview code"),
            language: r.string("preview language", 64),
            title: r.string("preview title", 1024),
          },
          snapshot: r.option("snapshot", (r) => ({
            coversSeq: r.uint("covers_seq"),
            document: r.bytes("document"),
          })),
          peers: r.list("peers", readPeer),
          role: readRole(r),
          endedAt: r.uint("ended_at"),
        },
      };
      break;
    case TAG.serverChanges:
      message = {
        type: "changes",
        durableSeq: r.uint("durable_seq"),
        changes: r.list("changes", (r) => ({ seq: r.uint("seq"), change: r.bytes("change") })),
      };
      break;
    case TAG.ack:
      message = {
        type: "ack",
        durableSeq: r.uint("durable_seq"),
        acked: r.list("acked", (r) => ({ hash: r.hash("hash"), seq: r.uint("seq") })),
      };
      break;
    case TAG.need:
      message = { type: "need", hashes: r.list("hashes", (r) => r.hash("hash")) };
      break;
    case TAG.peerJoined:
      message = { type: "peerJoined", peer: readPeer(r) };
      break;
    case TAG.peerLeft:
      message = { type: "peerLeft", peerId: r.uint("peer_id") };
      break;
    case TAG.peerPresence:
      message = { type: "peerPresence", peerId: r.uint("peer_id"), selections: readSelections(r) };
      break;
    case TAG.error: {
      const code = r.string("code", 64);
      if (!ERROR_CODES.includes(code as ErrorCode)) throw new DecodeError("code is not valid");
      message = { type: "error", code: code as ErrorCode, message: r.string("message", 4096), fatal: r.bool("fatal") };
      break;
    }
    case TAG.ended:
      message = { type: "ended", endedAt: r.uint("ended_at"), role: readRole(r) };
      break;
    case TAG.runEvent:
      message = { type: "run", event: r.string("event") };
      break;
    case TAG.mediaSignal:
      message = { type: "media", signal: r.string("signal") };
      break;
    default:
      throw new DecodeError(`unknown message type 0x${bytes[0].toString(16).padStart(2, "0")}`);
  }
  r.end();
  return message;
}
