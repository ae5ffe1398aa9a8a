// The room page: the server-rendered code shows at once; the sync worker loads the
// document (from IndexedDB and the server) off the main thread; then the editor mounts,
// editable for editors and read-only for observers (`?observe=1`, and candidates once the
// interviewer has ended the room), with the language picker, the people in the room,
// their cursors and the connection badge, and the room's call (audio and video). Staff
// pages also get the private notes panel.
import type { ChangeSet } from "@codemirror/state";
import { keepPageForOffline } from "./offline/cache";

import { type EditorHandle, createEditor } from "./editor/editor";
import { labelledCursors, remoteCursors, setRemoteCursors } from "./editor/cursors";
import { type ConnectionState, renderConnectionState } from "./ui/connection";
import { askIdentity, storedIdentity } from "./ui/identity";
import { createLanguagePicker } from "./ui/languagePicker";
import { type CallPanel, mountCallPanel } from "./media/panel";
import { mountNotes } from "./notes";
import { type RunPanel, mountRunPanel } from "./run/panel";
import { renderParticipants } from "./ui/participants";
import { createThemeToggle, initTheme } from "./ui/theme";
import { Collab } from "./sync/collab";
import type { Person, Range, Status } from "./sync/messages";
import type { Role } from "./sync/protocol";
import { Session, syncAssetUrls } from "./sync/session";

/** What tests and the benchmark read from the page. */
interface PageHooks {
  text(): string;
  status(): Status | null;
}

export async function mountRoom(container: HTMLElement): Promise<void> {
  initTheme();
  const themeSlot = document.getElementById("theme-toggle");
  if (themeSlot) createThemeToggle(themeSlot);
  const badge = document.getElementById("connection");
  const peopleSlot = document.getElementById("participants");
  const pickerSlot = document.getElementById("language-picker");
  const notice = document.getElementById("room-notice");
  const endedBanner = document.getElementById("room-ended");
  const notesSlot = document.getElementById("notes");
  const runSlot = document.getElementById("run-panel");
  const callSlot = document.getElementById("call");

  const roomId = container.dataset.roomId ?? "";
  const wsUrl = new URL(container.dataset.wsUrl ?? "", location.href).href.replace(/^http/, "ws");
  const role: Role = new URLSearchParams(location.search).get("observe") === "1" ? "observer" : "editor";
  void keepPageForOffline(syncAssetUrls());
  const identity = storedIdentity() ?? (await askIdentity());
  /** Observers, and candidates in a room that has ended, cannot edit. */
  let readOnly = role === "observer" || container.dataset.readOnly === "true";

  let editor: EditorHandle | null = null;
  let language = container.dataset.language ?? "";
  let status: Status | null = null;
  let self: Person | null = null;
  let peers: Person[] = [];
  let cursors: { peerId: number; ranges: Range[] }[] = [];
  let runs: RunPanel | null = null;
  let call: CallPanel | null = null;
  const hooks: PageHooks = { text: () => editor?.view.state.doc.toString() ?? "", status: () => status };
  (window as unknown as { pairline: PageHooks }).pairline = hooks;

  const session = new Session(
    { roomId, wsUrl, name: identity.name, color: identity.color, role },
    {
      ready: (text, lang) => mount(text, lang || language),
      remote: (changes: ChangeSet, seen: number, lang?: string) => {
        collab.applyRemote(changes, seen);
        if (lang) switchLanguage(lang, false);
      },
      peers: (me, others) => {
        self = me;
        peers = others;
        call?.people([...(me ? [me] : []), ...others]);
        showPeople();
        drawCursors();
      },
      cursors: (list, seen) => {
        cursors = list.map((c) => ({ peerId: c.peerId, ranges: collab.mapRanges(c.ranges, seen) }));
        drawCursors();
      },
      status: (next) => {
        status = next;
        showStatus();
      },
      run: (event) => runs?.event(event),
      media: (signal) => call?.signal(signal),
      socket: (peerId) => call?.socket(peerId),
      access: (granted, endedAt) => {
        readOnly = granted === "observer";
        runs?.setBlocked(runBlocked(endedAt));
        editor?.setReadOnly(readOnly);
        picker?.setDisabled(readOnly);
        if (endedBanner && endedAt > 0) endedBanner.hidden = false;
      },
    },
  );
  if (callSlot) call = mountCallPanel(callSlot, (signal) => session.media(signal));
  if (notesSlot) mountNotes(notesSlot, identity);
  /** Why this participant may not run the code, if so. */
  function runBlocked(endedAt: number): string | null {
    if (!readOnly) return null;
    if (role === "observer") return "Observers cannot run the code.";
    return endedAt > 0 || container.dataset.readOnly === "true"
      ? "The interview has ended: the code can no longer be run from this link."
      : "You cannot run the code here.";
  }
  if (runSlot) {
    runs = mountRunPanel(runSlot, {
      roomId,
      language,
      staff: runSlot.dataset.staff === "true",
      run: (stdin) => session.run(stdin),
    });
    runs.setBlocked(runBlocked(0));
  }
  const collab = new Collab(session);
  const picker = pickerSlot
    ? createLanguagePicker(pickerSlot, language, (id: string) => switchLanguage(id, true))
    : null;
  picker?.setDisabled(true);
  pickerSlot?.querySelector(".badge")?.remove();

  function mount(text: string, lang: string): void {
    if (editor) return;
    language = lang;
    runs?.setLanguage(lang);
    container.querySelector(".code-preview")?.remove();
    editor = createEditor({
      parent: container,
      text,
      language,
      readOnly,
      extensions: [collab.extension(), remoteCursors()],
    });
    collab.attach(editor.view);
    picker?.set(language);
    picker?.setDisabled(readOnly);
    container.dataset.ready = "true";
    performance.mark("pairline:editable");
    drawCursors();
  }

  /** Shows the status on the badge, counting down to the next reconnection attempt. */
  let retryAt = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  function showStatus(): void {
    if (!badge || !status) return;
    const current = status;
    clearInterval(ticker);
    retryAt = Date.now() + (current.retryInMs ?? 0);
    const render = () => renderConnectionState(badge, toConnectionState(current, retryAt - Date.now()));
    render();
    if (current.kind === "reconnecting") ticker = setInterval(render, 1000);
    badge.title = current.message ?? "";
    if (notice) {
      notice.hidden = !current.stopped;
      notice.textContent = current.stopped ? (current.message ?? "") : "";
    }
  }

  function switchLanguage(id: string, local: boolean): void {
    if (id === language) return;
    language = id;
    runs?.setLanguage(id);
    editor?.setLanguage(id);
    picker?.set(id);
    if (local) session.setLanguage(id);
  }

  function showPeople(): void {
    if (!peopleSlot) return;
    const everyone = [
      ...(self ? [{ ...self, self: true }] : []),
      ...peers.map((p) => ({ ...p, self: false })),
    ];
    renderParticipants(peopleSlot, everyone);
  }

  function drawCursors(): void {
    editor?.view.dispatch({ effects: setRemoteCursors.of(labelledCursors(peers, cursors)) });
  }
}

function toConnectionState(status: Status, retryInMs: number): ConnectionState {
  const unsynced = status.unsynced;
  if (status.kind === "reconnecting") {
    return { kind: "reconnecting", attempt: status.attempt ?? 1, retryInMs: Math.max(0, retryInMs), unsynced };
  }
  return { kind: status.kind, unsynced };
}
