// The media signals of docs/protocol.md ("Media: audio and video"): JSON objects carried
// by the `Media` messages of the room's socket. Server signals are checked field by field
// here, so the rest of the client only sees well-formed ones (peer ids in camelCase).

/** What a participant publishes. */
export type Source = "microphone" | "camera" | "screen";
export const SOURCES: readonly Source[] = ["microphone", "camera", "screen"];

/** Whether each source is being sent (and not muted). */
export interface MediaState {
  microphone: boolean;
  camera: boolean;
  screen: boolean;
}

/** A participant of the call and what they send. */
export interface Member extends MediaState {
  peerId: number;
}

/** A track the server forwards: the m-line `mid` carries `peerId`'s `source`. */
export interface RemoteTrack {
  mid: string;
  peerId: number;
  source: Source;
}

export type ServerSignal =
  | { type: "joined"; iceServers: RTCIceServer[]; participants: Member[] }
  | { type: "answer"; sdp: string }
  | { type: "offer"; sdp: string; tracks: RemoteTrack[] }
  | ({ type: "participant" } & Member)
  | { type: "left"; peerId: number }
  | { type: "speaker"; peerId: number | null }
  | { type: "error"; code: string; message: string };

export type ClientSignal =
  | { type: "join" }
  | { type: "offer"; sdp: string; tracks: Record<string, Source> }
  | { type: "answer"; sdp: string }
  | ({ type: "state" } & MediaState)
  | { type: "leave" };

/** The JSON text of a client signal (its field names are the protocol's already). */
export function encodeSignal(signal: ClientSignal): string {
  return JSON.stringify(signal);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isPeerId = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isSource = (v: unknown): v is Source => SOURCES.includes(v as Source);

function member(v: unknown): Member | null {
  if (!isObject(v) || !isPeerId(v.peer_id)) return null;
  return { peerId: v.peer_id, microphone: v.microphone === true, camera: v.camera === true, screen: v.screen === true };
}

function iceServer(v: unknown): RTCIceServer | null {
  if (!isObject(v)) return null;
  const urls = v.urls;
  const valid = typeof urls === "string" || (Array.isArray(urls) && urls.every((u) => typeof u === "string"));
  if (!valid) return null;
  const server: RTCIceServer = { urls: urls as string | string[] };
  if (typeof v.username === "string") server.username = v.username;
  if (typeof v.credential === "string") server.credential = v.credential;
  return server;
}

function track(v: unknown): RemoteTrack | null {
  if (!isObject(v) || typeof v.mid !== "string" || !isPeerId(v.peer_id) || !isSource(v.source)) return null;
  return { mid: v.mid, peerId: v.peer_id, source: v.source };
}

/** Keeps the items `parse` accepts; null if `v` is not a list. */
function list<T>(v: unknown, parse: (item: unknown) => T | null): T[] | null {
  if (!Array.isArray(v)) return null;
  return v.map(parse).filter((item): item is T => item !== null);
}

/** The server signal in `json`, or null if it is not one this client knows. */
export function parseSignal(json: string): ServerSignal | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isObject(v)) return null;
  switch (v.type) {
    case "joined": {
      const iceServers = v.ice_servers === undefined ? [] : list(v.ice_servers, iceServer);
      const participants = list(v.participants ?? [], member);
      return iceServers && participants ? { type: "joined", iceServers, participants } : null;
    }
    case "answer":
      return typeof v.sdp === "string" ? { type: "answer", sdp: v.sdp } : null;
    case "offer": {
      const tracks = list(v.tracks, track);
      return typeof v.sdp === "string" && tracks ? { type: "offer", sdp: v.sdp, tracks } : null;
    }
    case "participant": {
      const m = member(v);
      return m ? { type: "participant", ...m } : null;
    }
    case "left":
      return isPeerId(v.peer_id) ? { type: "left", peerId: v.peer_id } : null;
    case "speaker":
      if (v.peer_id === null || v.peer_id === undefined) return { type: "speaker", peerId: null };
      return isPeerId(v.peer_id) ? { type: "speaker", peerId: v.peer_id } : null;
    case "error":
      return typeof v.code === "string"
        ? { type: "error", code: v.code, message: typeof v.message === "string" ? v.message : "" }
        : null;
    default:
      return null;
  }
}

const ERROR_TEXT: Record<string, string> = {
  malformed: "The call did not understand this page: reload it.",
  not_joined: "The call had not started yet: join it again.",
  call_full: "The call is full: wait until someone leaves, then join again.",
  bad_sdp: "The server refused this browser's audio and video setup.",
  no_codec: "This browser offers no audio or video format the server can forward (Opus audio and VP8 video).",
  too_many_offers: "Too many changes to the call at once: wait a moment and try again.",
  connection_lost: "The call's connection was lost: joining again…",
  unavailable: "Audio and video are turned off on this server.",
};

/** A refusal from the server, in words for people. */
export function errorText(code: string, message: string): string {
  return ERROR_TEXT[code] ?? (message || `The call failed (${code}).`);
}
