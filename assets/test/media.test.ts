// The call's pure parts (signals, the offer/answer rules, the roster and its tiles) and the
// Call itself driven against a fake RTCPeerConnection: who offers when, what is published
// on which mid, and joining again after the socket or the media connection was lost.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Call } from "../src/media/call";
import { explainMediaError } from "../src/media/devices";
import { Negotiation } from "../src/media/negotiation";
import { applySignal, audioMids, emptyRoster, statusText, tiles } from "../src/media/roster";
import { type ServerSignal, errorText, parseSignal } from "../src/media/signals";

const parse = (value: unknown): ServerSignal => {
  const signal = parseSignal(JSON.stringify(value));
  assert.ok(signal, `${JSON.stringify(value)} parses`);
  return signal;
};

test("server signals are checked and their peer ids renamed", () => {
  assert.deepEqual(
    parse({
      type: "joined",
      ice_servers: [{ urls: ["turn:turn.example.com"], username: "u", credential: "c" }, { urls: 7 }],
      participants: [{ peer_id: 2, microphone: true, camera: false, screen: false }],
    }),
    {
      type: "joined",
      iceServers: [{ urls: ["turn:turn.example.com"], username: "u", credential: "c" }],
      participants: [{ peerId: 2, microphone: true, camera: false, screen: false }],
    },
  );
  assert.deepEqual(parse({ type: "offer", sdp: "v=0", tracks: [{ mid: "3", peer_id: 2, source: "camera" }] }), {
    type: "offer",
    sdp: "v=0",
    tracks: [{ mid: "3", peerId: 2, source: "camera" }],
  });
  assert.deepEqual(parse({ type: "speaker", peer_id: null }), { type: "speaker", peerId: null });
  assert.deepEqual(parse({ type: "left", peer_id: 4 }), { type: "left", peerId: 4 });
  for (const bad of ["nope", "[]", '{"type":"offer","sdp":"v=0"}', '{"type":"left","peer_id":-1}', '{"type":"what"}']) {
    assert.equal(parseSignal(bad), null, bad);
  }
  assert.equal(errorText("call_full", "full"), "The call is full: wait until someone leaves, then join again.");
  assert.equal(errorText("brand_new", "Something new."), "Something new.");
});

test("when offers cross, the client's wins and the server's is ignored", () => {
  const n = new Negotiation();
  assert.equal(n.serverOffer(), "answer", "nothing is out: answer the server");
  assert.ok(n.publish());
  n.offered();
  assert.equal(n.serverOffer(), "ignore", "the client's offer is out: the server offers again later");
  assert.equal(n.publish(), false, "a second change waits for the answer");
  assert.deepEqual(n.answered(), { apply: true, offerAgain: true });
  assert.deepEqual(n.answered(), { apply: false, offerAgain: false }, "a stray answer is ignored");
  assert.equal(n.serverOffer(), "answer");
  n.offered();
  assert.equal(n.refused(), true, "a refusal while the offer is out rolls it back");
  assert.equal(n.refused(), false);
  assert.equal(n.serverOffer(), "answer");
});

test("the roster follows the call and makes the tiles: oneself first, names from the room", () => {
  const self = 1;
  let roster = applySignal(emptyRoster, parse({
    type: "joined",
    participants: [
      { peer_id: 1, microphone: true, camera: true, screen: false },
      { peer_id: 3, microphone: true, camera: true, screen: false },
    ],
  }), self);
  assert.deepEqual([...roster.members.keys()], [3], "oneself is not a member");
  roster = applySignal(roster, parse({ type: "participant", peer_id: 2, microphone: false, camera: false, screen: true }), self);
  roster = applySignal(roster, parse({
    type: "offer",
    sdp: "v=0",
    tracks: [
      { mid: "3", peer_id: 3, source: "camera" },
      { mid: "4", peer_id: 3, source: "microphone" },
      { mid: "5", peer_id: 2, source: "screen" },
      { mid: "6", peer_id: 2, source: "microphone" },
    ],
  }), self);
  roster = applySignal(roster, parse({ type: "speaker", peer_id: 3 }), self);
  const names = new Map([[1, "Ada"], [2, "Grace"], [3, "Linus"]]);
  const local = { microphone: true, camera: false, screen: false };
  const shown = tiles(roster, self, local, names);
  assert.deepEqual(
    shown.map((t) => [t.key, t.name, t.self, t.microphone, t.camera, t.speaking, t.videoMid]),
    [
      ["1:camera", "Ada", true, true, false, false, null],
      ["2:camera", "Grace", false, false, false, false, null],
      ["2:screen", "Grace", false, false, true, false, "5"],
      ["3:camera", "Linus", false, true, true, true, "3"],
    ],
  );
  assert.deepEqual(audioMids(roster).sort(), ["4", "6"]);

  roster = applySignal(roster, parse({ type: "left", peer_id: 3 }), self);
  assert.equal(roster.speaker, null, "a speaker who left is no longer highlighted");
  assert.deepEqual([...roster.tracks.keys()], ["5", "6"], "their tracks are gone");
  assert.deepEqual(tiles(roster, self, local, new Map()).map((t) => t.name), ["You", "Someone", "Someone"]);
});

