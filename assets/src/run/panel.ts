// The Run panel under the editor: the Run button (and Ctrl/Cmd+Enter), the stdin box
// (remembered per room), the output of the room's latest run as it streams in (stdout and
// stderr apart, always inserted as text), who started it and how it ended, and the run
// history. Runs started by anyone in the room show for everyone.
import {
  type Chunk,
  type RunView,
  type RunsState,
  busy,
  chunksOf,
  formatFigures,
  initialState,
  parseEvent,
  reduce,
  statusLine,
} from "./state";

export interface RunPanelOptions {
  roomId: string;
  language: string;
  /** Staff pages list the room's earlier runs from the API. */
  staff: boolean;
  /** Sends a run request over the room's socket. */
  run(stdin: string): void;
}

export interface RunPanel {
  /** A run event from the room's socket (JSON). */
  event(json: string): void;
  /** Why this participant may not run code, or null if they may. */
  setBlocked(reason: string | null): void;
  setLanguage(id: string): void;
}

interface LanguageInfo {
  id: string;
  name: string;
  available: boolean;
}

export function mountRunPanel(root: HTMLElement, options: RunPanelOptions): RunPanel {
  const button = root.querySelector<HTMLButtonElement>(".run-button")!;
  const statusEl = root.querySelector<HTMLElement>(".run-status")!;
  const output = root.querySelector<HTMLElement>(".run-output")!;
  const stdin = root.querySelector<HTMLTextAreaElement>(".run-stdin textarea")!;
  const historyList = root.querySelector<HTMLOListElement>(".run-history ol")!;
  const historyCount = root.querySelector<HTMLElement>(".run-history .count")!;
  const problem = root.querySelector<HTMLElement>(".run-problem")!;

  const stdinKey = `pairline:stdin:${options.roomId}`;
  stdin.value = localStorage.getItem(stdinKey) ?? "";
  stdin.addEventListener("input", () => localStorage.setItem(stdinKey, stdin.value));

  let state: RunsState = initialState;
  let blocked: string | null = null;
  let language = options.language;
  let languages: LanguageInfo[] | null = null;
  /** The run whose output is in the panel, and how many of its chunks are drawn. */
  let shownRun = "";
  let drawn = 0;
  let frame = 0;

  function unavailable(): string | null {
    const info = languages?.find((l) => l.id === language);
    return info && !info.available ? `${info.name} cannot run on this server's sandbox.` : null;
  }

  function refresh(): void {
    const why = blocked ?? unavailable() ?? (busy(state) ? "A run of this room is under way." : null);
    button.disabled = why !== null;
    button.title = why ?? "Run the code (Ctrl+Enter)";
    problem.hidden = !(state.refusal || unavailable());
    problem.textContent = state.refusal ?? unavailable() ?? "";
    if (state.current) statusEl.textContent = statusLine(state.current);
    root.dataset.phase = state.current?.phase ?? "idle";
    schedule();
  }

  /** Draws new output at most once a frame, however fast it arrives. */
  function schedule(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const current = state.current;
      if (!current) return;
      if (current.runId !== shownRun || current.output.length < drawn) {
        output.replaceChildren();
        shownRun = current.runId;
        drawn = 0;
      }
      appendChunks(current.output.slice(drawn));
      drawn = current.output.length;
    });
  }

  function appendChunks(chunks: Chunk[]): void {
    const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    const fragment = document.createDocumentFragment();
    for (const chunk of chunks) {
      const span = document.createElement("span");
      span.className = chunk.stream;
      span.textContent = chunk.data;
      fragment.append(span);
    }
    output.append(fragment);
    if (atBottom) output.scrollTop = output.scrollHeight;
  }

  function renderHistory(): void {
    historyCount.textContent = String(state.history.length);
    historyList.replaceChildren(...state.history.map(historyItem));
  }

  function historyItem(run: RunView): HTMLLIElement {
    const item = document.createElement("li");
    const show = document.createElement("button");
    show.type = "button";
    show.className = `history-entry status-${run.status}`;
    const when = new Date(run.createdAt).toLocaleTimeString();
    show.textContent = `${when} · ${run.startedBy} · ${run.language} · ${run.status.replace("_", " ")} · ${formatFigures(run)}`;
    show.title = run.message;
    show.addEventListener("click", () => showStored(run));
    item.append(show);
    return item;
  }

  /** Shows an earlier run's output (and its input) in the panel. */
  function showStored(run: RunView): void {
    shownRun = run.runId;
    drawn = 0;
    output.replaceChildren();
    if (run.stdin) {
      const input = document.createElement("span");
      input.className = "stdin";
      input.textContent = `stdin:\n${run.stdin}${run.stdin.endsWith("\n") ? "" : "\n"}\n`;
      output.append(input);
    }
    appendChunks(chunksOf(run));
    statusEl.textContent = `${run.message} ${formatFigures(run)}. ${run.runtime}, started by ${run.startedBy} at ${new Date(run.createdAt).toLocaleTimeString()}.`;
  }

  function start(): void {
    if (button.disabled) return;
    state = { ...state, refusal: null };
    options.run(stdin.value);
  }

  button.addEventListener("click", start);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      start();
    }
  });

  void fetch("/v1/languages")
    .then((response) => (response.ok ? response.json() : null))
    .then((body: { languages: LanguageInfo[] } | null) => {
      languages = body?.languages ?? null;
      refresh();
    })
    .catch(() => {});
  if (options.staff) {
    void fetch(`/v1/rooms/${encodeURIComponent(options.roomId)}/runs?limit=50`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((body: { runs: RunView[] } | null) => {
        const known = new Set(state.history.map((r) => r.runId));
        state = { ...state, history: [...state.history, ...(body?.runs ?? []).filter((r) => !known.has(r.runId))] };
        renderHistory();
      })
      .catch(() => {});
  }
  refresh();

  return {
    event(json: string): void {
      const event = parseEvent(json);
      if (!event) return;
      state = reduce(state, event);
      if (event.type === "finished") renderHistory();
      refresh();
    },
    setBlocked(reason: string | null): void {
      blocked = reason;
      refresh();
    },
    setLanguage(id: string): void {
      language = id;
      refresh();
    },
  };
}
