// The editor's light and dark looks. Light follows the page's CSS variables; dark is One Dark.
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import { oneDark } from "@codemirror/theme-one-dark";
import { EditorView } from "@codemirror/view";

import type { Theme } from "../ui/theme";

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

const THEMES: Record<Theme, Extension> = {
  light: [lightTheme, syntaxHighlighting(defaultHighlightStyle, { fallback: true })],
  dark: oneDark,
};

/** The editor extension for a theme. */
export function themeExtension(name: Theme): Extension {
  return THEMES[name];
}
