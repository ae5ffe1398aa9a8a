// Messages between the page (main thread) and the sync worker.
//
// Text edits travel both ways as CodeMirror ChangeSets (JSON) under a Jupiter-style
// scheme: each side counts the edits it has received from the other, tags what it
// sends with that count, and transforms what arrives over its own edits the other side
// had not seen yet (see ot.ts).
import type { ChangeSet } from "@codemirror/state";

import type { Role } from "./protocol";

export type ChangeSetJSON = ReturnType<ChangeSet["toJSON"]>;

/** A position pair in the page's document (UTF-16 offsets). */
export interface Range {
  anchor: number;
  head: number;
}

export interface Person {
  peerId: number;
  name: string;
  color: string;
  role: Role;
}

export type ConnectionKind = "connecting" | "live" | "reconnecting" | "offline";

export interface Status {
  kind: ConnectionKind;
  /** Own edits the server has not acknowledged yet. */
  unsynced: number;
  attempt?: number;
  retryInMs?: number;
  /** Why the connection stopped or failed, in words for people. */
  message?: string;
  /** A fatal refusal: the worker will not reconnect by itself. */
  stopped?: boolean;
}

export type ToWorker =
  | {
      t: "start";
      roomId: string;
      wsUrl: string;
      wasmUrl: string;
      name: string;
      color: string;
      role: Role;
    }
  /** A local edit made on top of `seen` edits from the worker. */
  | { t: "edit"; changes: ChangeSetJSON; seen: number }
  | { t: "language"; id: string }
  /** The local selections (empty when the editor is not focused). */
  | { t: "presence"; ranges: Range[]; seen: number }
  /** Run the room's code (as the server has it, after the edits sent before). */
  | { t: "run"; stdin: string }
  /** A media signal for the server (JSON, docs/protocol.md "Media: audio and video"). */
  | { t: "media"; signal: string }
  | { t: "online" };

export type FromWorker =
  /** The document is there (from IndexedDB or the server): mount the editor. */
  | { t: "ready"; text: string; language: string; title: string }
  /** Remote edits made on top of `seen` edits from the page, with a new language if any. */
  | { t: "remote"; changes: ChangeSetJSON; seen: number; language?: string }
  | { t: "peers"; self: Person | null; peers: Person[] }
  /** Remote selections in the worker's text, on top of `seen` edits from the page. */
  | { t: "cursors"; cursors: { peerId: number; ranges: Range[] }[]; seen: number }
  | { t: "status"; status: Status }
  /** The role the server granted, and when the room ended (0 while it goes on). */
  | { t: "access"; role: Role; endedAt: number }
  /** A run event of the room: JSON (docs/protocol.md, `0x8a Run`). */
  | { t: "run"; event: string }
  /** A media signal from the server (JSON). */
  | { t: "media"; signal: string }
  /**
   * The socket's place in the room: this connection's peer id after each Welcome, null
   * once the socket has closed (the server then drops its call membership).
   */
  | { t: "socket"; peerId: number | null }
  /** A timing mark (`pairline:*`) to record on the page's performance timeline. */
  | { t: "mark"; name: string };
