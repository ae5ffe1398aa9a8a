// The room's call in real Chromium (fake camera and microphone) against the server's SFU
// on loopback: two people join and each decodes the other's video and audio, with names,
// mute marks, screen sharing and the active speaker on the tiles; someone whose browser refuses the camera
// and microphone still edits and joins to watch and listen; and after a server restart
// the call comes back by itself, on a new peer connection, without a reload.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { text, typeAtEnd, waitReady, waitText } from "./pages.mjs";
import { Server, launchChromium, waitFor } from "./support.mjs";

/** Beyond DESIGN.md's flags: a fake camera and microphone (no prompt). */
const MEDIA_ARGS = [
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--autoplay-policy=no-user-gesture-required",
];
/** The SFU on loopback (`Server` gives each server media ports of its own). */
const MEDIA_ENV = { PAIRLINE_MEDIA_BIND: "127.0.0.1" };
const MEDIA_TIMEOUT = 30_000;

let browser;
before(async () => {
  browser = await launchChromium(MEDIA_ARGS);
});
after(async () => {
  await browser?.close();
});

/** Runs `body` with a fresh server with media on loopback, printing its log on failure. */
async function withServer(body) {
  const server = new Server({ env: MEDIA_ENV });
  await server.start();
  try {
    await body(server);
  } catch (err) {
    console.error(`server log:\n${server.log}`);
    throw err;
  } finally {
    await server.cleanup();
  }
}

/** Opens the candidate link as `name`; `refuseDevices` makes getUserMedia fail as a denied prompt does. */
async function open(room, name, { refuseDevices = false } = {}) {
  const context = await browser.newContext();
  await context.addInitScript(
    ([n, refuse]) => {
      localStorage.setItem("pairline.name", n);
      localStorage.setItem("pairline.color", "#4263eb");
      if (refuse) {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
      }
    },
    [name, refuseDevices],
  );
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`[${name}] page error:`, err));
  await page.goto(room.candidateUrl);
  await waitReady(page);
  return { context, page };
}

/** Joins the call through the device check; returns the check's problem text. */
async function joinCall(page, { button = "Join call" } = {}) {
  await page.getByTestId("call-join").click();
  const join = page.getByTestId("call-check-join");
  await waitFor("the device check to finish", async () => (await join.isEnabled()) && (await join.textContent()) === button, {
    timeout: MEDIA_TIMEOUT,
  });
  const problem = (await page.getByTestId("call-check-problem").isVisible()) ? await page.getByTestId("call-check-problem").textContent() : "";
  await join.click();
  return problem;
}

const callState = (page) => page.getByTestId("call").getAttribute("data-state");

/** What the page's peer connection has received: decoded video frames and audio samples. */
function received(page) {
  return page.evaluate(async () => {
    const pc = window.__pairlineCall;
    if (!pc) return { frames: 0, samples: 0 };
    let frames = 0;
    let samples = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type !== "inbound-rtp") return;
      if (r.kind === "video") frames += r.framesDecoded ?? 0;
      if (r.kind === "audio") samples += r.totalSamplesReceived ?? 0;
    });
    return { frames, samples };
  });
}

/** Waits until `page` decodes video (its frame count rising) and receives audio. */
async function waitMedia(page, who, { audio = true } = {}) {
  await waitFor(`${who}'s call to connect (state: ${await callState(page)})`, async () => (await callState(page)) === "connected", {
    timeout: MEDIA_TIMEOUT,
  });
  const first = await waitFor(`${who} to decode video`, async () => {
    const r = await received(page);
    return r.frames > 0 ? r : null;
  }, { timeout: MEDIA_TIMEOUT, interval: 200 });
  await waitFor(`${who}'s decoded frames to keep rising past ${first.frames}`, async () => (await received(page)).frames > first.frames, {
    timeout: MEDIA_TIMEOUT,
    interval: 200,
  });
  if (audio) {
    await waitFor(`${who} to receive audio samples`, async () => (await received(page)).samples > 0, { timeout: MEDIA_TIMEOUT, interval: 200 });
  }
}

/** The tile of `name`'s camera (or screen) on `page`. */
const tileOf = (page, name, kind = "camera") => page.locator(`[data-testid="call-tiles"] .call-tile[data-kind="${kind}"]`, { hasText: name });

/** Waits until `tile` shows a video that plays. */
function waitPlaying(tile, what) {
  return waitFor(what, () => tile.locator("video").evaluate((v) => !v.hidden && !v.paused && v.videoWidth > 0), { timeout: MEDIA_TIMEOUT });
}

