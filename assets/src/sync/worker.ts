// The sync worker: a dedicated Web Worker that owns the room's WebSocket, its Automerge
// document and its IndexedDB copy, and speaks docs/protocol.md. The page sends it local
// edits (ChangeSets) and gets back remote edits, peers, cursors and the connection status.
import * as A from "@automerge/automerge/slim/next";
import { ChangeSet } from "@codemirror/state";

import { Document } from "./doc";
import type { FromWorker, Person, Range, Status, ToWorker } from "./messages";
import { Jupiter } from "./ot";
import {
  type Peer,
  type Role,
  type Selection,
  type ServerMessage,
  VERSION,
  decodeServer,
  encodeClient,
  hexToHash,
  hashToHex,
} from "./protocol";
import { RoomStore } from "./store";
import { Watermark } from "./watermark";

type Start = Extract<ToWorker, { t: "start" }>;

/** Most change bytes in one outgoing Changes frame (the server takes 1 MiB by default). */
const FRAME_BYTES = 900 * 1024;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Presence updates are coalesced over this long (edits never are). */
const PRESENCE_MS = 30;
/** Longest wait for the catch-up before the editor mounts on what has arrived. */
const CATCH_UP_WAIT_MS = 2_000;
/** Chunks in IndexedDB before they are compacted into one saved document. */
const COMPACT_AFTER = 400;
/** Errors after which reconnecting is pointless until the page is reloaded. */
const RETRYABLE = new Set(["server_shutting_down", "internal"]);

const ERROR_TEXT: Record<string, string> = {
  room_not_found: "This room does not exist any more.",
  room_full: "This room is full.",
  observer_cannot_edit: "Observers cannot edit this room.",
  unsupported_version: "This page is out of date: reload it.",
  message_too_large: "An edit was too large for the server.",
  rate_limited: "Too many messages were sent too quickly.",
  access_revoked: "Your account was disabled: ask an admin.",
};

const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);

let cfg: Start;
/** The role the server granted: the one asked for, until the room ends for a candidate. */
let role: Role = "observer";
let store: RoomStore;
/** Created once the wasm is loaded. */
let doc: Document;
let watermark = new Watermark();
/** The `syncedSeq` the last Hello said; the watermark restarts from it at Welcome. */
let helloSynced = 0;
/** Own changes not yet acknowledged, in the order they were made (hash → bytes, IDB key). */
const unacked = new Map<string, { bytes: Uint8Array; key: Promise<number | null> }>();
let ready = false;
let jupiter = new Jupiter(false);
let socket: WebSocket | null = null;
let live = false;
let catchUpTo = 0;
let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let stoppedBecause: string | null = null;
let lastError: { code: string; message: string } | null = null;
let self_: Person | null = null;
const peers = new Map<number, Peer>();
const presence = new Map<number, Selection[]>();
let localPresence: Selection[] = [];
let presenceTimer: ReturnType<typeof setTimeout> | undefined;
let compactTimer: ReturnType<typeof setTimeout> | undefined;
let readyTimer: ReturnType<typeof setTimeout> | undefined;

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.t) {
    case "start":
      start(message).catch((err) => fail(`The editor could not start: ${err instanceof Error ? err.message : err}`));
      break;
    case "edit":
      if (ready) localEdit(ChangeSet.fromJSON(message.changes), message.seen);
      break;
    case "language":
      if (ready && role === "editor") commitLocal(doc.setLanguage(message.id));
      break;
    case "presence":
      setPresence(message.ranges, message.seen);
      break;
    case "run":
      // The edits made before were sent at once: the server runs the code with them.
      if (socket && live) send(encodeClient({ type: "run", stdin: message.stdin }));
      else {
        const refusal = { type: "refused", message: "Not connected: the code can run once the connection is back." };
        post({ t: "run", event: JSON.stringify(refusal) });
      }
      break;
    case "media":
      // The page re-joins its call at each new socket (see "socket"): nothing is queued.
      send(encodeClient({ type: "media", signal: message.signal }));
      break;
    case "online":
      reconnectNow();
      break;
  }
};
self.addEventListener("online", reconnectNow);

async function start(message: Start): Promise<void> {
  cfg = message;
  role = cfg.role;
  await A.initializeWasm(cfg.wasmUrl);
  post({ t: "mark", name: "pairline:wasm-ready" });
  doc = new Document();
  store = await RoomStore.open(cfg.roomId);
  const stored = await store.load();
  doc.loadStored(stored.parts, stored.unacked.map((u) => u.bytes));
  for (const u of stored.unacked) unacked.set(u.hash, { bytes: u.bytes, key: Promise.resolve(u.key) });
  watermark = new Watermark(stored.syncedSeq);
  if (doc.hasCode) becomeReady();
  connect();
}

function becomeReady(): void {
  ready = true;
  jupiter = new Jupiter(false);
  post({ t: "mark", name: "pairline:document-loaded" });
  post({ t: "ready", text: doc.text, language: doc.language, title: doc.title });
  sendCursors();
}

