// The staff-only notes panel: a second shared document beside the code. On the server it
// is a room of its own with no candidate link, so no candidate's socket can reach it; here
// it is a plain-text editor with the other staff's cursors and a one-line sync state.
import { EditorView } from "@codemirror/view";

import { type EditorHandle, createEditor } from "./editor/editor";
import { labelledCursors, remoteCursors, setRemoteCursors } from "./editor/cursors";
import type { Identity } from "./ui/identity";
import { connectionText } from "./ui/connection";
import { Collab } from "./sync/collab";
import type { Person, Range } from "./sync/messages";
import { Session } from "./sync/session";

/** What tests read from the page. */
interface NotesHooks {
  notesText(): string;
}

export function mountNotes(container: HTMLElement, identity: Identity): void {
  const roomId = container.dataset.roomId ?? "";
  const wsUrl = new URL(container.dataset.wsUrl ?? "", location.href).href.replace(/^http/, "ws");
  const state = document.createElement("p");
  state.className = "notes-state";
  state.setAttribute("role", "status");
  container.before(state);

  let editor: EditorHandle | null = null;
  let peers: Person[] = [];
  let cursors: { peerId: number; ranges: Range[] }[] = [];
  const hooks = (window as unknown as { pairline?: Partial<NotesHooks> }).pairline;
  if (hooks) hooks.notesText = () => editor?.view.state.doc.toString() ?? "";

  const session = new Session(
    { roomId, wsUrl, name: identity.name, color: identity.color, role: "editor" },
    {
      ready: (text) => {
        if (editor) return;
        container.querySelector(".code-preview")?.remove();
        editor = createEditor({
          parent: container,
          text,
          language: "",
          readOnly: false,
          label: "Private notes",
          extensions: [collab.extension(), remoteCursors(), EditorView.lineWrapping],
        });
        collab.attach(editor.view);
        container.dataset.ready = "true";
      },
      remote: (changes, seen) => collab.applyRemote(changes, seen),
      peers: (_self, others) => {
        peers = others;
        drawCursors();
      },
      cursors: (list, seen) => {
        cursors = list.map((c) => ({ peerId: c.peerId, ranges: collab.mapRanges(c.ranges, seen) }));
        drawCursors();
      },
      status: (status) => {
        state.textContent = status.stopped
          ? `Notes: ${status.message ?? "not syncing"}`
          : `Notes: ${connectionText({ kind: status.kind, unsynced: status.unsynced, attempt: status.attempt ?? 1, retryInMs: status.retryInMs ?? 0 })}`;
      },
      access: () => {},
    },
  );
  const collab = new Collab(session);

  function drawCursors(): void {
    editor?.view.dispatch({ effects: setRemoteCursors.of(labelledCursors(peers, cursors)) });
  }
}
