// The run panel's state, made from the room's run events (docs/protocol.md, `0x8a Run`):
// the run going on (queued, running, finished) with its output, the runs before it, and
// the last refusal. Pure, so that it is tested without a page.

/** A stored run, as the server shows it. */
export interface RunView {
  runId: string;
  startedBy: string;
  createdAt: string;
  finishedAt: string;
  language: string;
  stdin: string;
  status: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  executionTimeMs: number;
  memoryUsageMb: number;
  truncated: boolean;
  runtime: string;
  backend: string;
  message: string;
}

export type RunEvent =
  | { type: "queued"; runId: string; startedBy: string; language: string; position: number }
  | { type: "started"; runId: string; startedBy: string; language: string; runtime: string }
  | { type: "output"; runId: string; stream: "stdout" | "stderr"; data: string }
  | { type: "finished"; runId: string; run: RunView }
  | { type: "refused"; message: string };

export interface Chunk {
  stream: "stdout" | "stderr";
  data: string;
}

/** The run the panel shows. */
export interface Current {
  runId: string;
  startedBy: string;
  language: string;
  phase: "queued" | "running" | "finished";
  position: number;
  runtime: string;
  output: Chunk[];
  /** Characters of output kept (the page keeps at most `MAX_OUTPUT_CHARS`). */
  kept: number;
  result: RunView | null;
}

export interface RunsState {
  current: Current | null;
  /** Finished runs, newest first. */
  history: RunView[];
  refusal: string | null;
}

/** Most output characters the page keeps of one run (the server caps bytes too). */
export const MAX_OUTPUT_CHARS = 2_000_000;
/** Most runs the history keeps. */
const MAX_HISTORY = 100;

export const initialState: RunsState = { current: null, history: [], refusal: null };

/** The event in `json`, or null if it is not one this page knows. */
export function parseEvent(json: string): RunEvent | null {
  try {
    const event = JSON.parse(json) as RunEvent;
    return typeof event?.type === "string" ? event : null;
  } catch {
    return null;
  }
}

export function reduce(state: RunsState, event: RunEvent): RunsState {
  switch (event.type) {
    case "refused":
      return { ...state, refusal: event.message };
    case "queued":
      return { ...state, refusal: null, current: { ...fresh(event.runId, event.startedBy, event.language), position: event.position } };
    case "started": {
      const base = state.current?.runId === event.runId ? state.current : fresh(event.runId, event.startedBy, event.language);
      return { ...state, refusal: null, current: { ...base, phase: "running", runtime: event.runtime, position: 0 } };
    }
    case "output": {
      const current = state.current;
      if (!current || current.runId !== event.runId || current.kept >= MAX_OUTPUT_CHARS) return state;
      const data = event.data.slice(0, MAX_OUTPUT_CHARS - current.kept);
      return { ...state, current: { ...current, output: [...current.output, { stream: event.stream, data }], kept: current.kept + data.length } };
    }
    case "finished": {
      const run = event.run;
      const history = [run, ...state.history.filter((r) => r.runId !== run.runId)].slice(0, MAX_HISTORY);
      const current = state.current?.runId === event.runId ? state.current : fresh(run.runId, run.startedBy, run.language);
      // Output that was not streamed to this page (it joined late) comes from the result.
      const output = current.output.length > 0 ? current.output : chunksOf(run);
      return { ...state, history, current: { ...current, phase: "finished", runtime: run.runtime, output, result: run } };
    }
  }
}

/** A stored run's output as chunks (stdout, then stderr). */
export function chunksOf(run: RunView): Chunk[] {
  const chunks: Chunk[] = [];
  if (run.stdout) chunks.push({ stream: "stdout", data: run.stdout });
  if (run.stderr) chunks.push({ stream: "stderr", data: run.stderr });
  return chunks;
}

function fresh(runId: string, startedBy: string, language: string): Current {
  return { runId, startedBy, language, phase: "queued", position: 0, runtime: "", output: [], kept: 0, result: null };
}

/** One line saying where the run is, for people. */
export function statusLine(current: Current): string {
  const who = `started by ${current.startedBy}`;
  switch (current.phase) {
    case "queued":
      return `Queued: position ${current.position} (${who})`;
    case "running":
      return `Running ${current.runtime || current.language}… (${who})`;
    case "finished": {
      const run = current.result;
      if (!run) return `Finished (${who})`;
      const figures = run.status === "compile_error" || run.status === "internal_error" ? "" : ` ${formatFigures(run)}.`;
      return `${run.message}${figures} ${run.runtime}, ${who}.`;
    }
  }
}

/** "42 ms, 4.3 MB" */
export function formatFigures(run: RunView): string {
  return `${run.executionTimeMs} ms, ${run.memoryUsageMb} MB`;
}

/** Whether a run of this room is waiting or going on (Run is then disabled). */
export function busy(state: RunsState): boolean {
  return state.current !== null && state.current.phase !== "finished";
}