function status(kind: Status["kind"], extra: Partial<Status> = {}): void {
  post({ t: "status", status: { kind, unsynced: unacked.size, ...extra } });
}

function fail(message: string): void {
  stoppedBecause = message;
  status("offline", { message, stopped: true });
}

function connect(): void {
  if (socket || stoppedBecause) return;
  clearTimeout(retryTimer);
  status(attempt === 0 ? "connecting" : "reconnecting", { attempt });
  const ws = new WebSocket(cfg.wsUrl);
  ws.binaryType = "arraybuffer";
  socket = ws;
  lastError = null;
  ws.onopen = () => {
    helloSynced = watermark.synced;
    const hello = {
      version: VERSION,
      syncedSeq: helloSynced,
      heads: doc.heads().map(hexToHash),
      name: cfg.name,
      color: cfg.color,
      role: cfg.role,
    };
    ws.send(encodeClient({ type: "hello", hello }));
  };
  ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
    try {
      handle(decodeServer(new Uint8Array(event.data)));
    } catch (err) {
      console.error("a message from the server could not be handled", err);
      ws.close(4400, "bad message");
    }
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    live = false;
    peers.clear();
    presence.clear();
    self_ = null;
    post({ t: "socket", peerId: null });
    post({ t: "peers", self: null, peers: [] });
    sendCursors();
    const code = lastError?.code;
    if (code && !RETRYABLE.has(code)) {
      fail(ERROR_TEXT[code] ?? lastError?.message ?? "The server refused the connection.");
    } else if (event.code === 4404) {
      fail(ERROR_TEXT.room_not_found);
    } else {
      scheduleReconnect(code === "server_shutting_down" ? "The server is restarting." : undefined);
    }
  };
}

function scheduleReconnect(message?: string): void {
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  const retryInMs = Math.round(delay * (0.5 + Math.random() * 0.5));
  attempt += 1;
  const online = (self as unknown as { navigator: Navigator }).navigator.onLine;
  status(online ? "reconnecting" : "offline", {
    attempt,
    retryInMs,
    message: message ?? (online ? "Lost the connection to the server." : "This computer is offline."),
  });
  retryTimer = setTimeout(connect, retryInMs);
}

function reconnectNow(): void {
  if (socket || stoppedBecause || !cfg) return;
  clearTimeout(retryTimer);
  connect();
}

function send(bytes: Uint8Array): void {
  if (socket && live) socket.send(bytes);
}

function sendChanges(changes: Uint8Array[]): void {
  let frame: Uint8Array[] = [];
  let size = 0;
  for (const change of changes) {
    if (size + change.length > FRAME_BYTES && frame.length > 0) {
      send(encodeClient({ type: "changes", changes: frame }));
      frame = [];
      size = 0;
    }
    frame.push(change);
    size += change.length;
  }
  if (frame.length > 0) send(encodeClient({ type: "changes", changes: frame }));
}

function handle(message: ServerMessage): void {
  switch (message.type) {
    case "welcome": {
      const w = message.welcome;
      post({ t: "mark", name: "pairline:welcome" });
      // The catch-up sends everything after what Hello said; numbers received above it
      // before may have been reused by a server that crashed, so they count for nothing.
      watermark = new Watermark(w.reset ? 0 : helloSynced);
      watermark.durable(w.durableSeq);
      if (w.snapshot) {
        if (doc.heads().length === 0) {
          doc.loadSnapshot(w.snapshot.document);
          post({ t: "mark", name: "pairline:snapshot-loaded" });
          watermark.cover(w.snapshot.coversSeq);
          void store.compact(w.snapshot.document, watermark.synced);
        } else {
          remote([], w.snapshot.document);
          watermark.cover(w.snapshot.coversSeq);
          void store.append(doc.saveIncremental(), watermark.synced);
        }
      }
      live = true;
      attempt = 0;
      catchUpTo = w.maxSeq;
      grant(w.role, w.endedAt);
      self_ = { peerId: w.peerId, name: cfg.name, color: cfg.color, role };
      peers.clear();
      for (const peer of w.peers) peers.set(peer.peerId, peer);
      postPeers();
      post({ t: "socket", peerId: w.peerId });
      if (role === "editor") sendChanges([...unacked.values()].map((u) => u.bytes));
      if (localPresence.length > 0) send(encodeClient({ type: "presence", selections: localPresence }));
      status("live");
      caughtUp();
      break;
    }
    case "changes":
      watermark.durable(message.durableSeq);
      remote(message.changes.map((c) => c.change));
      for (const c of message.changes) watermark.see(c.seq);
      void store.append(doc.saveIncremental(), watermark.synced);
      maybeCompact();
      caughtUp();
      break;
    case "ack": {
      watermark.durable(message.durableSeq);
      const keys: Promise<number | null>[] = [];
      for (const { hash, seq } of message.acked) {
        const hex = hashToHex(hash);
        const entry = unacked.get(hex);
        if (entry) keys.push(entry.key);
        unacked.delete(hex);
        watermark.see(seq);
      }
      void Promise.all(keys).then((k) =>
        store.acknowledge(k.filter((key): key is number => key !== null), watermark.synced),
      );
      status("live");
      break;
    }
    case "need": {
      const changes = message.hashes
        .map((hash) => {
          const hex = hashToHex(hash);
          return unacked.get(hex)?.bytes ?? doc.change(hex);
        })
        .filter((c): c is Uint8Array => c !== null);
      if (role === "editor") sendChanges(changes);
      break;
    }
    case "peerJoined":
      peers.set(message.peer.peerId, message.peer);
      postPeers();
      // The server relays presence but keeps none: show the newcomer where we are.
      if (localPresence.length > 0) schedulePresence();
      break;
    case "peerLeft":
      peers.delete(message.peerId);
      presence.delete(message.peerId);
      postPeers();
      sendCursors();
      break;
    case "peerPresence":
      presence.set(message.peerId, message.selections);
      sendCursors();
      break;
    case "run":
      post({ t: "run", event: message.event });
      break;
    case "media":
      post({ t: "media", signal: message.signal });
      break;
    case "ended":
      grant(message.role, message.endedAt);
      if (self_) self_ = { ...self_, role };
      postPeers();
      break;
    case "error":
      if (message.fatal) lastError = { code: message.code, message: message.message };
      else console.warn(`the server says: ${message.message} (${message.code})`);
      break;
  }
}

