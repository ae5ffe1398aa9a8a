// The page's handle on the sync worker: starts it, forwards local edits, presence and
// language switches to it, and hands what it reports to the room page.
import { ChangeSet } from "@codemirror/state";

import type { FromWorker, Person, Range, Status, ToWorker } from "./messages";
import type { Role } from "./protocol";

export interface SessionOptions {
  roomId: string;
  wsUrl: string;
  name: string;
  color: string;
  role: Role;
}

export interface SessionHandlers {
  ready(text: string, language: string, title: string): void;
  remote(changes: ChangeSet, seen: number, language?: string): void;
  peers(self: Person | null, peers: Person[]): void;
  cursors(cursors: { peerId: number; ranges: Range[] }[], seen: number): void;
  status(status: Status): void;
  access(role: Role, endedAt: number): void;
  /** A run event of the room (JSON); optional for sessions that never run code. */
  run?(event: string): void;
  /** A media signal from the server (JSON). */
  media?(signal: string): void;
  /** This connection's peer id after each Welcome; null once the socket has closed. */
  socket?(peerId: number | null): void;
}

/** Content-hashed file names of the worker and the wasm, set by build.rs at bundle time. */
declare const PAIRLINE_WORKER: string;
declare const PAIRLINE_WASM: string;
const WORKER_NAME = typeof PAIRLINE_WORKER === "string" ? PAIRLINE_WORKER : "worker.js";
const WASM_NAME = typeof PAIRLINE_WASM === "string" ? PAIRLINE_WASM : "automerge.wasm";

/** Where the worker bundle and the wasm live: beside this bundle (/assets/...). */
function assetUrl(name: string): string {
  return new URL(`./${name}`, import.meta.url).href;
}

/** The URLs of the worker bundle and the wasm (kept for offline reloads). */
export function syncAssetUrls(): string[] {
  return [assetUrl(WORKER_NAME), assetUrl(WASM_NAME)];
}

export class Session {
  private readonly worker: Worker;

  constructor(
    options: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    this.worker = new Worker(assetUrl(WORKER_NAME), { type: "module", name: `pairline sync ${options.roomId}` });
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      handlers.status({ kind: "offline", unsynced: 0, stopped: true, message: `The sync worker failed: ${event.message}` });
    };
    this.post({ t: "start", ...options, wasmUrl: assetUrl(WASM_NAME) });
    window.addEventListener("online", () => this.post({ t: "online" }));
  }

  edit(changes: ChangeSet, seen: number): void {
    this.post({ t: "edit", changes: changes.toJSON(), seen });
  }

  presence(ranges: Range[], seen: number): void {
    this.post({ t: "presence", ranges, seen });
  }

  setLanguage(id: string): void {
    this.post({ t: "language", id });
  }

  /** Asks the server to run the room's code with `stdin`; events come to `run`. */
  run(stdin: string): void {
    this.post({ t: "run", stdin });
  }

  /** Sends a media signal (JSON) to the server; dropped while not connected. */
  media(signal: string): void {
    this.post({ t: "media", signal });
  }

  close(): void {
    this.worker.terminate();
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromWorker): void {
    switch (message.t) {
      case "ready":
        this.handlers.ready(message.text, message.language, message.title);
        break;
      case "remote":
        this.handlers.remote(ChangeSet.fromJSON(message.changes), message.seen, message.language);
        break;
      case "peers":
        this.handlers.peers(message.self, message.peers);
        break;
      case "cursors":
        this.handlers.cursors(message.cursors, message.seen);
        break;
      case "status":
        this.handlers.status(message.status);
        break;
      case "access":
        this.handlers.access(message.role, message.endedAt);
        break;
      case "run":
        this.handlers.run?.(message.event);
        break;
      case "media":
        this.handlers.media?.(message.signal);
        break;
      case "socket":
        this.handlers.socket?.(message.peerId);
        break;
      case "mark":
        performance.mark(message.name);
        break;
    }
  }
}
