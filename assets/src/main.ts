// Entry point of the Pairline browser client. Each page marks what it needs with
// data attributes; this module wires up whatever the current page contains.
import { wireCopyButtons } from "./copy";

function start(): void {
  wireCopyButtons(document);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start, { once: true });
} else {
  start();
}
