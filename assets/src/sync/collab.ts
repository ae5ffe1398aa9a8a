// The CodeMirror side of collaborative editing: every local transaction that changes
// the text goes to the sync worker at once (no debounce) with the number of remote
// edits it was made on; remote edits from the worker are transformed over the local
// edits it had not seen yet and applied in one transaction per batch. Selections go out
// as presence; remote selections come back as positions to draw.
import { Annotation, ChangeSet, type Extension } from "@codemirror/state";
import { EditorView, type ViewUpdate } from "@codemirror/view";

import type { Range } from "./messages";
import { Jupiter } from "./ot";

/** Marks the transactions that apply remote edits (so they are not sent back). */
const remoteEdit = Annotation.define<boolean>();

export interface CollabLink {
  edit(changes: ChangeSet, seen: number): void;
  presence(ranges: Range[], seen: number): void;
}

export class Collab {
  private readonly jupiter = new Jupiter(true);
  private view: EditorView | null = null;

  constructor(private readonly link: CollabLink) {}

  /** The extension to install in the editor this bridge serves. */
  extension(): Extension {
    return EditorView.updateListener.of((update) => this.onUpdate(update));
  }

  attach(view: EditorView): void {
    this.view = view;
    this.sendPresence(view);
  }

  /** Applies a batch of remote edits made on top of `seen` local edits. */
  applyRemote(changes: ChangeSet, seen: number): void {
    const mapped = this.jupiter.receive(changes, seen);
    if (!this.view || mapped.empty) return;
    this.view.dispatch({ changes: mapped, annotations: [remoteEdit.of(true)], scrollIntoView: false });
  }

  /** Positions from the worker's text (after `seen` local edits) as positions here. */
  mapRanges(ranges: Range[], seen: number): Range[] {
    const length = this.view?.state.doc.length ?? 0;
    const clamp = (pos: number) => Math.max(0, Math.min(length, pos));
    return ranges.map((r) => ({
      anchor: clamp(this.jupiter.mapPos(r.anchor, seen)),
      head: clamp(this.jupiter.mapPos(r.head, seen)),
    }));
  }

  private onUpdate(update: ViewUpdate): void {
    for (const tr of update.transactions) {
      if (!tr.docChanged || tr.annotation(remoteEdit)) continue;
      const seen = this.jupiter.own(tr.changes);
      this.link.edit(tr.changes, seen);
    }
    // Remote edits move the selection too, but Automerge cursors already follow them.
    const local = update.transactions.some((tr) => !tr.annotation(remoteEdit));
    if (update.focusChanged || (local && (update.selectionSet || update.docChanged))) this.sendPresence(update.view);
  }

  private sendPresence(view: EditorView): void {
    const ranges = view.hasFocus
      ? view.state.selection.ranges.map((r) => ({ anchor: r.anchor, head: r.head }))
      : [];
    this.link.presence(ranges, this.jupiter.received);
  }
}
