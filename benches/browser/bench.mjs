// `scripts/bench browser`: the browser client measured in headless Chromium.
//
// 1. Builds the 259,778-edit trace as one change per edit on top of a fresh room's first
//    change (made by the server), pushes those changes through the sync protocol in large
//    Changes frames until all are durable, and saves the document (after 10k edits and at
//    the end).
// 2. JS automerge 2.2.9 against 3.5.0 in Chromium: loading each saved document, and
//    applying one remote change (a keystroke of another actor) to it, median of 20.
// 3. A fresh Chromium page opening the trace room: time to the first paint of the text
//    (the server-rendered preview) and until the editor is editable.
// Prints a Markdown report. Usage: node --experimental-websocket benches/browser/bench.mjs
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

import { ROOT, Server, launchChromium, requireAsset, waitFor } from "../../tests/browser/support.mjs";

const TRACE = process.env.PAIRLINE_TRACE ?? join(ROOT, "../shared/traces/automerge-paper.json");
const FRAME_BYTES = 900 * 1024;
const REMOTE_CHANGES = 20;
const OPENS = 3;
/** The server's default `sync.snapshot_every`. */
const SNAPSHOT_EVERY = 5000;
/** `automerge` skips opening the trace room in a page; `room` does only that. */
const ONLY = process.argv[2];

const A = requireAsset("@automerge/automerge/next");
const esbuild = requireAsset("esbuild");
const work = mkdtempSync(join(tmpdir(), "pairline-bench-browser-"));

function readTrace() {
  if (!existsSync(TRACE)) {
    console.error(`The editing trace is missing: expected ${TRACE} (../shared/traces/ beside the clone), or set PAIRLINE_TRACE.`);
    process.exit(2);
  }
  return JSON.parse(readFileSync(TRACE, "utf8"));
}

