// Shared by the browser tests and the browser benchmark: the real `pairline` binary as
// a child process on a port of its own with a fresh data directory (SQLite), headless
// Chromium through playwright-core, and waiting for conditions without fixed sleeps.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;
/** Loads packages installed in assets/node_modules (the only node_modules of the repo). */
export const requireAsset = createRequire(join(ROOT, "assets/package.json"));

const TARGET = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "/root", ".cache/pairline/target");
/** The server binary: PAIRLINE_BINARY, else a debug or release build in the target dir. */
export function serverBinary() {
  const candidates = [process.env.PAIRLINE_BINARY, join(TARGET, "debug/pairline"), join(TARGET, "release/pairline")];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error(`no pairline binary: build it (cargo build) or set PAIRLINE_BINARY; looked in ${TARGET}`);
  return found;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns something truthy, or throws after `timeout` ms. */
export async function waitFor(what, check, { timeout = 15_000, interval = 25 } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastError ? ` (${lastError.message})` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/**
 * The server as a child process. `start()` spawns it and resolves once `/readyz`
 * answers 200; `stop()` sends SIGTERM and waits for the exit. The data directory
 * outlives restarts and is removed by `cleanup()`.
 */
export class Server {
  constructor({ binary = serverBinary(), port, dataDir, env = {} } = {}) {
    this.binary = binary;
    this.port = port;
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), "pairline-browser-"));
    this.env = env;
    this.child = null;
    this.log = "";
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port ??= await freePort();
    const child = spawn(this.binary, [], {
      env: {
        PATH: process.env.PATH,
        PAIRLINE_LISTEN: `127.0.0.1:${this.port}`,
        PAIRLINE_DATA_DIR: this.dataDir,
        PAIRLINE_LOG_LEVEL: "warn",
        // Media ports are per server: tests run several side by side.
        PAIRLINE_MEDIA_UDP_PORT: "0",
        PAIRLINE_MEDIA_TCP_PORT: "0",
        PAIRLINE_MEDIA_ADVERTISE_IP: "127.0.0.1",
        ...this.env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child = child;
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.exited = exited;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      this.log += chunk;
    });
    let gone = null;
    exited.then((status) => {
      gone = status;
    });
    await waitFor(`the server on port ${this.port} to be ready`, async () => {
      if (gone) throw new Error(`the server exited (${JSON.stringify(gone)}): ${this.log}`);
      const response = await fetch(`${this.base}/readyz`);
      return response.status === 200;
    });
  }

  /** SIGTERM, then waits until the process has exited. */
  async stop() {
    if (!this.child) return;
    const child = this.child;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await child.exited;
  }

  async cleanup() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Runs a `pairline` command on this server's data directory; returns its stdout. */
  command(args, input = "") {
    return execFileSync(this.binary, args, {
      env: { PATH: process.env.PATH, PAIRLINE_DATA_DIR: this.dataDir, PAIRLINE_LOG_LEVEL: "warn", ...this.env },
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "ignore"],
    });
  }

  /**
   * An interviewer account (made with `pairline user add` on first use) and an API token
   * for it (`pairline token create`).
   */
  staffToken() {
    if (!this.token) {
      this.command(["user", "add", "--email", STAFF_EMAIL, "--role", "interviewer"], `${STAFF_PASSWORD}\n`);
      this.token = this.command(["token", "create", "--email", STAFF_EMAIL, "--name", "browser tests"]).trim();
    }
    return this.token;
  }

  /** Creates a room through the REST API (as the interviewer) and returns its JSON. */
  async createRoom(body = { language: "python" }) {
    const response = await fetch(`${this.base}/v1/rooms`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.staffToken()}` },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`creating a room: ${response.status} ${await response.text()}`);
    return response.json();
  }
}

/** The interviewer account `Server.staffToken()` makes. */
export const STAFF_EMAIL = "interviewer@example.com";
export const STAFF_PASSWORD = "correct horse battery";

/** Chromium flags from DESIGN.md ("Browser tests"). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Headless Chromium (the system's, never a downloaded one). playwright starts it with a
 * new empty profile directory of its own; each page should get `browser.newContext()`.
 */
export async function launchChromium(extraArgs = []) {
  const { chromium } = requireAsset("playwright-core");
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) throw new Error(`Chromium is missing at ${executablePath}: apt-get install chromium`);
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
