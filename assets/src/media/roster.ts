// Who is in the call and what to show: the members and their mute and camera state, the
// active speaker, which forwarded m-line carries whose track, and from that the tiles of
// the video strip. Pure, so that it is tested without a browser.
import type { Member, MediaState, RemoteTrack, ServerSignal, Source } from "./signals";

export interface Roster {
  /** Everyone else in the call, by peer id. */
  members: ReadonlyMap<number, MediaState>;
  speaker: number | null;
  /** The tracks the server forwards, by mid (from its latest offer). */
  tracks: ReadonlyMap<string, RemoteTrack>;
}

export const emptyRoster: Roster = { members: new Map(), speaker: null, tracks: new Map() };

const stateOf = (m: Member): MediaState => ({ microphone: m.microphone, camera: m.camera, screen: m.screen });

/** The roster after a server signal; `self` (own peer id) is never a member. */
export function applySignal(roster: Roster, signal: ServerSignal, self: number | null): Roster {
  switch (signal.type) {
    case "joined": {
      const members = new Map<number, MediaState>();
      for (const m of signal.participants) if (m.peerId !== self) members.set(m.peerId, stateOf(m));
      return { members, speaker: null, tracks: new Map() };
    }
    case "participant": {
      if (signal.peerId === self) return roster;
      const members = new Map(roster.members);
      members.set(signal.peerId, stateOf(signal));
      return { ...roster, members };
    }
    case "left": {
      const members = new Map(roster.members);
      members.delete(signal.peerId);
      const tracks = new Map([...roster.tracks].filter(([, t]) => t.peerId !== signal.peerId));
      return { members, tracks, speaker: roster.speaker === signal.peerId ? null : roster.speaker };
    }
    case "speaker":
      return { ...roster, speaker: signal.peerId };
    case "offer":
      // The server lists every track it forwards, not only new ones.
      return { ...roster, tracks: new Map(signal.tracks.map((t) => [t.mid, t])) };
    default:
      return roster;
  }
}

/** The mid that carries `peerId`'s `source`, if the server forwards it. */
export function midOf(roster: Roster, peerId: number, source: Source): string | null {
  for (const [mid, t] of roster.tracks) if (t.peerId === peerId && t.source === source) return mid;
  return null;
}

/** One tile of the video strip: a person's camera, or a screen they share. */
export interface Tile {
  /** Stable across renders: `${peerId}:${kind}`. */
  key: string;
  peerId: number;
  kind: "camera" | "screen";
  name: string;
  self: boolean;
  microphone: boolean;
  camera: boolean;
  speaking: boolean;
  /** The mid of the forwarded video (none for one's own tiles, shown from local tracks). */
  videoMid: string | null;
}

/**
 * The tiles to show: oneself first (with `local`'s state), then the others in peer-id
 * order, each screen share after its owner's camera. `names` maps peer ids to names.
 */
export function tiles(roster: Roster, self: number | null, local: MediaState, names: ReadonlyMap<number, string>): Tile[] {
  const out: Tile[] = [];
  const add = (peerId: number, isSelf: boolean, state: MediaState) => {
    const name = names.get(peerId) ?? (isSelf ? "You" : "Someone");
    const speaking = roster.speaker === peerId;
    const camera = isSelf ? null : midOf(roster, peerId, "camera");
    out.push({ key: `${peerId}:camera`, peerId, kind: "camera", name, self: isSelf, ...state, speaking, videoMid: camera });
    const screen = isSelf ? null : midOf(roster, peerId, "screen");
    if (isSelf ? state.screen : screen !== null) {
      const base = { key: `${peerId}:screen`, peerId, kind: "screen" as const, name, self: isSelf };
      out.push({ ...base, microphone: state.microphone, camera: true, speaking: false, videoMid: screen });
    }
  };
  if (self !== null) add(self, true, local);
  for (const peerId of [...roster.members.keys()].sort((a, b) => a - b)) add(peerId, false, roster.members.get(peerId)!);
  return out;
}

/** The mids of the forwarded microphones (each is played by an audio element). */
export function audioMids(roster: Roster): string[] {
  return [...roster.tracks.values()].filter((t) => t.source === "microphone").map((t) => t.mid);
}

/** The call's state in a few words, e.g. "In the call · 3 people". */
export function statusText(phase: string, people: number, receiveOnly: boolean, socketUp: boolean): string {
  switch (phase) {
    case "joining":
      return "Joining the call…";
    case "connecting":
      return "Connecting audio and video…";
    case "connected": {
      const count = `${people} ${people === 1 ? "person" : "people"}`;
      return receiveOnly ? `In the call · ${count} · watching and listening` : `In the call · ${count}`;
    }
    case "reconnecting":
      return socketUp ? "Reconnecting the call…" : "Reconnecting the call once the server is back…";
    case "error":
      return "Not in the call.";
    default:
      return "Not in the call: join to see and hear the others.";
  }
}
