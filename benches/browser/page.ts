// Runs inside Chromium for `scripts/bench browser`: loads a saved document with one of
// the two JS automerge versions and applies remote changes one by one, timing each.
import * as A2 from "@automerge/automerge/slim/next";
import * as A3 from "automerge3/slim";

type Lib = typeof A2;

async function bytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Splits `[u32 length][bytes]...` into its parts. */
function frames(buf: Uint8Array): Uint8Array[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const len = view.getUint32(pos, true);
    out.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run(version: 2 | 3, docUrl: string, changesUrl: string) {
  const lib = (version === 2 ? A2 : A3) as unknown as Lib;
  await lib.initializeWasm(version === 2 ? "/am2.wasm" : "/am3.wasm");
  const saved = await bytes(docUrl);
  const changes = frames(await bytes(changesUrl));
  let started = performance.now();
  let doc = lib.load<{ code: string }>(saved);
  const load = performance.now() - started;
  const length = doc.code.length;
  const apply: number[] = [];
  let patches = 0;
  for (const change of changes) {
    started = performance.now();
    [doc] = lib.applyChanges(doc, [change], { patchCallback: (p) => (patches += p.length) });
    apply.push(performance.now() - started);
  }
  return { load, length, applyMedian: median(apply), applyMax: Math.max(...apply), patches, changes: changes.length };
}

(window as unknown as { bench: unknown }).bench = { run };