test("the call's state and device problems read as sentences", () => {
  assert.equal(statusText("connected", 3, false, true), "In the call · 3 people");
  assert.equal(statusText("connected", 1, true, true), "In the call · 1 person · watching and listening");
  assert.equal(statusText("reconnecting", 2, false, false), "Reconnecting the call once the server is back…");
  assert.match(explainMediaError("NotAllowedError", "camera and microphone"), /not allowed to use your camera and microphone\. You can join to watch and listen/);
  assert.match(explainMediaError("NotFoundError", "camera"), /^No camera was found/);
});

// A fake RTCPeerConnection: mids in order of first local description, "offer N" SDPs,
// and remote offers that name their mids ("mids 7,8") to make receiving transceivers.
class FakeTransceiver {
  mid: string | null = null;
  currentDirection: string | null = null;
  readonly receiver = { track: { kind: "video", id: `remote-${Math.random()}` } };
  readonly sender: { track: unknown; replaceTrack(track: unknown): Promise<void> };
  constructor(public direction: string, track: unknown) {
    this.sender = { track, replaceTrack: async (t) => void (this.sender.track = t) };
  }
}

class FakePC extends EventTarget {
  static all: FakePC[] = [];
  transceivers: FakeTransceiver[] = [];
  localDescription: { type: string; sdp: string } | null = null;
  signalingState = "stable";
  iceGatheringState = "complete";
  connectionState = "new";
  closed = false;
  private offers = 0;
  private nextMid = 0;
  constructor(readonly config: unknown) {
    super();
    FakePC.all.push(this);
  }
  addTransceiver(track: unknown, init: { direction: string }) {
    const t = new FakeTransceiver(init.direction, typeof track === "string" ? null : track);
    this.transceivers.push(t);
    return t;
  }
  getTransceivers() {
    return this.transceivers;
  }
  async createOffer() {
    return { type: "offer", sdp: `offer ${++this.offers}` };
  }
  async createAnswer() {
    return { type: "answer", sdp: "answer" };
  }
  async setLocalDescription(d: { type: string; sdp?: string }) {
    if (d.type === "rollback") {
      this.signalingState = "stable";
      return;
    }
    for (const t of this.transceivers) t.mid ??= String(this.nextMid++);
    this.localDescription = { type: d.type, sdp: d.sdp ?? "" };
    this.signalingState = d.type === "offer" ? "have-local-offer" : "stable";
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    if (d.type === "answer") {
      if (this.signalingState !== "have-local-offer") throw new Error("an answer without an offer");
      this.signalingState = "stable";
      return;
    }
    if (this.signalingState !== "stable") throw new Error("glare reached the peer connection");
    for (const mid of d.sdp.replace("mids ", "").split(",")) {
      if (this.transceivers.some((t) => t.mid === mid)) continue;
      const t = new FakeTransceiver("recvonly", null);
      t.mid = mid;
      this.nextMid = Math.max(this.nextMid, Number(mid) + 1);
      this.transceivers.push(t);
    }
    this.signalingState = "have-remote-offer";
  }
  close() {
    this.closed = true;
  }
  fire(state: string) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

function fakeCall() {
  Object.assign(globalThis, { window: globalThis, RTCPeerConnection: FakePC });
  FakePC.all = [];
  const sent: Record<string, unknown>[] = [];
  const call = new Call({ send: (json) => sent.push(JSON.parse(json)), changed: () => {} });
  const server = (signal: unknown) => call.signal(JSON.stringify(signal));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const track = (kind: string) => ({ kind, enabled: true, stop() {} });
  const mic = track("audio");
  const cam = track("video");
  const stream = { getAudioTracks: () => [mic], getVideoTracks: () => [cam], getTracks: () => [mic, cam] };
  return { call, sent, server, settle, stream: stream as unknown as MediaStream, mic, types: () => sent.map((s) => s.type) };
}

test("a call publishes on sendonly mids, ignores a crossing server offer, and answers the next", async () => {
  const { call, sent, server, settle, stream, mic, types } = fakeCall();
  call.socket(5);
  call.join(stream);
  assert.deepEqual(sent, [{ type: "join" }]);
  server({ type: "joined", ice_servers: [{ urls: "stun:127.0.0.1:3478" }], participants: [] });
  await settle();
  const pc = FakePC.all[0];
  assert.deepEqual(pc.config, { iceServers: [{ urls: "stun:127.0.0.1:3478" }], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
  assert.deepEqual(pc.transceivers.map((t) => t.direction), ["sendonly", "sendonly"]);
  assert.deepEqual(sent[1], { type: "offer", sdp: "offer 1", tracks: { "0": "microphone", "1": "camera" } });
  assert.deepEqual(sent[2], { type: "state", microphone: true, camera: true, screen: false });

  // The server's offer crosses the client's: ignored, then the answer, then its new offer.
  server({ type: "offer", sdp: "mids 2", tracks: [{ mid: "2", peer_id: 7, source: "camera" }] });
  server({ type: "answer", sdp: "answer 1" });
  await settle();
  assert.deepEqual(types(), ["join", "offer", "state"], "no answer to a crossing offer");
  server({ type: "offer", sdp: "mids 2,3", tracks: [{ mid: "2", peer_id: 7, source: "camera" }, { mid: "3", peer_id: 7, source: "microphone" }] });
  await settle();
  assert.deepEqual(sent[3], { type: "answer", sdp: "answer" });
  assert.equal(call.roster.tracks.get("3")?.source, "microphone");
  assert.ok(call.remoteTrack("2"), "the forwarded camera's track is found by its mid");
  pc.fire("connected");
  assert.equal(call.phase, "connected");

  call.setEnabled("microphone", false);
  assert.equal(mic.enabled, false);
  assert.deepEqual(sent.at(-1), { type: "state", microphone: false, camera: true, screen: false });
});

test("without devices the call receives only; it joins again after a socket blip, a lost connection and a failure", async () => {
  const { call, sent, server, settle, types } = fakeCall();
  call.join(null);
  assert.equal(call.phase, "reconnecting", "no socket yet: nothing is sent");
  assert.deepEqual(sent, []);
  call.socket(1);
  server({ type: "joined", ice_servers: [], participants: [] });
  await settle();
  assert.deepEqual(FakePC.all[0].transceivers.map((t) => t.direction), ["recvonly"]);
  assert.deepEqual(sent[1], { type: "offer", sdp: "offer 1", tracks: {} });

  // The socket closes (the server drops the membership) and comes back with a new id.
  call.socket(null);
  assert.ok(FakePC.all[0].closed);
  assert.equal(call.phase, "reconnecting");
  call.socket(2);
  assert.deepEqual(sent.at(-1), { type: "join" });
  server({ type: "joined", ice_servers: [], participants: [{ peer_id: 2, microphone: false, camera: false, screen: false }] });
  await settle();
  assert.equal(FakePC.all.length, 2);
  assert.equal(call.roster.members.size, 0);

  // The server says the media connection was lost: a new peer connection after a pause.
  const before = sent.length;
  server({ type: "error", code: "connection_lost", message: "timed out" });
  assert.ok(FakePC.all[1].closed);
  assert.equal(call.problem, "The call's connection was lost: joining again…");
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assert.deepEqual(sent.slice(before).map((s) => s.type), ["join"]);

  // The peer connection fails: out of the call, and in again on a new one.
  server({ type: "joined", participants: [] });
  await settle();
  FakePC.all[2].fire("connected");
  assert.equal(call.phase, "connected");
  assert.equal(call.problem, null, "connected again: the problem is gone");
  const failedAt = sent.length;
  FakePC.all[2].fire("failed");
  assert.ok(FakePC.all[2].closed);
  assert.equal(call.phase, "reconnecting");
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assert.deepEqual(sent.slice(failedAt).map((s) => s.type), ["leave", "join"]);

  call.leave();
  assert.equal(types().at(-1), "leave");
  assert.equal(call.phase, "idle");
});

test("a refused first offer leaves the call with the reason", async () => {
  const { call, server, settle, types } = fakeCall();
  call.socket(1);
  call.join(null);
  server({ type: "joined", participants: [] });
  await settle();
  server({ type: "error", code: "no_codec", message: "no codec" });
  await settle();
  assert.equal(call.phase, "error");
  assert.match(call.problem ?? "", /no audio or video format/);
  assert.deepEqual(types(), ["join", "offer", "state", "leave"]);
});

test("a full call is refused without a leave, and the person may join again", async () => {
  const { call, server, types } = fakeCall();
  call.socket(1);
  call.join(null);
  server({ type: "error", code: "call_full", message: "full" });
  assert.equal(call.phase, "error");
  assert.equal(call.inCall, false);
  assert.deepEqual(types(), ["join"]);
  call.join(null);
  assert.deepEqual(types(), ["join", "join"]);
  assert.equal(call.problem, null);
});
