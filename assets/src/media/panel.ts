// The call panel of the room page (templates/room.html, `#call`): Join call (through the
// device check), mute, camera, screen share and leave buttons, the call's state in words,
// problems, and the video strip. The room page feeds it the socket's media signals, its
// peer id at each (re)connection, and the people in the room (for the tiles' names).
import { Call } from "./call";
import { checkDevices } from "./devices";
import { audioMids, statusText, tiles } from "./roster";
import { TileStrip } from "./tiles";

export interface CallPanel {
  /** A media signal from the server (JSON). */
  signal(json: string): void;
  /** This socket's peer id after each Welcome; null once it has closed. */
  socket(peerId: number | null): void;
  /** The people in the room, for the names on the tiles. */
  people(people: { peerId: number; name: string }[]): void;
}

export function mountCallPanel(root: HTMLElement, send: (signal: string) => void): CallPanel {
  const $ = <T extends HTMLElement>(selector: string) => root.querySelector<T>(selector)!;
  const joinButton = $<HTMLButtonElement>(".call-join");
  const micButton = $<HTMLButtonElement>(".call-mic");
  const cameraButton = $<HTMLButtonElement>(".call-camera");
  const screenButton = $<HTMLButtonElement>(".call-screen");
  const leaveButton = $<HTMLButtonElement>(".call-leave");
  const statusEl = $(".call-status");
  const problemEl = $(".call-problem");
  const dialog = $<HTMLDialogElement>(".call-check");
  const strip = new TileStrip($(".call-tiles"), $(".call-audio"));
  const canShare = typeof navigator.mediaDevices?.getDisplayMedia === "function";

  let names = new Map<number, string>();
  /** Why a device is missing, from the device check (shown while in the call). */
  let deviceProblem: string | null = null;
  let scheduled = false;
  const call = new Call({ send, changed: () => schedule() });

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      render();
    });
  }

  function render(): void {
    const inCall = call.inCall;
    const mic = call.local?.getAudioTracks()[0];
    const cam = call.local?.getVideoTracks()[0];
    root.dataset.state = call.phase;
    joinButton.hidden = inCall;
    for (const b of [micButton, cameraButton, screenButton, leaveButton]) b.hidden = !inCall;
    screenButton.hidden ||= !canShare;
    setToggle(micButton, mic, "Mute", "Unmute", "You have no microphone in this call.");
    setToggle(cameraButton, cam, "Stop camera", "Start camera", "You have no camera in this call.");
    screenButton.textContent = call.screen ? "Stop sharing" : "Share screen";
    screenButton.setAttribute("aria-pressed", String(call.screen !== null));
    screenButton.disabled = call.phase !== "connected" && call.screen === null;
    const people = call.roster.members.size + 1;
    statusEl.textContent = statusText(call.phase, people, !call.local, call.peerId !== null);
    const problem = call.problem ?? (inCall ? deviceProblem : null);
    problemEl.hidden = problem === null;
    problemEl.textContent = problem ?? "";
    const self = inCall ? call.peerId : null;
    const shown = tiles(call.roster, self, call.state, names);
    const media = { local: call.local, screen: call.screen, remote: (mid: string) => call.remoteTrack(mid) };
    strip.render(shown, inCall ? audioMids(call.roster) : [], media);
  }

  /** A mute-style button: pressed while the track is off; disabled without a track. */
  function setToggle(button: HTMLButtonElement, track: MediaStreamTrack | undefined, off: string, on: string, missing: string): void {
    const enabled = !!track?.enabled;
    button.textContent = enabled || !track ? off : on;
    button.setAttribute("aria-pressed", String(!!track && !enabled));
    button.disabled = !track;
    button.title = track ? "" : missing;
  }

  joinButton.addEventListener("click", async () => {
    joinButton.disabled = true;
    const chosen = await checkDevices(dialog);
    joinButton.disabled = false;
    if (!chosen) return;
    deviceProblem = chosen.problem;
    call.join(chosen.stream);
  });
  micButton.addEventListener("click", () => call.setEnabled("microphone", !call.state.microphone));
  cameraButton.addEventListener("click", () => call.setEnabled("camera", !call.state.camera));
  screenButton.addEventListener("click", () => (call.screen ? call.stopScreen() : void call.shareScreen()));
  leaveButton.addEventListener("click", () => {
    deviceProblem = null;
    call.leave();
  });
  window.addEventListener("pagehide", () => call.inCall && call.leave());
  render();

  return {
    signal: (json) => call.signal(json),
    socket: (peerId) => call.socket(peerId),
    people(people) {
      names = new Map(people.map((p) => [p.peerId, p.name]));
      schedule();
    },
  };
}