test("two people in a call decode each other's video and audio, see names, mute marks and leaving", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python" });
    const alice = await open(room, "Alice");
    const bob = await open(room, "Bob");
    assert.equal(await joinCall(alice.page), "");
    assert.equal(await joinCall(bob.page), "");
    await waitMedia(alice.page, "Alice");
    await waitMedia(bob.page, "Bob");

    // Each sees the other's camera on a named tile, and their own; the other's sound plays.
    await waitPlaying(tileOf(alice.page, "Bob"), "Bob's camera on Alice's page");
    await waitPlaying(tileOf(bob.page, "Alice"), "Alice's camera on Bob's page");
    await waitPlaying(tileOf(alice.page, "Alice (you)"), "Alice's own camera");
    assert.match(await alice.page.getByTestId("call-status").textContent(), /In the call · 2 people/);
    await waitFor("Bob's microphone playing on Alice's page", () =>
      alice.page.evaluate(() => [...document.querySelectorAll(".call-audio audio")].map((a) => !a.paused && a.srcObject !== null).join() === "true"),
    );

    // Bob mutes: Alice's tile of Bob says so; unmuting clears it.
    await bob.page.getByTestId("call-mic").click();
    await tileOf(alice.page, "Bob").and(alice.page.locator('[data-microphone="off"]')).waitFor({ timeout: MEDIA_TIMEOUT });
    await bob.page.getByTestId("call-mic").click();
    await tileOf(alice.page, "Bob").and(alice.page.locator('[data-microphone="on"]')).waitFor({ timeout: MEDIA_TIMEOUT });
    // Bob shares his screen: Alice gets a tile of it that plays; when he stops, it goes.
    await bob.page.getByTestId("call-screen").click();
    await waitPlaying(tileOf(alice.page, "Bob's screen", "screen"), "Bob's screen on Alice's page");
    await bob.page.getByTestId("call-screen").click();
    await waitFor("Bob's screen tile to go", async () => (await tileOf(alice.page, "Bob's screen", "screen").count()) === 0, {
      timeout: MEDIA_TIMEOUT,
    });
    assert.equal(await bob.page.getByTestId("call-screen").textContent(), "Share screen");

    // Bob turns his camera off: Alice sees his initial instead of his video.
    await bob.page.getByTestId("call-camera").click();
    await tileOf(alice.page, "Bob").and(alice.page.locator('[data-camera="off"]')).waitFor({ timeout: MEDIA_TIMEOUT });
    await tileOf(alice.page, "Bob").locator(".call-tile-avatar:not([hidden])").waitFor();

    // The fake microphone beeps: someone becomes the active speaker on both pages.
    for (const { page } of [alice, bob]) {
      await page.locator('.call-tile[data-speaking="true"]').first().waitFor({ timeout: MEDIA_TIMEOUT });
    }

    // Bob leaves: his tile goes from Alice's page; he is still in the room.
    await bob.page.getByTestId("call-leave").click();
    assert.equal(await callState(bob.page), "idle");
    await waitFor("Bob's tile to go", async () => (await tileOf(alice.page, "Bob").count()) === 0, { timeout: MEDIA_TIMEOUT });
    assert.equal(await bob.page.evaluate(() => window.__pairlineCall), null);
    await alice.context.close();
    await bob.context.close();
  }));

test("a browser that refuses the camera and microphone still edits, and joins the call to watch and listen", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "print('hi')\n" });
    const alice = await open(room, "Alice");
    const carol = await open(room, "Carol", { refuseDevices: true });
    await joinCall(alice.page);

    const problem = await joinCall(carol.page, { button: "Join to watch and listen" });
    assert.match(problem, /not allowed to use your camera and microphone/);
    await waitMedia(carol.page, "Carol (receive-only)");
    assert.match(await carol.page.getByTestId("call-status").textContent(), /watching and listening/);
    assert.match(await carol.page.getByTestId("call-problem").textContent(), /not allowed/);
    assert.equal(await carol.page.getByTestId("call-mic").isDisabled(), true);
    await waitPlaying(tileOf(carol.page, "Alice"), "Alice's camera on Carol's page");
    await tileOf(alice.page, "Carol").and(alice.page.locator('[data-camera="off"]')).waitFor({ timeout: MEDIA_TIMEOUT });

    await typeAtEnd(carol.page, "x = 1  # from Carol");
    await waitText(alice.page, "Carol's edit on Alice's page", (t) => t.includes("x = 1  # from Carol"));
    assert.equal(await text(carol.page), await text(alice.page));
    await alice.context.close();
    await carol.context.close();
  }));

test("after a server restart the call comes back by itself on a new peer connection", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python" });
    const alice = await open(room, "Alice");
    const bob = await open(room, "Bob");
    await joinCall(alice.page);
    await joinCall(bob.page);
    await waitMedia(alice.page, "Alice");
    for (const { page } of [alice, bob]) await page.evaluate(() => (window.__firstCall = window.__pairlineCall));

    await server.stop();
    await waitFor("Alice's call to notice", async () => (await callState(alice.page)) === "reconnecting", { timeout: MEDIA_TIMEOUT });
    await server.start();
    for (const [{ page }, who] of [[alice, "Alice"], [bob, "Bob"]]) {
      await waitFor(`${who}'s new peer connection`, () => page.evaluate(() => window.__pairlineCall && window.__pairlineCall !== window.__firstCall), {
        timeout: MEDIA_TIMEOUT,
      });
      await waitMedia(page, `${who} after the restart`);
    }
    await alice.context.close();
    await bob.context.close();
  }));
