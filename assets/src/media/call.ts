// The call: one RTCPeerConnection to the server's SFU, negotiated over the room's socket
// (docs/protocol.md, "Media: audio and video"). It publishes the microphone and camera
// (and a screen when shared) on sendonly transceivers and receives what the server
// forwards; it joins again by itself when the socket comes back, when the server says the
// media connection was lost, and when the peer connection fails.
import { Negotiation, SDP_REFUSALS } from "./negotiation";
import { type Roster, applySignal, emptyRoster } from "./roster";
import { type ClientSignal, type MediaState, SOURCES, type Source, encodeSignal, errorText, parseSignal } from "./signals";

export type CallPhase = "idle" | "joining" | "connecting" | "connected" | "reconnecting" | "error";

export interface CallHooks {
  /** Sends a signal (JSON) over the room's socket. */
  send(signal: string): void;
  /** Something changed: draw the call again. */
  changed(): void;
}

const REJOIN_FIRST_MS = 1_000;
const REJOIN_MAX_MS = 15_000;

/** What tests read: the current peer connection (null outside the call). */
declare global {
  interface Window {
    __pairlineCall?: RTCPeerConnection | null;
  }
}

export class Call {
  phase: CallPhase = "idle";
  /** The latest problem worth telling, in words for people. */
  problem: string | null = null;
  roster: Roster = emptyRoster;
  /** This socket's peer id in the room; null while it is disconnected. */
  peerId: number | null = null;
  /** The microphone and camera being published (null: watching and listening only). */
  local: MediaStream | null = null;
  screen: MediaStreamTrack | null = null;
  private pc: RTCPeerConnection | null = null;
  private readonly negotiation = new Negotiation();
  /** Peer-connection steps run one at a time, in order; `gen` changes with each connection. */
  private queue: Promise<void> = Promise.resolve();
  private gen = 0;
  private transceivers: Partial<Record<Source, RTCRtpTransceiver>> = {};
  /** The server has answered an offer on this connection. */
  private answered = false;
  /** The person is in the call (and is put back in after a blip). */
  private wanted = false;
  private rejoining = false;
  private rejoins = 0;
  private rejoinTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly hooks: CallHooks) {}

  get inCall(): boolean {
    return this.wanted;
  }

  /** What this person sends, as the others are told. */
  get state(): MediaState {
    const mic = this.local?.getAudioTracks()[0];
    const cam = this.local?.getVideoTracks()[0];
    return { microphone: !!mic?.enabled, camera: !!cam?.enabled, screen: this.screen !== null };
  }

  /** The track the server forwards on `mid`, once the peer connection has it. */
  remoteTrack(mid: string): MediaStreamTrack | null {
    return this.pc?.getTransceivers().find((t) => t.mid === mid)?.receiver.track ?? null;
  }

  /** Joins the call publishing `stream` (null: watch and listen only). */
  join(stream: MediaStream | null): void {
    this.local = stream;
    this.wanted = true;
    this.rejoining = false;
    this.rejoins = 0;
    this.problem = null;
    this.requestJoin();
  }

  leave(): void {
    if (this.wanted && this.peerId !== null) this.send({ type: "leave" });
    this.wanted = false;
    clearTimeout(this.rejoinTimer);
    this.closePc();
    for (const track of [...(this.local?.getTracks() ?? []), ...(this.screen ? [this.screen] : [])]) track.stop();
    this.local = null;
    this.screen = null;
    this.phase = "idle";
    this.problem = null;
    this.hooks.changed();
  }

  /** Mutes or unmutes a local source (no renegotiation: the track sends silence or black). */
  setEnabled(source: "microphone" | "camera", on: boolean): void {
    const track = source === "microphone" ? this.local?.getAudioTracks()[0] : this.local?.getVideoTracks()[0];
    if (!track) return;
    track.enabled = on;
    if (this.pc) this.sendState();
    this.hooks.changed();
  }

  /** Asks the browser for a screen (or window) and publishes it. */
  async shareScreen(): Promise<void> {
    if (!this.pc || this.screen) return;
    let track: MediaStreamTrack | undefined;
    try {
      track = (await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })).getVideoTracks()[0];
    } catch (err) {
      // Cancelling the browser's picker is no problem worth telling.
      const name = err instanceof Error ? err.name : "";
      if (name !== "NotAllowedError" && name !== "AbortError") this.problem = "The screen could not be shared.";
      this.hooks.changed();
      return;
    }
    if (!track || !this.pc) return track?.stop();
    track.contentHint = "detail";
    track.addEventListener("ended", () => this.stopScreen());
    this.screen = track;
    const shared = track;
    this.enqueue(async () => {
      const pc = this.pc;
      if (!pc || this.screen !== shared) return;
      const existing = this.transceivers.screen;
      if (existing) {
        await existing.sender.replaceTrack(shared);
        existing.direction = "sendonly";
      } else {
        this.transceivers.screen = pc.addTransceiver(shared, { direction: "sendonly", streams: [new MediaStream([shared])] });
      }
      await this.publish();
      this.sendState();
    });
    this.hooks.changed();
  }

  stopScreen(): void {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    this.enqueue(async () => {
      await this.unpublishScreen();
      await this.publish();
      this.sendState();
    });
    this.hooks.changed();
  }

  /** This connection's peer id after each Welcome; null once the socket has closed. */
  socket(peerId: number | null): void {
    this.peerId = peerId;
    if (peerId === null) {
      // The server dropped the call membership with the socket.
      if (this.wanted) this.interrupted(null);
    } else if (this.wanted && !this.pc) {
      this.requestJoin();
    }
    this.hooks.changed();
  }

  /** A signal from the server (JSON). */
  signal(json: string): void {
    const signal = parseSignal(json);
    if (!signal || !this.wanted) return;
    switch (signal.type) {
      case "joined": {
        this.closePc();
        this.roster = applySignal(emptyRoster, signal, this.peerId);
        const iceServers = signal.iceServers;
        this.phase = this.rejoining ? "reconnecting" : "connecting";
        this.enqueue(() => this.connect(iceServers));
        break;
      }
      case "answer":
        this.enqueue(async () => {
          const pc = this.pc;
          const { apply, offerAgain } = this.negotiation.answered();
          if (!pc || !apply) return;
          await pc.setRemoteDescription({ type: "answer", sdp: signal.sdp });
          this.answered = true;
          if (offerAgain) await this.publish();
        });
        break;
      case "offer":
        this.enqueue(async () => {
          const pc = this.pc;
          if (!pc || this.negotiation.serverOffer() === "ignore") return;
          await pc.setRemoteDescription({ type: "offer", sdp: signal.sdp });
          await pc.setLocalDescription(await pc.createAnswer());
          this.roster = applySignal(this.roster, signal, this.peerId);
          this.send({ type: "answer", sdp: pc.localDescription!.sdp });
          this.hooks.changed();
        });
        break;
      case "error":
        this.refused(signal.code, signal.message);
        break;
      default:
        this.roster = applySignal(this.roster, signal, this.peerId);
    }
    this.hooks.changed();
  }

  private refused(code: string, message: string): void {
    const text = errorText(code, message);
    if (code === "connection_lost" || code === "not_joined") return this.interrupted(text);
    if (!SDP_REFUSALS.has(code)) {
      this.problem = text;
      if (code === "call_full" || code === "unavailable") this.fail(text, false);
      return;
    }
    this.enqueue(async () => {
      const pc = this.pc;
      if (!pc) return;
      if (this.negotiation.refused() && pc.signalingState === "have-local-offer") {
        await pc.setLocalDescription({ type: "rollback" });
      }
      // A refused first offer leaves no call to be in.
      if (!this.answered) return this.fail(text, true);
      this.problem = text;
      if (this.screen && this.transceivers.screen?.currentDirection !== "sendonly") {
        this.screen.stop();
        this.screen = null;
        await this.unpublishScreen();
        this.sendState();
      }
      this.hooks.changed();
    });
  }

  private requestJoin(): void {
    clearTimeout(this.rejoinTimer);
    if (!this.wanted) return;
    this.phase = this.rejoining || this.peerId === null ? "reconnecting" : "joining";
    if (this.peerId !== null) this.send({ type: "join" });
    this.hooks.changed();
  }

  /** The media connection broke: a new one, after a pause that grows with each attempt. */
  private interrupted(problem: string | null): void {
    this.closePc();
    this.roster = emptyRoster;
    this.phase = "reconnecting";
    this.rejoining = true;
    if (problem) this.problem = problem;
    clearTimeout(this.rejoinTimer);
    if (this.peerId === null) return; // joined again when the socket is back
    const delay = Math.min(REJOIN_MAX_MS, REJOIN_FIRST_MS * 2 ** this.rejoins);
    this.rejoins += 1;
    this.rejoinTimer = setTimeout(() => this.requestJoin(), delay * (0.5 + Math.random() * 0.5));
    this.hooks.changed();
  }

  /** Out of the call for good (until the person joins again), saying why. */
  private fail(problem: string, joined: boolean): void {
    // A refused join needs no leave; a refused first offer does.
    if (!joined) this.wanted = false;
    this.leave();
    this.phase = "error";
    this.problem = problem;
    this.hooks.changed();
  }

  private async connect(iceServers: RTCIceServer[]): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    this.pc = pc;
    window.__pairlineCall = pc;
    pc.addEventListener("connectionstatechange", () => this.pcState(pc));
    pc.addEventListener("track", () => this.hooks.changed());
    const add = (source: Source, track: MediaStreamTrack | undefined, stream: MediaStream) => {
      if (track) this.transceivers[source] = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    };
    if (this.local) {
      add("microphone", this.local.getAudioTracks()[0], this.local);
      add("camera", this.local.getVideoTracks()[0], this.local);
    }
    if (this.screen) add("screen", this.screen, new MediaStream([this.screen]));
    // The server answers offers with at least one m-line: a receive-only one will do.
    if (Object.keys(this.transceivers).length === 0) pc.addTransceiver("audio", { direction: "recvonly" });
    await this.publish();
    this.sendState();
  }

  private pcState(pc: RTCPeerConnection): void {
    if (pc !== this.pc) return;
    switch (pc.connectionState) {
      case "connected":
        if (this.rejoining) this.problem = null;
        this.phase = "connected";
        this.rejoining = false;
        this.rejoins = 0;
        break;
      case "disconnected":
        this.phase = "reconnecting";
        break;
      case "failed":
        if (this.peerId !== null) this.send({ type: "leave" });
        this.interrupted("The call's connection failed: joining again…");
        break;
    }
    this.hooks.changed();
  }

  /** Offers what this client publishes, now or once the offer that is out is answered. */
  private async publish(): Promise<void> {
    const pc = this.pc;
    if (!pc || !this.negotiation.publish()) return;
    // No wait for ICE candidates: the SFU is ICE-lite, so the browser does the checking
    // (towards the server's candidates in the answer) and the offer needs none of its own.
    await pc.setLocalDescription(await pc.createOffer());
    const tracks: Record<string, Source> = {};
    for (const source of SOURCES) {
      const t = this.transceivers[source];
      if (t?.mid && t.direction === "sendonly" && t.sender.track) tracks[t.mid] = source;
    }
    this.negotiation.offered();
    this.send({ type: "offer", sdp: pc.localDescription!.sdp, tracks });
  }

  private async unpublishScreen(): Promise<void> {
    const t = this.transceivers.screen;
    if (!t) return;
    await t.sender.replaceTrack(null);
    t.direction = "inactive";
  }

  private sendState(): void {
    this.send({ type: "state", ...this.state });
  }

  private send(signal: ClientSignal): void {
    this.hooks.send(encodeSignal(signal));
  }

  /** Runs `step` after the steps before it, unless the connection changed meanwhile. */
  private enqueue(step: () => Promise<void>): void {
    const gen = this.gen;
    this.queue = this.queue.then(async () => {
      if (gen !== this.gen) return;
      try {
        await step();
      } catch (err) {
        if (gen !== this.gen) return;
        console.error("the call's negotiation failed", err);
        this.interrupted("The call's connection failed: joining again…");
      }
    });
  }

  private closePc(): void {
    this.gen += 1;
    this.negotiation.reset();
    this.transceivers = {};
    this.answered = false;
    this.pc?.close();
    this.pc = null;
    window.__pairlineCall = null;
  }
}
