// The browser client against the real server in real Chromium: live typing with
// cursors, language switches, a server restart under editing, and a reload while the
// server is down. Each test starts its own server (fresh data directory, SQLite).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { badge, openRoom, storedUnacked, text, typeAtEnd, waitReady, waitText } from "./pages.mjs";
import { Server, launchChromium, waitFor } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

function unescapeHtml(html) {
  const named = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return html.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, entity) => {
    if (entity[0] !== "#") return named[entity.toLowerCase()] ?? all;
    return String.fromCodePoint(entity[1].toLowerCase() === "x" ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
  });
}

/** Runs `body` with a fresh server, cleaning up whatever happens. */
async function withServer(body, env = {}) {
  const server = new Server({ env });
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

test("typing in one page shows in the other, with the typist's cursor label", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "print('hi')\n" });
    const alice = await openRoom(browser, room, { name: "Alice", askName: true });
    const bob = await openRoom(browser, room, { name: "Bob", color: "#1f77b4" });
    assert.equal(await text(bob.page), "print('hi')\n");
    assert.equal(await alice.page.evaluate(() => localStorage.getItem("pairline.name")), "Alice", "the name is remembered");

    await typeAtEnd(alice.page, "x = 42  # from Alice");
    await waitText(bob.page, "Alice's line in Bob's editor", (t) => t.includes("x = 42  # from Alice"));
    await bob.page.locator(".cm-editor").getByText("Alice", { exact: true }).waitFor({ timeout: 15_000 });

    await typeAtEnd(bob.page, "\ny = 1");
    await waitText(alice.page, "Bob's line in Alice's editor", (t) => t.endsWith("\ny = 1"));
    assert.equal(await text(alice.page), await text(bob.page));
    await alice.context.close();
    await bob.context.close();
  }));

test("two people typing at the same spot at once lose and misplace nothing; emoji stay aligned with the server", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "[]\n" });
    const alice = await openRoom(browser, room, { name: "Alice" });
    const bob = await openRoom(browser, room, { name: "Bob" });
    for (const { page } of [alice, bob]) {
      await page.locator(".cm-content").click();
      await page.keyboard.press("Control+Home");
      await page.keyboard.press("ArrowRight"); // between the brackets
    }
    await Promise.all([alice.page.keyboard.type("aaaa🌍aaaa"), bob.page.keyboard.type("bbbb🎉bbbb")]);
    const both = await waitFor("both pages to agree", async () => {
      const [a, b] = [await text(alice.page), await text(bob.page)];
      return a === b && a.length === "[]\n".length + 20 ? a : null;
    });
    const inside = both.slice(1, both.indexOf("]"));
    assert.equal([...inside].filter((c) => c === "a").length, 8, both);
    assert.equal([...inside].filter((c) => c === "b").length, 8, both);
    assert.ok(inside.includes("🌍") && inside.includes("🎉"), both);
    // Each typist's characters stay in the order typed.
    assert.equal(inside.replace(/[b🎉]/gu, ""), "aaaa🌍aaaa", both);
    assert.equal(inside.replace(/[a🌍]/gu, ""), "bbbb🎉bbbb", both);
    // The server materialises the same text (UTF-16 positions on both sides).
    await waitFor("the server's copy of the text", async () => {
      const html = await (await fetch(room.candidateUrl)).text();
      const code = html.match(/<pre class="code-preview">([\s\S]*?)<\/pre>/)?.[1];
      return code !== undefined && unescapeHtml(code) === both;
    });
    await alice.context.close();
    await bob.context.close();
  }));

test("an observer sees edits live but cannot edit", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "x = 1\n" });
    const alice = await openRoom(browser, room, { name: "Alice" });
    const olive = await openRoom(browser, room, { name: "Olive", observe: true });
    assert.ok(await olive.page.locator('[data-testid="language-picker"]').isDisabled());
    await typeAtEnd(alice.page, "y = 2");
    await waitText(olive.page, "Alice's edit at the observer", (t) => t === "x = 1\ny = 2");
    await olive.page.locator(".cm-content").click();
    await olive.page.keyboard.type("nope");
    assert.equal(await text(olive.page), "x = 1\ny = 2");
    await alice.context.close();
    await olive.context.close();
  }));

