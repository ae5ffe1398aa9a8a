// Light and dark: `<html data-theme>` holds the theme in use. A stored choice wins;
// without one the page follows the system setting, also when it changes.

/** "light" or "dark", as `<html data-theme>` names them. */
export type Theme = "light" | "dark";

const STORAGE_KEY = "pairline.theme";
const DARK_QUERY = "(prefers-color-scheme: dark)";

function storedTheme(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null; // storage blocked: follow the system
  }
}

function systemTheme(): Theme {
  return window.matchMedia?.(DARK_QUERY).matches ? "dark" : "light";
}

function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

let following = false;

/** Applies the stored theme (default: the system's) and follows system changes. Idempotent. */
export function initTheme(): void {
  applyTheme(storedTheme() ?? systemTheme());
  if (following) return;
  following = true;
  window.matchMedia?.(DARK_QUERY).addEventListener("change", () => {
    if (!storedTheme()) applyTheme(systemTheme());
  });
}

/** The page's theme: `<html data-theme>`, or the system's when it is not set. */
export function pageTheme(): Theme {
  const chosen = document.documentElement.dataset.theme;
  return chosen === "light" || chosen === "dark" ? chosen : systemTheme();
}

/** Calls `onChange` whenever the page theme may have changed; returns a function to stop. */
export function watchPageTheme(onChange: (theme: Theme) => void): () => void {
  const notify = (): void => onChange(pageTheme());
  const observer = new MutationObserver(notify);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const media = window.matchMedia?.(DARK_QUERY);
  media?.addEventListener("change", notify);
  return () => {
    observer.disconnect();
    media?.removeEventListener("change", notify);
  };
}

/** Appends a button that switches between light and dark and remembers the choice. */
export function createThemeToggle(parent: HTMLElement): void {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "pl-theme-toggle";
  const show = (): void => {
    const next: Theme = pageTheme() === "dark" ? "light" : "dark";
    button.textContent = next === "dark" ? "☾ Dark" : "☀ Light";
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
  };
  button.addEventListener("click", () => {
    const next: Theme = pageTheme() === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not remembered, still applied
    }
    applyTheme(next);
  });
  watchPageTheme(show);
  show();
  parent.appendChild(button);
}
