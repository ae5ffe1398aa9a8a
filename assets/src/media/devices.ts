// The device check before joining the call: a preview of the camera, the choice of camera
// and microphone (remembered on this device), and why a device is missing when the browser
// refuses it. Joining without any device still works: the call is then watched and heard.

/** Why the browser gave no camera or microphone, in words for people. */
export function explainMediaError(name: string, what: string): string {
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return `The browser was not allowed to use your ${what}. You can join to watch and listen, or allow it in the browser's site settings and try again.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No ${what} was found. You can join to watch and listen.`;
    case "NotReadableError":
    case "AbortError":
      return `Your ${what} could not be started (another program may be using it). You can join to watch and listen.`;
    case "Insecure":
      return "This page is not on a secure (HTTPS) connection, so the browser offers no camera or microphone. You can join to watch and listen.";
    default:
      return `Your ${what} could not be used (${name}). You can join to watch and listen.`;
  }
}

export interface Acquired {
  /** What could be had; null when nothing. */
  stream: MediaStream | null;
  /** Why a device is missing, if one is. */
  problem: string | null;
}

const errorName = (err: unknown): string => (err instanceof Error || err instanceof DOMException ? err.name : String(err));

/** The camera and microphone (the chosen ones, by device id), or as much of them as works. */
export async function acquire(camera: string, microphone: string): Promise<Acquired> {
  const devices = navigator.mediaDevices;
  if (!devices?.getUserMedia) return { stream: null, problem: explainMediaError("Insecure", "") };
  // `ideal`: a remembered device that is gone gives way to the default one.
  const video: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, ...(camera ? { deviceId: { ideal: camera } } : {}) };
  const audio: MediaTrackConstraints = microphone ? { deviceId: { ideal: microphone } } : {};
  try {
    return { stream: await devices.getUserMedia({ audio, video }), problem: null };
  } catch (both) {
    // One of the two may still work (a computer without a camera, say).
    for (const [constraints, missing] of [[{ audio }, "camera"], [{ video }, "microphone"]] as const) {
      try {
        const stream = await devices.getUserMedia(constraints);
        return { stream, problem: explainMediaError(errorName(both), missing) };
      } catch {
        // try the other
      }
    }
    return { stream: null, problem: explainMediaError(errorName(both), "camera and microphone") };
  }
}

const CAMERA_KEY = "pairline.camera";
const MICROPHONE_KEY = "pairline.microphone";

function remembered(key: string): string {
  try {
    return localStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage blocked: the default device next time
  }
}

/** Fills `select` with the devices of `kind`, the one in use selected. */
function fill(select: HTMLSelectElement, devices: MediaDeviceInfo[], kind: MediaDeviceKind, inUse: string): void {
  const found = devices.filter((d) => d.kind === kind && d.deviceId);
  select.replaceChildren(
    ...found.map((d, i) => {
      const option = new Option(d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}`, d.deviceId);
      option.selected = d.deviceId === inUse;
      return option;
    }),
  );
  select.disabled = found.length === 0;
}

/**
 * Opens the device check in `dialog` (see templates/room.html). Resolves with the stream
 * to publish (null: join to watch and listen) and why a device is missing, once the person
 * joins; or with undefined if they cancel (the stream is then stopped).
 */
export function checkDevices(dialog: HTMLDialogElement): Promise<Acquired | undefined> {
  const preview = dialog.querySelector<HTMLVideoElement>(".call-check-preview")!;
  const problem = dialog.querySelector<HTMLElement>(".call-check-problem")!;
  const cameraSelect = dialog.querySelector<HTMLSelectElement>('select[name="camera"]')!;
  const micSelect = dialog.querySelector<HTMLSelectElement>('select[name="microphone"]')!;
  const join = dialog.querySelector<HTMLButtonElement>(".call-check-join")!;
  let stream: MediaStream | null = null;
  let why: string | null = null;
  let generation = 0;

  const stop = () => stream?.getTracks().forEach((t) => t.stop());

  async function start(camera: string, microphone: string): Promise<void> {
    const mine = ++generation;
    stop();
    stream = null;
    join.disabled = true;
    dialog.dataset.state = "checking";
    const got = await acquire(camera, microphone);
    if (mine !== generation) return got.stream?.getTracks().forEach((t) => t.stop());
    stream = got.stream;
    why = got.problem;
    preview.srcObject = stream;
    preview.hidden = !stream?.getVideoTracks().length;
    problem.hidden = got.problem === null;
    problem.textContent = got.problem ?? "";
    join.disabled = false;
    join.textContent = stream ? "Join call" : "Join to watch and listen";
    dialog.dataset.state = stream ? (got.problem ? "partial" : "ready") : "refused";
    const inUse = (kind: "video" | "audio") => stream?.getTracks().find((t) => t.kind === kind)?.getSettings().deviceId ?? "";
    const devices = (await navigator.mediaDevices?.enumerateDevices?.().catch(() => [])) ?? [];
    if (mine !== generation) return;
    fill(cameraSelect, devices, "videoinput", inUse("video"));
    fill(micSelect, devices, "audioinput", inUse("audio"));
  }

  const onChange = () => {
    remember(CAMERA_KEY, cameraSelect.value);
    remember(MICROPHONE_KEY, micSelect.value);
    void start(cameraSelect.value, micSelect.value);
  };
  cameraSelect.addEventListener("change", onChange);
  micSelect.addEventListener("change", onChange);

  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        generation++;
        cameraSelect.removeEventListener("change", onChange);
        micSelect.removeEventListener("change", onChange);
        preview.srcObject = null;
        if (dialog.returnValue === "join") return resolve({ stream, problem: why });
        stop();
        resolve(undefined);
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    void start(remembered(CAMERA_KEY), remembered(MICROPHONE_KEY));
  });
}