/** Takes the role the server granted and tells the page (whose editor follows it). */
function grant(granted: Role, endedAt: number): void {
  role = granted;
  post({ t: "access", role, endedAt });
}

/**
 * Whether the catch-up after Welcome is complete: then the editor may mount. If it takes
 * long, the editor mounts anyway once the document has its code (the rest then arrives
 * as ordinary remote edits).
 */
function caughtUp(): void {
  if (ready || !doc.hasCode) return;
  if (watermark.received >= catchUpTo) becomeReady();
  else readyTimer ??= setTimeout(() => !ready && doc.hasCode && becomeReady(), CATCH_UP_WAIT_MS);
}

/** Applies remote changes (or a saved document) and tells the page what they did. */
function remote(changes: Uint8Array[], saved?: Uint8Array): void {
  const { text, language } = doc.applyRemote(changes, saved, ready);
  if (!ready) return;
  if (text.empty && language === undefined) return;
  const seen = jupiter.own(text);
  post({ t: "remote", changes: text.toJSON(), seen, language });
  if (presence.size > 0) sendCursors();
}

function localEdit(changes: ChangeSet, seen: number): void {
  if (!ready) return;
  const edit = jupiter.receive(changes, seen);
  if (role !== "editor") return;
  commitLocal(doc.applyLocal(edit));
}

/** Sends an own change at once, keeps it until acknowledged, and stores it. */
function commitLocal(change: { hash: string; bytes: Uint8Array } | null): void {
  if (!change) return;
  send(encodeClient({ type: "changes", changes: [change.bytes] }));
  const key = store.append(doc.saveIncremental(), watermark.synced, change);
  unacked.set(change.hash, { bytes: change.bytes, key });
  if (stoppedBecause) status("offline", { message: stoppedBecause, stopped: true });
  else if (live) status("live");
  else status(socket ? "connecting" : "reconnecting", { message: "Not connected: edits are kept on this device." });
  maybeCompact();
}

function setPresence(ranges: Range[], seen: number): void {
  if (!ready) return;
  localPresence = ranges.map((r) => ({
    anchor: doc.cursor(jupiter.mapPos(r.anchor, seen)),
    head: doc.cursor(jupiter.mapPos(r.head, seen)),
  }));
  schedulePresence();
}

function schedulePresence(): void {
  if (presenceTimer !== undefined) return;
  presenceTimer = setTimeout(() => {
    presenceTimer = undefined;
    send(encodeClient({ type: "presence", selections: localPresence }));
  }, PRESENCE_MS);
}

/** Every peer's selections as positions in the current text. */
function sendCursors(): void {
  if (!ready) return;
  const cursors: { peerId: number; ranges: Range[] }[] = [];
  for (const [peerId, selections] of presence) {
    const ranges: Range[] = [];
    for (const s of selections) {
      const anchor = doc.position(s.anchor);
      const head = doc.position(s.head);
      if (anchor !== null && head !== null) ranges.push({ anchor, head });
    }
    cursors.push({ peerId, ranges });
  }
  post({ t: "cursors", cursors, seen: jupiter.received });
}

function postPeers(): void {
  post({ t: "peers", self: self_, peers: [...peers.values()] });
}

function maybeCompact(): void {
  if (compactTimer !== undefined || store.chunksSinceSnapshot < COMPACT_AFTER) return;
  compactTimer = setTimeout(() => {
    compactTimer = undefined;
    void store.compact(doc.save(), watermark.synced);
  }, 2_000);
}
