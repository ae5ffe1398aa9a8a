// The client's sync watermark (docs/protocol.md, "The watermark and catch-up"); the same
// rules as src/client/watermark.rs.

/** Tracks which sequence numbers have been received and which are durable. */
export class Watermark {
  private contiguous: number;
  private above = new Set<number>();
  private durableSeq: number;

  /** Starts from a stored watermark: everything up to `synced` is held. */
  constructor(synced = 0) {
    this.contiguous = synced;
    this.durableSeq = synced;
  }

  /** A change with sequence number `seq` was received (or acknowledged). */
  see(seq: number): void {
    if (seq <= this.contiguous) return;
    this.above.add(seq);
    this.advance();
  }

  /** Everything up to `seq` was received at once (a snapshot covering it). */
  cover(seq: number): void {
    this.contiguous = Math.max(this.contiguous, seq);
    for (const n of this.above) if (n <= seq) this.above.delete(n);
    this.advance();
  }

  /** The server said everything up to `seq` is durable. */
  durable(seq: number): void {
    this.durableSeq = Math.max(this.durableSeq, seq);
  }

  /** Every sequence number up to this has been received. */
  get received(): number {
    return this.contiguous;
  }

  /** What to send as `Hello.synced_seq` and to store: received and durable. */
  get synced(): number {
    return Math.min(this.contiguous, this.durableSeq);
  }

  private advance(): void {
    while (this.above.delete(this.contiguous + 1)) this.contiguous += 1;
  }
}
