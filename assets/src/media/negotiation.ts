// Who offers when (docs/protocol.md, "Media: audio and video"). The client offers what it
// publishes, the server offers what it forwards, and both may offer at any time. When
// two offers cross, the client's wins: a server offer that arrives while the client's own
// awaits its answer is ignored (the server offers again once it has answered). Pure: the
// peer connection code asks it what to do and reports what it did, one step at a time.

/** What to do with a server offer. */
export type OfferAction = "answer" | "ignore";

export class Negotiation {
  /** The client's offer is sent and its answer has not come. */
  private awaiting = false;
  /** What the client publishes changed while an offer was out: offer again after it. */
  private again = false;

  /** Whether the client's offer awaits its answer. */
  get awaitingAnswer(): boolean {
    return this.awaiting;
  }

  /**
   * What the client publishes changed (joining, starting or stopping a screen share):
   * true to offer now; false when an offer is out (one follows its answer).
   */
  publish(): boolean {
    if (this.awaiting) {
      this.again = true;
      return false;
    }
    return true;
  }

  /** The client sent an offer. */
  offered(): void {
    this.awaiting = true;
    this.again = false;
  }

  /**
   * An answer came from the server. `apply` is false for a stray one (no offer is out);
   * `offerAgain` says whether what the client publishes changed since its offer.
   */
  answered(): { apply: boolean; offerAgain: boolean } {
    if (!this.awaiting) return { apply: false, offerAgain: false };
    this.awaiting = false;
    const offerAgain = this.again;
    this.again = false;
    return { apply: true, offerAgain };
  }

  /** An offer came from the server: answer it, or ignore it when the client's is out. */
  serverOffer(): OfferAction {
    return this.awaiting ? "ignore" : "answer";
  }

  /**
   * The server refused something (`bad_sdp`, `no_codec`, `too_many_offers`): if the
   * client's offer was out, it was that; true means "roll the offer back".
   */
  refused(): boolean {
    const wasOut = this.awaiting;
    this.awaiting = false;
    this.again = false;
    return wasOut;
  }

  /** A new peer connection: nothing is out. */
  reset(): void {
    this.awaiting = false;
    this.again = false;
  }
}

/** The refusals that concern an offer or answer (the call carries on as it was). */
export const SDP_REFUSALS: ReadonlySet<string> = new Set(["bad_sdp", "no_codec", "too_many_offers"]);
