// The shared code editor: CodeMirror 6 with the usual conveniences, a language, a theme
// and a read-only switch that can each change while the editor lives.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, foldGutter, foldKeymap, indentOnInput } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import {
  crosshairCursor,
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { languageExtension } from "./languages";
import { pageTheme, watchPageTheme } from "../ui/theme";
import { editorLayout, themeExtension } from "./themes";

/** What `createEditor` needs. */
export interface EditorOptions {
  /** Element the editor is appended to; the editor fills its height. */
  parent: HTMLElement;
  /** Initial document. */
  text: string;
  /** Language id (see `LANGUAGES`); unknown ids give plain text. */
  language: string;
  /** Observers get a read-only editor: they can select, copy and see the caret. */
  readOnly: boolean;
  /** Appended after the editor's own extensions (the sync bridge, remote cursors). */
  extensions: Extension[];
  /** What assistive technology calls the editor; "Code editor" unless given. */
  label?: string;
}

/** A live editor and the switches that change it in place. */
export interface EditorHandle {
  view: EditorView;
  setLanguage(id: string): void;
  setReadOnly(readOnly: boolean): void;
  /** Destroys the view and stops following the page theme. */
  destroy(): void;
}

function readOnlyExtension(readOnly: boolean): Extension {
  return readOnly ? [EditorState.readOnly.of(true), EditorView.editorAttributes.of({ class: "cm-readonly" })] : [];
}

const editingKeymap = keymap.of([
  ...closeBracketsKeymap,
  ...defaultKeymap,
  ...searchKeymap, // Mod-f search, Mod-Alt-g go to line
  ...historyKeymap,
  ...foldKeymap,
  ...completionKeymap,
  indentWithTab, // Escape then Tab still moves focus out of the editor
]);

/** Creates the editor inside `options.parent`. */
export function createEditor(options: EditorOptions): EditorHandle {
  const language = new Compartment();
  const readOnly = new Compartment();
  const theme = new Compartment();
  let themeName = pageTheme();

  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.text,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        dropCursor(),
        EditorState.allowMultipleSelections.of(true),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        rectangularSelection(),
        crosshairCursor(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        editingKeymap,
        EditorView.contentAttributes.of({ "aria-label": options.label ?? "Code editor" }),
        editorLayout,
        theme.of(themeExtension(themeName)),
        language.of(languageExtension(options.language)),
        readOnly.of(readOnlyExtension(options.readOnly)),
        ...options.extensions,
      ],
    }),
  });

  const stopWatchingTheme = watchPageTheme((next) => {
    if (next === themeName) return;
    themeName = next;
    view.dispatch({ effects: theme.reconfigure(themeExtension(next)) });
  });

  return {
    view,
    setLanguage(id) {
      view.dispatch({ effects: language.reconfigure(languageExtension(id)) });
    },
    setReadOnly(value) {
      view.dispatch({ effects: readOnly.reconfigure(readOnlyExtension(value)) });
    },
    destroy() {
      stopWatchingTheme();
      view.destroy();
    },
  };
}
