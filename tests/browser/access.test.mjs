// Staff and candidates in real Chromium: the private notes panel exists only on staff
// pages and syncs between staff; ending the interview turns the candidate's editor
// read-only at once; hostile names, titles and notes are shown as text, never run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openRoom, openStaffRoom, text, typeAtEnd, waitText } from "./pages.mjs";
import { Server, launchChromium, waitFor } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Markup that sets `window.__xss` if any page ever runs it. */
const XSS_TITLE = `<img src=x onerror="window.__xss='title'">Graphs`;
const XSS_NAME = `<script>window.__xss='name'</script>Eve`;
const XSS_NOTE = `<img src=x onerror="window.__xss='notes'"> SECRET: hire`;

test("notes are for staff only, ending the interview makes the candidate read-only, and hostile text stays text", async () => {
  const server = new Server();
  await server.start();
  try {
    const room = await server.createRoom({ language: "python", title: XSS_TITLE, template: "print(1)\n" });
    const candidate = await openRoom(browser, room, { name: XSS_NAME });
    const staff = await openStaffRoom(browser, room, { name: "Interviewer" });
    const colleague = await openStaffRoom(browser, room, { name: "Colleague", color: "#9467bd" });

    // The title and the candidate's name are shown as the text they are.
    assert.equal(await staff.page.locator("h1").textContent(), XSS_TITLE);
    await staff.page
      .getByTestId("participants")
      .getByText(XSS_NAME, { exact: true })
      .waitFor({ timeout: 15_000 });

    // Staff write notes together; the candidate's page has no notes panel at all.
    assert.equal(await candidate.page.locator("#notes").count(), 0);
    await staff.page.locator('#notes[data-ready="true"] .cm-content').click();
    await staff.page.keyboard.type(XSS_NOTE);
    await colleague.page.locator('#notes[data-ready="true"]').waitFor({ timeout: 30_000 });
    await waitFor("the note in the colleague's panel", () =>
      colleague.page.evaluate((note) => window.pairline.notesText() === note, XSS_NOTE),
    );
    // A fresh load of the staff link shows the notes from the server, escaped.
    await colleague.page.reload();
    assert.ok((await colleague.page.locator("#notes").textContent()).includes("SECRET: hire"));

    // The owner ends the interview: the candidate's editor turns read-only at once.
    await typeAtEnd(candidate.page, "x = 2");
    await waitText(staff.page, "the candidate's line", (t) => t.includes("x = 2"));
    await Promise.all([
      staff.page.waitForURL((url) => url.pathname === new URL(room.editorUrl).pathname),
      staff.page.getByRole("button", { name: "End interview" }).click(),
    ]);
    await candidate.page.getByTestId("room-ended").waitFor({ state: "visible", timeout: 15_000 });
    await candidate.page.locator("#editor .cm-editor.cm-readonly").waitFor({ timeout: 15_000 });
    const before = await text(candidate.page);
    await candidate.page.locator("#editor .cm-content").click();
    await candidate.page.keyboard.type("y = 3");
    assert.equal(await text(candidate.page), before, "the candidate can no longer edit");
    assert.ok(await staff.page.getByTestId("room-ended").isVisible(), "staff see that it ended");
    assert.equal(await staff.page.getByRole("button", { name: "End interview" }).count(), 0);

    // Staff still edit, and the candidate still watches.
    await staff.page.locator("#editor[data-ready=\"true\"]").waitFor();
    await typeAtEnd(staff.page, "\n# reviewed");
    await waitText(candidate.page, "the staff edit", (t) => t.includes("# reviewed"));

    // Nothing of the notes ever reached the candidate's page; no hostile markup ran.
    const candidateHtml = await candidate.page.content();
    assert.ok(!candidateHtml.includes("SECRET"), "no notes in the candidate's page");
    for (const { page } of [candidate, staff, colleague]) {
      assert.equal(await page.evaluate(() => window.__xss), undefined);
    }
  } catch (err) {
    console.error(`server log:\n${server.log}`);
    throw err;
  } finally {
    await server.cleanup();
  }
});
