// The video strip: a tile per person in the call (their camera, or their initial when it
// is off; their name; muted-microphone and camera-off marks; the active speaker
// highlighted), a tile per shared screen, and a hidden audio element per forwarded
// microphone. Elements are kept across renders, so videos do not restart.
import type { Tile } from "./roster";

/** Where the tiles' media come from. */
export interface TileMedia {
  /** This person's camera and microphone. */
  local: MediaStream | null;
  /** This person's shared screen. */
  screen: MediaStreamTrack | null;
  /** A track the server forwards, by mid. */
  remote(mid: string): MediaStreamTrack | null;
}

const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  microphone: ["M12 3a3 3 0 0 0-3 3v5a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z", "M5 11a7 7 0 0 0 14 0M12 18v3"],
  camera: ["M3 7h12v10H3z", "M15 10l6-3v10l-6-3z"],
};

/** A crossed-out icon, with its meaning for screen readers and as a tooltip. */
function offIcon(kind: keyof typeof ICONS, label: string): HTMLSpanElement {
  const wrap = document.createElement("span");
  wrap.className = `call-tile-off call-tile-${kind}-off`;
  wrap.title = label;
  wrap.setAttribute("role", "img");
  wrap.setAttribute("aria-label", label);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const d of [...ICONS[kind], "M4 4l16 16"]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  wrap.appendChild(svg);
  return wrap;
}

/** Shows `track` in `el` (a video or audio element), keeping what already plays. */
function attach(el: HTMLMediaElement, track: MediaStreamTrack | null): void {
  const current = el.srcObject instanceof MediaStream ? el.srcObject.getTracks()[0] : null;
  if (current === track) return;
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) el.play().catch(() => {});
}

interface TileParts {
  item: HTMLLIElement;
  video: HTMLVideoElement;
  avatar: HTMLSpanElement;
  name: HTMLSpanElement;
}

export class TileStrip {
  private readonly tiles = new Map<string, TileParts>();
  private readonly players = new Map<string, HTMLAudioElement>();

  constructor(
    private readonly list: HTMLElement,
    private readonly audio: HTMLElement,
  ) {}

  render(tiles: Tile[], audioMids: string[], media: TileMedia): void {
    const keep = new Set(tiles.map((t) => t.key));
    for (const [key, parts] of this.tiles) {
      if (keep.has(key)) continue;
      attach(parts.video, null);
      parts.item.remove();
      this.tiles.delete(key);
    }
    let previous: HTMLElement | null = null;
    for (const tile of tiles) {
      const parts = this.tiles.get(tile.key) ?? this.create(tile);
      this.update(parts, tile, media);
      // Keep the order without moving elements that are already in place.
      const expected: Element | null = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== parts.item) this.list.insertBefore(parts.item, expected);
      previous = parts.item;
    }
    this.list.hidden = tiles.length === 0;
    this.renderAudio(audioMids, media);
  }

  clear(): void {
    this.render([], [], { local: null, screen: null, remote: () => null });
  }

  private create(tile: Tile): TileParts {
    const item = document.createElement("li");
    item.className = "call-tile";
    item.dataset.key = tile.key;
    item.dataset.peerId = String(tile.peerId);
    item.dataset.kind = tile.kind;
    item.dataset.self = String(tile.self);
    const video = item.appendChild(document.createElement("video"));
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // sound plays from the audio elements
    const avatar = item.appendChild(document.createElement("span"));
    avatar.className = "call-tile-avatar";
    avatar.setAttribute("aria-hidden", "true");
    const label = item.appendChild(document.createElement("span"));
    label.className = "call-tile-label";
    const name = label.appendChild(document.createElement("span"));
    name.className = "call-tile-name";
    if (tile.kind === "camera") label.append(offIcon("microphone", "Microphone muted"), offIcon("camera", "Camera off"));
    const parts = { item, video, avatar, name };
    this.tiles.set(tile.key, parts);
    return parts;
  }

  private update(parts: TileParts, tile: Tile, media: TileMedia): void {
    const { item, video, avatar, name } = parts;
    const label = tile.kind === "screen" ? `${tile.name}'s screen` : tile.self ? `${tile.name} (you)` : tile.name;
    if (name.textContent !== label) name.textContent = label;
    item.title = label;
    avatar.textContent = [...tile.name.trim()][0]?.toUpperCase() ?? "?";
    item.dataset.microphone = tile.microphone ? "on" : "off";
    item.dataset.camera = tile.camera ? "on" : "off";
    item.dataset.speaking = String(tile.speaking);
    let track: MediaStreamTrack | null;
    if (tile.self) track = tile.kind === "screen" ? media.screen : (media.local?.getVideoTracks()[0] ?? null);
    else track = tile.videoMid ? media.remote(tile.videoMid) : null;
    const showVideo = track !== null && tile.camera;
    attach(video, showVideo ? track : null);
    video.hidden = !showVideo;
    avatar.hidden = showVideo;
  }

  private renderAudio(mids: string[], media: TileMedia): void {
    const keep = new Set(mids);
    for (const [mid, player] of this.players) {
      if (keep.has(mid)) continue;
      attach(player, null);
      player.remove();
      this.players.delete(mid);
    }
    for (const mid of mids) {
      let player = this.players.get(mid);
      if (!player) {
        player = this.audio.appendChild(document.createElement("audio"));
        player.autoplay = true;
        player.dataset.mid = mid;
        this.players.set(mid, player);
      }
      attach(player, media.remote(mid));
    }
  }
}