test("a language switch in one page switches the other's picker and highlighting", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "" });
    const alice = await openRoom(browser, room, { name: "Alice" });
    const bob = await openRoom(browser, room, { name: "Bob" });
    await typeAtEnd(alice.page, "func main() {}");
    await waitText(bob.page, "the Go code", (t) => t === "func main() {}");
    const funcToken = bob.page.locator(".cm-content span", { hasText: /^func$/ });
    assert.equal(await funcToken.count(), 0, "func is not highlighted as Python");

    await alice.page.locator('[data-testid="language-picker"]').selectOption("go");
    await waitFor("Bob's picker to say go", async () =>
      (await bob.page.locator('[data-testid="language-picker"]').inputValue()) === "go",
    );
    await funcToken.first().waitFor({ timeout: 15_000 });
    await alice.context.close();
    await bob.context.close();
  }));

test("both pages keep editing while the server is down and converge after it returns", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "start\n" });
    const alice = await openRoom(browser, room, { name: "Alice" });
    const bob = await openRoom(browser, room, { name: "Bob" });

    await server.stop();
    for (const page of [alice.page, bob.page]) {
      await waitFor("the badge to show the lost connection", async () =>
        ["reconnecting", "offline"].includes((await badge(page)).state),
      );
    }
    await typeAtEnd(alice.page, " alice offline");
    await typeAtEnd(bob.page, " bob offline");
    for (const page of [alice.page, bob.page]) {
      const shown = await waitFor("unsynced edits on the badge", async () => {
        const b = await badge(page);
        return ["reconnecting", "offline"].includes(b.state) && b.unsynced > 0 ? b : null;
      });
      assert.ok(shown.unsynced > 0);
    }

    await server.start();
    const converged = await waitFor(
      "both pages to converge",
      async () => {
        const [a, b] = [await text(alice.page), await text(bob.page)];
        return a === b && a.includes(" alice offline") && a.includes(" bob offline") ? a : null;
      },
      { timeout: 60_000 },
    );
    assert.ok(converged.startsWith("start\n"));
    for (const page of [alice.page, bob.page]) {
      await waitFor("everything acknowledged", async () => {
        const b = await badge(page);
        return b.state === "live" && b.unsynced === 0;
      }, { timeout: 30_000 });
    }
    await alice.context.close();
    await bob.context.close();
  }));

test("a page reloaded while the server is down keeps its unsynced edits, which reach the others later", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "base\n" });
    const alice = await openRoom(browser, room, { name: "Alice", offlineCache: true });
    const bob = await openRoom(browser, room, { name: "Bob" });

    await server.stop();
    await typeAtEnd(alice.page, "kept across a reload");
    await waitFor("the edits stored in IndexedDB", async () => (await storedUnacked(alice.page)) > 0);

    await alice.page.reload();
    await alice.page.locator('#editor[data-ready="true"] .cm-content').waitFor({ timeout: 30_000 });
    assert.ok((await text(alice.page)).includes("kept across a reload"), "the edits survive the reload");
    await waitFor("the badge to count the unsynced edits", async () => (await badge(alice.page)).unsynced > 0);

    await server.start();
    await waitText(bob.page, "Alice's offline edits at Bob", (t) => t.includes("kept across a reload"), 60_000);
    await waitFor("Alice's edits acknowledged", async () => (await storedUnacked(alice.page)) === 0, { timeout: 30_000 });
    await alice.context.close();
    await bob.context.close();
  }));

test("a refusal from the server is shown in words and not retried", () =>
  withServer(
    async (server) => {
      const room = await server.createRoom({ language: "python", template: "" });
      const alice = await openRoom(browser, room, { name: "Alice" });
      const bob = await openRoom(browser, room, { name: "Bob", wait: false });
      const notice = bob.page.locator("#room-notice");
      await notice.waitFor({ state: "visible", timeout: 15_000 });
      assert.equal(await notice.textContent(), "This room is full.");
      assert.equal((await badge(bob.page)).state, "offline");
      assert.equal((await badge(alice.page)).state, "live");
      await alice.context.close();
      await bob.context.close();
    },
    { PAIRLINE_SYNC_MAX_EDITORS: "1" },
  ));

test("two tabs of one room in one browser both work (one keeps the room on the device)", () =>
  withServer(async (server) => {
    const room = await server.createRoom({ language: "python", template: "" });
    const first = await openRoom(browser, room, { name: "Tabs" });
    const second = await first.context.newPage();
    await second.goto(room.candidateUrl);
    await waitReady(second);
    await typeAtEnd(second, "from the second tab");
    await waitText(first.page, "the second tab's edit in the first", (t) => t === "from the second tab");
    await typeAtEnd(first.page, "!");
    await waitText(second, "the first tab's edit in the second", (t) => t === "from the second tab!");
    await first.context.close();
  }));
