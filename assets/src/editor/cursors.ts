// Other participants' cursors and selections. A StateField keeps them, maps them through
// every document change so they stay on the same character, and two layers draw them:
// translucent selections under the text, carets with name labels above it.
import {
  EditorSelection,
  StateEffect,
  StateField,
  Transaction,
  type EditorState,
  type Extension,
  type StateEffectType,
} from "@codemirror/state";
import { EditorView, layer, RectangleMarker, type LayerMarker, type ViewUpdate } from "@codemirror/view";
import { readableTextOn, safeColor } from "./color";

/** One selection of a peer, as UTF-16 offsets in the current document. */
export interface RemoteSelection {
  anchor: number;
  head: number;
}

/** A peer's cursor. The first selection is the peer's main one and carries the name label. */
export interface RemoteCursor {
  peerId: number;
  name: string;
  /** `#rrggbb`; anything else is replaced by a colour chosen from the peer id. */
  color: string;
  selections: RemoteSelection[];
}

/**
 * Replaces every remote cursor. Positions refer to the document after the transaction
 * that carries the effect; they are clamped to it.
 */
export const setRemoteCursors: StateEffectType<RemoteCursor[]> = StateEffect.define<RemoteCursor[]>();

/** The cursors to draw: each peer's selections with that peer's name and colour. */
export function labelledCursors(
  peers: readonly { peerId: number; name: string; color: string }[],
  cursors: readonly { peerId: number; ranges: RemoteSelection[] }[],
): RemoteCursor[] {
  const byId = new Map(peers.map((p) => [p.peerId, p]));
  const out: RemoteCursor[] = [];
  for (const c of cursors) {
    const peer = byId.get(c.peerId);
    if (peer && c.ranges.length > 0) {
      out.push({ peerId: peer.peerId, name: peer.name, color: peer.color, selections: c.ranges });
    }
  }
  return out;
}

interface TrackedCursor extends RemoteCursor {
  textColor: string;
  /** Bumped whenever the peer moves or edits at its caret, which redraws a fresh label. */
  version: number;
}

function mapCursor(cursor: TrackedCursor, tr: Transaction): TrackedCursor {
  const changes = tr.changes;
  // Text typed here goes after a peer's caret at the same spot; text arriving from
  // elsewhere (most likely that peer typing) carries the caret along.
  const local = tr.annotation(Transaction.userEvent) !== undefined;
  const caretAssoc = local ? -1 : 1;
  const main = cursor.selections[0];
  const peerEdited = !local && main !== undefined && changes.touchesRange(main.head) !== false;
  const selections = cursor.selections.map(({ anchor, head }) => {
    if (anchor === head) {
      const pos = changes.mapPos(head, caretAssoc);
      return { anchor: pos, head: pos };
    }
    // The range keeps its extent: text typed at either edge stays outside it, and a
    // range whose text was deleted collapses to where the deletion was.
    const low = Math.min(anchor, head), high = Math.max(anchor, head);
    let from = changes.mapPos(low, 1), to = changes.mapPos(high, -1);
    if (from >= to) from = to = changes.mapPos(low, -1);
    return head > anchor ? { anchor: from, head: to } : { anchor: to, head: from };
  });
  return { ...cursor, selections, version: cursor.version + (peerEdited ? 1 : 0) };
}

function sameSelections(a: readonly RemoteSelection[], b: readonly RemoteSelection[]): boolean {
  return a.length === b.length && a.every((s, i) => s.anchor === b[i]?.anchor && s.head === b[i]?.head);
}

function track(incoming: RemoteCursor[], previous: readonly TrackedCursor[], docLength: number): TrackedCursor[] {
  const clamp = (pos: number): number => Math.max(0, Math.min(docLength, Math.trunc(pos) || 0));
  return incoming.map((cursor) => {
    const color = safeColor(cursor.color, cursor.peerId);
    const selections = cursor.selections.map((s) => ({ anchor: clamp(s.anchor), head: clamp(s.head) }));
    const before = previous.find((p) => p.peerId === cursor.peerId);
    const unchanged =
      before !== undefined && before.name === cursor.name && before.color === color && sameSelections(before.selections, selections);
    const version = before === undefined ? 0 : unchanged ? before.version : before.version + 1;
    return { peerId: cursor.peerId, name: cursor.name, color, textColor: readableTextOn(color), selections, version };
  });
}

const remoteCursorField = StateField.define<readonly TrackedCursor[]>({
  create: () => [],
  update(cursors, tr) {
    let next = tr.docChanged ? cursors.map((c) => mapCursor(c, tr)) : cursors;
    for (const effect of tr.effects) {
      if (effect.is(setRemoteCursors)) next = track(effect.value, next, tr.state.doc.length);
    }
    return next;
  },
});

/** A selection rectangle in a peer's colour. */
class TintedRectangle implements LayerMarker {
  constructor(readonly rectangle: RectangleMarker, readonly color: string) {}
  draw(): HTMLElement {
    const element = this.rectangle.draw();
    element.style.backgroundColor = this.color;
    return element;
  }
  update(element: HTMLElement, previous: LayerMarker): boolean {
    if (!(previous instanceof TintedRectangle) || !this.rectangle.update(element, previous.rectangle)) return false;
    element.style.backgroundColor = this.color;
    return true;
  }
  eq(other: LayerMarker): boolean {
    return other instanceof TintedRectangle && other.color === this.color && this.rectangle.eq(other.rectangle);
  }
}

