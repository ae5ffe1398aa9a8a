// "Copy" buttons: `<button data-copy-target="ID">` copies the value (or text) of the
// element with that id to the clipboard and says so on the button for a moment.

const FEEDBACK_MS = 1800;

/** Attaches a click handler to every `[data-copy-target]` button under `root`. */
export function wireCopyButtons(root: ParentNode): void {
  for (const button of root.querySelectorAll<HTMLButtonElement>("button[data-copy-target]")) {
    button.addEventListener("click", () => void copyFrom(button));
  }
}

async function copyFrom(button: HTMLButtonElement): Promise<void> {
  const target = document.getElementById(button.dataset.copyTarget ?? "");
  if (!target) return;
  const text = target instanceof HTMLInputElement ? target.value : (target.textContent ?? "");
  const label = button.dataset.label ?? button.textContent ?? "Copy";
  button.dataset.label = label;
  try {
    await writeClipboard(text, target);
    flash(button, "Copied", label);
  } catch {
    flash(button, "Press Ctrl+C to copy", label);
  }
}

async function writeClipboard(text: string, source: HTMLElement): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP deployments have no Clipboard API: select the text so that the
  // legacy copy command (or the user's own Ctrl+C) picks it up.
  if (source instanceof HTMLInputElement) {
    source.focus();
    source.select();
  }
  if (!document.execCommand("copy")) throw new Error("copy command refused");
}

function flash(button: HTMLButtonElement, message: string, label: string): void {
  button.textContent = message;
  button.classList.add("flash");
  window.setTimeout(() => {
    button.textContent = label;
    button.classList.remove("flash");
  }, FEEDBACK_MS);
}
