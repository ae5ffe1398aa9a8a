// The editor's light and dark looks. Light follows the page's CSS variables; dark is One Dark.
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import { oneDark } from "@codemirror/theme-one-dark";
import { EditorView } from "@codemirror/view";

/** "light" or "dark", as `<html data-theme>` names them. */
export type ThemeName = "light" | "dark";

/** Layout shared by both themes: fill the parent, page fonts, readable line height. */
export const editorLayout: Extension = EditorView.theme({
  "&": { height: "100%", minHeight: "12rem", fontSize: "13.5px" },
  ".cm-scroller": { fontFamily: "var(--mono, monospace)", lineHeight: "1.55", overflow: "auto" },
  ".cm-content": { padding: "8px 0" },
  ".cm-gutters": { borderRight: "1px solid transparent" },
  ".cm-tooltip.cm-tooltip-autocomplete > ul": { fontFamily: "var(--mono, monospace)", maxHeight: "14em" },
});

const lightTheme = EditorView.theme(
  {
    "&": { backgroundColor: "#ffffff", color: "#1d2126" },
    ".cm-content": { caretColor: "#1d2126" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "#1d2126" },
    ".cm-gutters": { backgroundColor: "#f7f7f5", color: "#8a939c", borderRightColor: "#e6e9ec" },
    ".cm-activeLine": { backgroundColor: "#f3f6fb" },
    ".cm-activeLineGutter": { backgroundColor: "#e9eef7", color: "#1d2126" },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
      { backgroundColor: "#cfe0fc" },
    ".cm-selectionMatch": { backgroundColor: "#e2ecd9" },
    "&.cm-focused .cm-matchingBracket": { backgroundColor: "#d7e8d0", outline: "1px solid #9cc58f" },
    "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "#f6d5d1" },
    ".cm-searchMatch": { backgroundColor: "#fff1a8", outline: "1px solid #e8cf4a" },
    ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: "#ffd86b" },
    ".cm-foldPlaceholder": { backgroundColor: "#eef1f4", border: "1px solid #dde1e6", color: "#5d6670" },
    ".cm-panels": { backgroundColor: "#f7f7f5", color: "#1d2126" },
    ".cm-panels.cm-panels-top": { borderBottom: "1px solid #dde1e6" },
    ".cm-panels.cm-panels-bottom": { borderTop: "1px solid #dde1e6" },
    ".cm-tooltip": { backgroundColor: "#ffffff", border: "1px solid #dde1e6", borderRadius: "6px" },
    ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "#2f6fdf", color: "#ffffff" },
  },
  { dark: false },
);

const THEMES: Record<ThemeName, Extension> = {
  light: [lightTheme, syntaxHighlighting(defaultHighlightStyle, { fallback: true })],
  dark: oneDark,
};

/** The editor extension for a theme. */
export function themeExtension(name: ThemeName): Extension {
  return THEMES[name];
}

const DARK_QUERY = "(prefers-color-scheme: dark)";

/** The page's theme: `<html data-theme>`, or the system preference when it is not set. */
export function pageTheme(): ThemeName {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "light" || chosen === "dark") return chosen;
  return window.matchMedia?.(DARK_QUERY).matches ? "dark" : "light";
}

/** Calls `onChange` whenever the page theme may have changed; returns a function to stop. */
export function watchPageTheme(onChange: (theme: ThemeName) => void): () => void {
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
