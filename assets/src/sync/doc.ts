// The room's Automerge document inside the sync worker (schema in docs/protocol.md:
// `code` text, `language` and `meta.title` scalar strings, all created by the server's
// first change). Remote changes come out as CodeMirror ChangeSets on the `code` text;
// local ChangeSets go in as `splice`s. Text positions are UTF-16 code units, as in
// CodeMirror and in the server's Automerge (JS automerge 2.x indexes text that way).
import * as A from "@automerge/automerge/slim/next";
import { ChangeSet } from "@codemirror/state";

export interface RoomDoc {
  code: string;
  language?: unknown;
  meta?: { title?: unknown };
}

/** Batches with more changes than this are turned into one replacement by a text diff. */
const DIFF_ABOVE = 64;
const CODE = ["code"];

/** A scalar string reads as a RawString in the `next` API; text reads as a string. */
function plain(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "val" in value) return String((value as { val: unknown }).val);
  return "";
}

/** The document, its `code` length, and what its changes did to the text. */
export class Document {
  doc: A.Doc<RoomDoc> = A.init<RoomDoc>();
  /** Length of `code` in UTF-16 units, kept up to date from patches. */
  length = 0;

  get hasCode(): boolean {
    return typeof this.doc.code === "string";
  }

  get text(): string {
    return this.doc.code ?? "";
  }

  get language(): string {
    return plain(this.doc.language);
  }

  get title(): string {
    return plain(this.doc.meta?.title);
  }

  heads(): string[] {
    return A.getHeads(this.doc);
  }

  /** Loads stored parts (a saved document, then incremental chunks) and changes. */
  loadStored(parts: Uint8Array[], changes: Uint8Array[]): void {
    for (const part of parts) this.doc = A.loadIncremental(this.doc, part);
    if (changes.length > 0) [this.doc] = A.applyChanges(this.doc, changes);
    A.saveIncremental(this.doc); // the first call after a load returns everything
    this.length = this.text.length;
  }

  /** Loads a saved document into an empty one (much faster than merging). */
  loadSnapshot(saved: Uint8Array): void {
    this.doc = A.load<RoomDoc>(saved);
    A.saveIncremental(this.doc);
    this.length = this.text.length;
  }

  /** Everything not yet written out since the last call (or `save`). */
  saveIncremental(): Uint8Array {
    return A.saveIncremental(this.doc);
  }

  save(): Uint8Array {
    return A.save(this.doc);
  }

  change(hash: string): Uint8Array | null {
    return A.getBackend(this.doc).getChangeByHash(hash) ?? null;
  }

  /**
   * Applies remote changes (or a saved document to merge, when `saved` is set) and returns
   * what they did to `code` as one ChangeSet on the previous text, and the language if
   * it changed. With `track` false (nothing shown yet) it only applies them.
   */
  applyRemote(changes: Uint8Array[], saved?: Uint8Array, track = true): { text: ChangeSet; language?: string } {
    if (!track) {
      if (saved) this.doc = A.loadIncremental(this.doc, saved);
      else [this.doc] = A.applyChanges(this.doc, changes);
      this.length = this.text.length;
      return { text: ChangeSet.empty(this.length) };
    }
    const languageBefore = this.language;
    const big = changes.length > DIFF_ABOVE || saved !== undefined;
    const before = big ? this.text : "";
    let text = ChangeSet.empty(this.length);
    let length = this.length;
    let replaced = false;
    const patchCallback: A.PatchCallback<RoomDoc> = (patches) => {
      if (big) return;
      for (const patch of patches) {
        if (patch.path[0] !== "code") continue;
        if (patch.path.length !== 2) {
          replaced = true;
          continue;
        }
        const at = patch.path[1] as number;
        let step: ChangeSet | null = null;
        if (patch.action === "splice") {
          step = ChangeSet.of({ from: at, insert: patch.value }, length);
        } else if (patch.action === "del") {
          step = ChangeSet.of({ from: at, to: at + (patch.length ?? 1) }, length);
        }
        if (step) {
          text = text.compose(step);
          length = step.newLength;
        }
      }
    };
    if (saved) this.doc = A.loadIncremental(this.doc, saved);
    else [this.doc] = A.applyChanges(this.doc, changes, big ? {} : { patchCallback });
    if (big) text = diff(before, this.text, this.length);
    else if (replaced) text = ChangeSet.of({ from: 0, to: this.length, insert: this.text }, this.length);
    this.length = text.newLength;
    const language = this.language;
    return { text, language: language !== languageBefore ? language : undefined };
  }

  /** Applies a local edit as one change; returns its hash and bytes (null if a no-op). */
  applyLocal(edit: ChangeSet): { hash: string; bytes: Uint8Array } | null {
    if (edit.empty) return null;
    const splices: [number, number, string][] = [];
    edit.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      splices.push([fromA, toA - fromA, inserted.toString()]);
    });
    this.doc = A.change(this.doc, (d) => {
      for (let i = splices.length - 1; i >= 0; i--) A.splice(d, CODE, splices[i][0], splices[i][1], splices[i][2]);
    });
    this.length = edit.newLength;
    return this.lastLocal();
  }

  /** Sets the language as a scalar string (one atomic value). */
  setLanguage(id: string): { hash: string; bytes: Uint8Array } | null {
    if (this.language === id) return null;
    this.doc = A.change(this.doc, (d) => {
      d.language = new A.RawString(id);
    });
    return this.lastLocal();
  }

  /** An Automerge cursor (stable across edits) at a UTF-16 position of `code`. */
  cursor(pos: number): string {
    return A.getCursor(this.doc, CODE, Math.max(0, Math.min(pos, this.length)));
  }

  /** The position of a cursor, or null if it names an operation this document lacks. */
  position(cursor: string): number | null {
    try {
      return A.getCursorPosition(this.doc, CODE, cursor);
    } catch {
      return null;
    }
  }

  private lastLocal(): { hash: string; bytes: Uint8Array } {
    const bytes = A.getLastLocalChange(this.doc);
    if (!bytes) throw new Error("a local change was just made");
    // A local change depends on every head, so it is now the only one.
    return { hash: A.getHeads(this.doc)[0], bytes };
  }
}

/** One replacement turning `before` into `after`: the middle between common ends. */
function diff(before: string, after: string, length: number): ChangeSet {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (
    end < max - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  ) {
    end++;
  }
  if (start === before.length && start === after.length) return ChangeSet.empty(length);
  return ChangeSet.of(
    { from: start, to: before.length - end, insert: after.slice(start, after.length - end) },
    before.length,
  );
}