/** A caret bar in a peer's colour, with the peer's name above it (below it on line 1). */
class CaretMarker implements LayerMarker {
  constructor(
    readonly cursor: TrackedCursor,
    readonly left: number,
    readonly top: number,
    readonly height: number,
    readonly label: "above" | "below" | "none",
  ) {}

  draw(): HTMLElement {
    const caret = document.createElement("div");
    caret.className = "cm-remote-caret";
    caret.style.borderLeftColor = this.cursor.color;
    if (this.label !== "none") {
      const label = caret.appendChild(document.createElement("div"));
      label.className = `cm-remote-label cm-remote-label-${this.label}`;
      label.textContent = this.cursor.name; // names come from other users: text only
      label.style.backgroundColor = this.cursor.color;
      label.style.color = this.cursor.textColor;
    }
    this.place(caret);
    return caret;
  }

  /** Moves a caret drawn for the same peer state, so its label animation carries on. */
  update(element: HTMLElement, previous: LayerMarker): boolean {
    if (!(previous instanceof CaretMarker) || !this.sameLook(previous)) return false;
    this.place(element);
    return true;
  }

  eq(other: LayerMarker): boolean {
    return (
      other instanceof CaretMarker && this.sameLook(other) && other.left === this.left && other.top === this.top && other.height === this.height
    );
  }

  private sameLook(other: CaretMarker): boolean {
    const a = this.cursor, b = other.cursor;
    return a.peerId === b.peerId && a.version === b.version && a.name === b.name && a.color === b.color && this.label === other.label;
  }

  private place(element: HTMLElement): void {
    element.style.left = `${this.left}px`;
    element.style.top = `${this.top}px`;
    element.style.height = `${this.height}px`;
  }
}

function selectionMarkers(view: EditorView): LayerMarker[] {
  const markers: LayerMarker[] = [];
  for (const cursor of view.state.field(remoteCursorField)) {
    for (const { anchor, head } of cursor.selections) {
      if (anchor === head) continue;
      for (const rectangle of RectangleMarker.forRange(view, "cm-remote-selection", EditorSelection.range(anchor, head))) {
        markers.push(new TintedRectangle(rectangle, cursor.color));
      }
    }
  }
  return markers;
}

function caretMarkers(view: EditorView): LayerMarker[] {
  const markers: LayerMarker[] = [];
  const { doc } = view.state;
  for (const cursor of view.state.field(remoteCursorField)) {
    cursor.selections.forEach(({ head }, index) => {
      const [rectangle] = RectangleMarker.forRange(view, "cm-remote-caret", EditorSelection.cursor(head));
      if (!rectangle) return; // outside the rendered viewport
      const label = index > 0 ? "none" : doc.lineAt(head).number === 1 ? "below" : "above";
      markers.push(new CaretMarker(cursor, rectangle.left, rectangle.top, rectangle.height, label));
    });
  }
  return markers;
}

function cursorsChanged(update: ViewUpdate): boolean {
  return (
    update.docChanged ||
    update.viewportChanged ||
    update.geometryChanged ||
    update.startState.field(remoteCursorField) !== update.state.field(remoteCursorField)
  );
}

const remoteCursorTheme = EditorView.baseTheme({
  ".cm-remote-selection": { opacity: "0.28" },
  ".cm-remoteCaretLayer": { pointerEvents: "none" },
  ".cm-remote-caret": { borderLeft: "2px solid", marginLeft: "-1px", boxSizing: "border-box" },
  ".cm-remote-label": {
    position: "absolute",
    left: "-2px",
    padding: "0 4px",
    borderRadius: "3px 3px 3px 0",
    font: "600 11px/16px system-ui, sans-serif",
    whiteSpace: "nowrap",
    maxWidth: "14em",
    overflow: "hidden",
    textOverflow: "ellipsis",
    userSelect: "none",
  },
  ".cm-remote-label-above": { bottom: "100%", transformOrigin: "left bottom" },
  ".cm-remote-label-below": { top: "100%", borderRadius: "0 3px 3px 3px", transformOrigin: "left top" },
});

/** The remote cursors of a room: state, position mapping and drawing. */
export function remoteCursors(): Extension {
  return [
    remoteCursorField,
    layer({ above: false, class: "cm-remoteSelectionLayer", markers: selectionMarkers, update: cursorsChanged }),
    layer({ above: true, class: "cm-remoteCaretLayer", markers: caretMarkers, update: cursorsChanged }),
    remoteCursorTheme,
  ];
}

/** The remote cursors as currently mapped into `state` (for tests and the sync bridge). */
export function currentRemoteCursors(state: EditorState): RemoteCursor[] {
  const cursors = state.field(remoteCursorField, false) ?? [];
  return cursors.map(({ peerId, name, color, selections }) => ({ peerId, name, color, selections: selections.map((s) => ({ ...s })) }));
}
