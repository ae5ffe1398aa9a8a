// Running code from the room page in real Chromium, on the server's default sandbox (the
// local one): the candidate presses Run with some input, both pages see the output stream
// in and how it ended with the runtime's name, the staff page's history lists the run,
// and a program printing markup shows it as text.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openRoom, openStaffRoom } from "./pages.mjs";
import { Server, launchChromium, waitFor } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const outputOf = (page) => page.getByTestId("run-output").textContent();
const statusOf = (page) => page.getByTestId("run-status").textContent();

test("a run started by the candidate streams to everyone, is kept in the history, and its output stays text", async () => {
  const server = new Server();
  await server.start();
  try {
    const room = await server.createRoom({ language: "python" });
    const candidate = await openRoom(browser, room, { name: "Candidate" });
    const staff = await openStaffRoom(browser, room, { name: "Interviewer" });

    // The candidate types the input and presses Run.
    await candidate.page.locator(".run-stdin summary").click();
    await candidate.page.getByTestId("run-stdin").fill("Ada\n");
    await candidate.page.getByTestId("run-button").click();
    for (const page of [candidate.page, staff.page]) {
      await waitFor("the output on both pages", async () => (await outputOf(page)) === "Hello, Ada!\n", { timeout: 30_000 });
      await waitFor("the finished status", async () => /The program finished\..*Python 3\.[0-9.]+, started by Candidate/.test(await statusOf(page)));
    }
    await waitFor("the history on the staff page", async () =>
      (await staff.page.getByTestId("run-history").textContent()).includes("Candidate · python · ok"),
    );

    // The interviewer changes the code to print markup and runs it with Ctrl+Enter.
    await staff.page.locator("#editor .cm-content").click();
    await staff.page.keyboard.press("Control+a");
    // insertText: no auto-closed brackets or auto-indent in the way.
    await staff.page.keyboard.insertText(`print('<img src=x onerror="window.__xss=1">', flush=True)\nraise SystemExit(3)\n`);
    await waitFor("the edit to reach the candidate", () =>
      candidate.page.evaluate(() => window.pairline.text().includes("SystemExit")),
    );
    await staff.page.keyboard.press("Control+Enter");
    for (const page of [candidate.page, staff.page]) {
      await waitFor("the markup as text", async () => (await outputOf(page)).includes('<img src=x onerror="window.__xss=1">'), {
        timeout: 30_000,
      });
      await waitFor("the exit status", async () => (await statusOf(page)).includes("exited with status 3"));
      assert.equal(await page.locator(".run-output img").count(), 0);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
    }
    // The staff page lists both runs; clicking the first shows its output again.
    await waitFor("two runs in the history", async () => (await staff.page.locator('[data-testid="run-history"] li').count()) === 2);
    await staff.page.locator(".run-history summary").click();
    await staff.page.locator('[data-testid="run-history"] li').last().getByRole("button").click();
    await waitFor("the first run's output", async () => (await outputOf(staff.page)).includes("Hello, Ada!"));
  } finally {
    await server.stop();
  }
});
