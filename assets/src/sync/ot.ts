// One side of the two-party Jupiter exchange between the page and the sync worker, over
// CodeMirror ChangeSets. Both sides start from the same text. Each side sends its own
// edits tagged with how many edits it has received from the other, and keeps its own
// edits until the other side reports having seen them; an incoming edit is transformed
// over those, and they over it, so both sides end with the same text. At one position
// the page's (local) insertions go before the worker's (remote) ones on both sides.
import type { ChangeSet } from "@codemirror/state";

export class Jupiter {
  /** Edits received from the other side. */
  received = 0;
  /** Own edits the other side may not have seen, each based on the one before. */
  private unseen: ChangeSet[] = [];
  /** Own edits sent before `unseen[0]`. */
  private sentBefore = 0;

  /** `ownFirst`: whether this side's insertions go before the other's at one position. */
  constructor(private readonly ownFirst: boolean) {}

  /** Records an own edit, made on the current text; returns the tag to send with it. */
  own(changes: ChangeSet): number {
    this.unseen.push(changes);
    return this.received;
  }

  /** An edit from the other side made after it had seen `seen` own edits, as it applies here. */
  receive(changes: ChangeSet, seen: number): ChangeSet {
    this.forget(seen);
    let incoming = changes;
    this.unseen = this.unseen.map((own) => {
      const mapped = incoming.map(own, !this.ownFirst);
      const ownMapped = own.map(incoming, this.ownFirst);
      incoming = mapped;
      return ownMapped;
    });
    this.received += 1;
    return incoming;
  }

  /** A position in the other side's text (after `seen` own edits) as a position here. */
  mapPos(pos: number, seen: number): number {
    this.forget(seen);
    for (const own of this.unseen) pos = own.mapPos(pos, 1);
    return pos;
  }

  private forget(seen: number): void {
    const drop = seen - this.sentBefore;
    if (drop > 0) {
      this.unseen.splice(0, drop);
      this.sentBefore = seen;
    }
  }
}
