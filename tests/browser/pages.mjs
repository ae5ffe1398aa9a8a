// Page helpers for the browser tests: open a room as a named person in a fresh context,
// wait for the editor, type, read the text and the connection badge.
import { STAFF_EMAIL, STAFF_PASSWORD, waitFor } from "./support.mjs";

/** A new context (own storage) whose pages remember `name` as the display name. */
async function namedContext(browser, name, color) {
  const context = await browser.newContext();
  await context.addInitScript(
    ([n, c]) => {
      if (!localStorage.getItem("pairline.name")) {
        localStorage.setItem("pairline.name", n);
        localStorage.setItem("pairline.color", c);
      }
    },
    [name, color],
  );
  return context;
}

/** Opens `room` in a new context of its own (own storage) as `name`. */
/** With `askName`, the name is typed into the first-visit prompt instead of remembered. */
export async function openRoom(browser, room, { name, color = "#d62728", observe = false, offlineCache = false, askName = false, wait = true } = {}) {
  const context = askName ? await browser.newContext() : await namedContext(browser, name, color);
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`[${name}] page error:`, err));
  await page.goto(`${room.candidateUrl}${observe ? "?observe=1" : ""}`);
  if (askName) {
    const dialog = page.locator("dialog[open]");
    await dialog.locator('input[name="name"]').fill(name);
    await dialog.getByRole("button", { name: "Join" }).click();
  }
  if (wait) await waitReady(page);
  if (offlineCache) await keptForOffline(page);
  return { context, page };
}

/**
 * Waits until the page's service worker controls it and the page is in its offline
 * cache, so that it loads again while the server is down (as it would for a user).
 */
async function keptForOffline(page) {
  await page.waitForFunction(
    async () => navigator.serviceWorker.controller !== null && (await caches.match(location.pathname)) !== undefined,
    null,
    { timeout: 30_000, polling: 100 },
  );
}

/**
 * Logs in as the interviewer of `Server.staffToken()` through the login page and opens
 * the room's staff link, as `name`.
 */
export async function openStaffRoom(browser, room, { name, color = "#2ca02c" } = {}) {
  const context = await namedContext(browser, name, color);
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`[${name}] page error:`, err));
  const staffPath = new URL(room.editorUrl).pathname;
  await page.goto(new URL(`/login?next=${encodeURIComponent(staffPath)}`, room.editorUrl).href);
  await page.locator('input[name="email"]').fill(STAFF_EMAIL);
  await page.locator('input[name="password"]').fill(STAFF_PASSWORD);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === staffPath).catch(async (err) => {
    throw new Error(`logging in failed at ${page.url()}: ${(await page.locator("body").innerText()).slice(0, 500)}`, { cause: err });
  });
  await waitReady(page);
  return { context, page };
}

export async function waitReady(page) {
  await page.locator('#editor[data-ready="true"] .cm-content').waitFor({ timeout: 30_000 });
}

/** The editor's text. */
export function text(page) {
  return page.evaluate(() => window.pairline.text());
}

/** Waits until the editor's text satisfies `check`; returns it. */
export async function waitText(page, what, check, timeout = 30_000) {
  return waitFor(what, async () => {
    const value = await text(page);
    return check(value) ? value : null;
  }, { timeout });
}

/** Types at the end of the document, as a person would. */
export async function typeAtEnd(page, keys) {
  await page.locator("#editor .cm-content").click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(keys);
}

/** The connection badge: `{ state, unsynced }`. */
export async function badge(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid="connection"]');
    return { state: el?.dataset.state ?? "", unsynced: Number(el?.dataset.unsynced ?? 0) };
  });
}

/** Own changes stored in IndexedDB and not yet acknowledged. */
export function storedUnacked(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("pairline");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction("unacked").objectStore("unacked").count();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        };
      }),
  );
}
