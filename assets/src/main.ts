// Entry point of the Pairline browser client. Each page marks what it needs with
// data attributes; this module wires up whatever the current page contains.
import { wireCopyButtons } from "./copy";
import { mountRoom } from "./room";

function start(): void {
  wireCopyButtons(document);
  const editor = document.getElementById("editor");
  if (editor) {
    mountRoom(editor).catch((err) => {
      console.error(err);
      const message = document.createElement("p");
      message.className = "room-error";
      message.textContent = `The editor could not start: ${err instanceof Error ? err.message : String(err)}`;
      editor.prepend(message);
    });
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start, { once: true });
} else {
  start();
}
