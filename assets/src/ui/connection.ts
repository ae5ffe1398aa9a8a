// The connection badge: a coloured dot and a sentence about the link to the server and
// the edits this device has not yet had acknowledged.

/** Where the sync connection stands; `unsynced` counts local edits not yet acknowledged. */
export type ConnectionState =
  | { kind: "connecting"; unsynced: number }
  | { kind: "live"; unsynced: number }
  | { kind: "reconnecting"; attempt: number; retryInMs: number; unsynced: number }
  | { kind: "offline"; unsynced: number };

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** The visible words for a state, e.g. "Reconnecting in 4 s… · 12 unsynced edits". */
export function connectionText(state: ConnectionState): string {
  const pending = Math.max(0, Math.trunc(state.unsynced));
  const unsynced = pending > 0 ? ` · ${plural(pending, "unsynced edit", "unsynced edits")}` : "";
  switch (state.kind) {
    case "connecting":
      return `Connecting…${unsynced}`;
    case "live":
      return pending > 0 ? `Live · ${plural(pending, "edit", "edits")} syncing` : "Live";
    case "reconnecting": {
      const seconds = Math.ceil(state.retryInMs / 1000);
      return `${seconds > 0 ? `Reconnecting in ${seconds} s…` : "Reconnecting…"}${unsynced}`;
    }
    case "offline":
      return pending > 0 ? `Offline${unsynced} (kept on this device)` : "Offline";
  }
}

/** What a screen reader hears: the same without a countdown, so it is not read every second. */
function spokenText(state: ConnectionState): string {
  return state.kind === "reconnecting" ? connectionText({ ...state, retryInMs: 0 }) : connectionText(state);
}

function part(el: HTMLElement, className: string, create: () => HTMLElement): HTMLElement {
  const existing = el.querySelector<HTMLElement>(`:scope > .${className}`);
  if (existing) return existing;
  const created = create();
  created.className = className;
  el.appendChild(created);
  return created;
}

/**
 * Shows `state` in `el` (a polite live region). Sets `data-state` to the kind and
 * `data-unsynced` to the count. Call it again for every change, including the countdown.
 */
export function renderConnectionState(el: HTMLElement, state: ConnectionState): void {
  el.classList.add("pl-connection");
  el.setAttribute("role", "status");
  el.setAttribute("aria-live", "polite");
  el.dataset.state = state.kind;
  el.dataset.unsynced = String(Math.max(0, Math.trunc(state.unsynced)));
  const dot = part(el, "pl-connection-dot", () => document.createElement("span"));
  dot.setAttribute("aria-hidden", "true");
  const visible = part(el, "pl-connection-text", () => document.createElement("span"));
  visible.setAttribute("aria-hidden", "true");
  const spoken = part(el, "visually-hidden", () => document.createElement("span"));
  const text = connectionText(state);
  if (visible.textContent !== text) visible.textContent = text;
  const words = spokenText(state);
  if (spoken.textContent !== words) spoken.textContent = words;
  el.title = state.kind === "reconnecting" ? `${text} (attempt ${state.attempt})` : text;
}