/** The TypeScript protocol codec, bundled for node. */
async function loadProtocol() {
  const outfile = join(work, "protocol.mjs");
  await esbuild.build({
    entryPoints: [join(ROOT, "assets/src/sync/protocol.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "warning",
  });
  return import(outfile);
}

/** A protocol connection from node: messages queue up until `next()` takes them. */
async function connect(P, url) {
  if (typeof WebSocket !== "function") throw new Error("run node with --experimental-websocket (Node 20) or use Node 22+");
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const queue = [];
  let wake = null;
  socket.onmessage = (event) => {
    queue.push(P.decodeServer(new Uint8Array(event.data)));
    wake?.();
  };
  socket.onclose = (event) => {
    queue.push({ type: "closed", code: event.code });
    wake?.();
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  const next = async () => {
    while (queue.length === 0) await new Promise((resolve) => (wake = resolve));
    const message = queue.shift();
    if (message.type === "closed") throw new Error(`the server closed the connection (${message.code})`);
    return message;
  };
  const send = (message) => socket.send(P.encodeClient(message));
  return { next, send, close: () => socket.close() };
}

function frameList(changes) {
  const total = changes.reduce((sum, c) => sum + 4 + c.length, 0);
  const out = Buffer.alloc(total);
  let pos = 0;
  for (const change of changes) {
    out.writeUInt32LE(change.length, pos);
    out.set(change, pos + 4);
    pos += 4 + change.length;
  }
  return out;
}

/** Keystrokes of another actor in the middle of a saved document, one change each. */
function remoteKeystrokes(saved) {
  let doc = A.load(saved);
  const middle = Math.floor(doc.code.length / 2);
  const out = [];
  for (let i = 0; i < REMOTE_CHANGES; i++) {
    doc = A.change(doc, (d) => A.splice(d, ["code"], middle + i, 0, "x"));
    out.push(A.getLastLocalChange(doc));
  }
  return out;
}

async function pushTrace(P, server, edits) {
  const room = await server.createRoom({ language: "python", title: "trace", template: "" });
  const client = await connect(P, room.candidateWsUrl);
  client.send({
    type: "hello",
    hello: { version: P.VERSION, syncedSeq: 0, heads: [], name: "trace", color: "#123456", role: "editor" },
  });
  let doc = A.init();
  while (!doc.code && doc.code !== "") {
    const message = await client.next();
    if (message.type === "changes") [doc] = A.applyChanges(doc, message.changes.map((c) => c.change));
  }
  let started = performance.now();
  const changes = [];
  let saved10k = null;
  for (const [pos, del, ...insert] of edits) {
    doc = A.change(doc, (d) => A.splice(d, ["code"], pos, del, insert.join("")));
    changes.push(A.getLastLocalChange(doc));
    if (changes.length === 10_000) saved10k = A.save(doc);
  }
  const generated = performance.now() - started;
  const savedFull = A.save(doc);

  started = performance.now();
  let frame = [];
  let bytes = 0;
  let sentBytes = 0;
  for (const change of changes) {
    frame.push(change);
    bytes += change.length;
    if (bytes >= FRAME_BYTES) {
      client.send({ type: "changes", changes: frame });
      sentBytes += bytes;
      frame = [];
      bytes = 0;
    }
  }
  client.send({ type: "changes", changes: frame });
  sentBytes += bytes;
  let acked = 0;
  while (acked < changes.length) {
    const message = await client.next();
    if (message.type === "ack") acked += message.acked.length;
  }
  const pushed = performance.now() - started;
  client.close();
  return { room, changes: changes.length, text: doc.code, saved10k, savedFull, generated, pushed, sentBytes };
}

/**
 * Waits until the room's newest snapshot covers all but the last few changes, as the
 * server arranges on its own shortly after a burst; returns the seconds it took.
 */
async function waitForSnapshot(P, room) {
  const started = performance.now();
  for (;;) {
    const client = await connect(P, room.candidateWsUrl);
    client.send({
      type: "hello",
      hello: { version: P.VERSION, syncedSeq: 0, heads: [], name: "probe", color: "#123456", role: "observer" },
    });
    let message = await client.next();
    while (message.type !== "welcome") message = await client.next();
    client.close();
    const { maxSeq, snapshot } = message.welcome;
    if (maxSeq - (snapshot?.coversSeq ?? 0) < SNAPSHOT_EVERY) return (performance.now() - started) / 1000;
    if (performance.now() - started > 120_000) throw new Error("no snapshot of the trace room after two minutes");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Serves the benchmark page, both automerge wasm builds and the documents. */
async function servePage(files) {
  const page = join(work, "page.js");
  await esbuild.build({
    entryPoints: [join(ROOT, "benches/browser/page.ts")],
    bundle: true,
    format: "esm",
    outfile: page,
    nodePaths: [join(ROOT, "assets/node_modules")],
    logLevel: "warning",
  });
  const routes = {
    "/": ["text/html", Buffer.from('<!doctype html><script type="module" src="/page.js"></script>')],
    "/page.js": ["text/javascript", readFileSync(page)],
    "/am2.wasm": ["application/wasm", readFileSync(join(ROOT, "assets/node_modules/@automerge/automerge/dist/automerge.wasm"))],
    "/am3.wasm": ["application/wasm", readFileSync(join(ROOT, "assets/node_modules/automerge3/dist/automerge.wasm"))],
  };
  for (const [name, bytes] of Object.entries(files)) routes[`/${name}`] = ["application/octet-stream", bytes];
  const http = createServer((req, res) => {
    const route = routes[req.url];
    if (!route) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": route[0] }).end(route[1]);
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${http.address().port}/`, close: () => http.close() };
}

async function automergeInChromium(browser, site, docs) {
  const rows = [];
  for (const [label, doc] of docs) {
    for (const version of [2, 3]) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(site.url);
      await page.waitForFunction(() => "bench" in window);
      const result = await page.evaluate(
        ([v, d]) => window.bench.run(v, `/${d}.bin`, `/${d}-remote.bin`),
        [version, doc],
      );
      rows.push({ label, version: version === 2 ? "2.2.9" : "3.5.0", ...result });
      await context.close();
    }
  }
  return rows;
}

async function openTraceRoom(browser, room, expectedLength) {
  const results = [];
  for (let i = 0; i < OPENS; i++) {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      localStorage.setItem("pairline.name", "Bench");
      localStorage.setItem("pairline.color", "#2ca02c");
    });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (err) => problems.push(String(err)));
    page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
    const html = await (await page.goto(room.candidateUrl)).text();
    const previewLength = unescapeHtml(html.match(/<pre class="code-preview">([\s\S]*?)<\/pre>/)?.[1] ?? "").length;
    await waitFor("the editor to be editable", () => page.evaluate(() => performance.getEntriesByName("pairline:editable").length > 0), { timeout: 120_000, interval: 50 }).catch(async (err) => {
      const status = await page.evaluate(() => JSON.stringify(window.pairline?.status()));
      throw new Error(`${err.message}; status ${status}; ${problems.join("; ")}`);
    });
    const timing = await page.evaluate(() => ({
      paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
      editable: performance.getEntriesByName("pairline:editable")[0]?.startTime ?? NaN,
      stages: performance
        .getEntriesByType("mark")
        .filter((m) => m.name.startsWith("pairline:"))
        .map((m) => `${m.name.slice(9)} ${m.startTime.toFixed(0)}`)
        .join(", "),
    }));
    await page.waitForFunction((n) => window.pairline.text().length === n, expectedLength, { timeout: 120_000 });
    const complete = await page.evaluate(() => performance.now());
    results.push({ ...timing, previewLength, complete });
    await context.close();
  }
  return results;
}

function unescapeHtml(html) {
  const named = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return html.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, entity) => {
    if (entity[0] !== "#") return named[entity.toLowerCase()] ?? all;
    return String.fromCodePoint(entity[1].toLowerCase() === "x" ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
  });
}

function chromiumVersion() {
  try {
    return execFileSync(process.env.CHROMIUM ?? "/usr/bin/chromium", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown Chromium";
  }
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(2));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const edits = readTrace();
  const P = await loadProtocol();
  const server = new Server({ env: { PAIRLINE_LOG_LEVEL: "error" } });
  let browser;
  let site;
  try {
    await server.start();
    const trace = await pushTrace(P, server, edits);
    const snapshotAfter = await waitForSnapshot(P, trace.room);
    const files = {
      "doc-10k.bin": Buffer.from(trace.saved10k),
      "doc-10k-remote.bin": frameList(remoteKeystrokes(trace.saved10k)),
      "doc-full.bin": Buffer.from(trace.savedFull),
      "doc-full-remote.bin": frameList(remoteKeystrokes(trace.savedFull)),
    };
    site = await servePage(files);
    browser = await launchChromium();
    const automerge = ONLY === "room" ? [] : await automergeInChromium(browser, site, [
      ["10k edits", "doc-10k"],
      [`${trace.changes.toLocaleString("en")} edits`, "doc-full"],
    ]);
    const opens = ONLY === "automerge" ? [] : await openTraceRoom(browser, trace.room, trace.text.length);

    const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
    console.log(`Machine: ${cpu}, ${cpus().length} cores (nproc), ${chromiumVersion()} headless, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.\n`);
    console.log("### JS automerge in Chromium: 2.2.9 against 3.5.0\n");
    console.log("| document | saved size | automerge | load | apply one remote change, median of 20 | max |");
    console.log("| --- | ---: | --- | ---: | ---: | ---: |");
    for (const row of automerge) {
      const size = row.label.startsWith("10k") ? trace.saved10k.length : trace.savedFull.length;
      console.log(`| ${row.label} (${row.length.toLocaleString("en")} chars) | ${(size / 1024).toFixed(0)} KB | ${row.version} | ${fmt(row.load)} ms | ${fmt(row.applyMedian)} ms | ${fmt(row.applyMax)} ms |`);
    }
    console.log(`\n### The trace pushed through the protocol from node\n`);
    console.log(`${trace.changes.toLocaleString("en")} changes (${(trace.sentBytes / 1e6).toFixed(1)} MB) in Changes frames of up to 900 KiB: generated with JS automerge 2.2.9 in ${(trace.generated / 1000).toFixed(1)} s, sent and all acknowledged (durable) in ${(trace.pushed / 1000).toFixed(1)} s.\n`);
    console.log(`The server's snapshot covering the trace was stored ${snapshotAfter.toFixed(1)} s after the last acknowledgement; the room is opened after that.\n`);
    if (opens.length === 0) return;
    if (process.env.PAIRLINE_BENCH_STAGES) for (const o of opens) console.log(`stages (ms): ${o.stages}`);
    console.log(`### A fresh Chromium page opening the trace room (median of ${OPENS}, fresh context each)\n`);
    console.log("| text shown (first contentful paint of the server-rendered text) | editor editable | whole document in the editor |");
    console.log("| ---: | ---: | ---: |");
    console.log(`| ${fmt(median(opens.map((o) => o.paint)))} ms (${opens[0].previewLength.toLocaleString("en")} chars) | ${fmt(median(opens.map((o) => o.editable)))} ms | ${fmt(median(opens.map((o) => o.complete)))} ms |`);
  } finally {
    await browser?.close();
    site?.close();
    await server.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
