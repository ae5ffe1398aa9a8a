// The languages a room can use: highlighting, indentation and completion for each.
import type { Completion, CompletionSource } from "@codemirror/autocomplete";
import { cppLanguage } from "@codemirror/lang-cpp";
import { goLanguage, localCompletionSource as goLocals, snippets as goSnippets } from "@codemirror/lang-go";
import { javaLanguage } from "@codemirror/lang-java";
import {
  javascriptLanguage,
  localCompletionSource as javascriptLocals,
  snippets as javascriptSnippets,
  typescriptLanguage,
  typescriptSnippets,
} from "@codemirror/lang-javascript";
import { globalCompletion as pythonBuiltins, localCompletionSource as pythonLocals, pythonLanguage } from "@codemirror/lang-python";
import { rustLanguage } from "@codemirror/lang-rust";
import { indentUnit, LanguageSupport, StreamLanguage, type Language } from "@codemirror/language";
import { ruby } from "@codemirror/legacy-modes/mode/ruby";
import { EditorState, type Extension } from "@codemirror/state";
import { completeOutsideLiterals, documentWords, keywordAndSnippetOptions } from "./completion";
import { VOCABULARY } from "./vocabulary";

/** Every language a room can use, with the name people read; ids match the server's. */
export const LANGUAGES: readonly { id: string; name: string }[] = [
  { id: "javascript", name: "JavaScript" },
  { id: "typescript", name: "TypeScript" },
  { id: "python", name: "Python" },
  { id: "go", name: "Go" },
  { id: "rust", name: "Rust" },
  { id: "java", name: "Java" },
  { id: "c", name: "C" },
  { id: "cpp", name: "C++" },
  { id: "ruby", name: "Ruby" },
];

interface LanguageDefinition {
  language: () => Language;
  /** One level of indentation, matching the room's starter programs. */
  indent: string;
  /** Snippets the language package already ships. */
  packageSnippets?: readonly Completion[];
  /** Scope-aware sources from the language package (local names, builtins). */
  packageSources?: readonly CompletionSource[];
}

let rubyLanguage: Language | undefined;

const DEFINITIONS: Readonly<Record<string, LanguageDefinition>> = {
  javascript: { language: () => javascriptLanguage, indent: "  ", packageSnippets: javascriptSnippets, packageSources: [javascriptLocals] },
  typescript: { language: () => typescriptLanguage, indent: "  ", packageSnippets: typescriptSnippets, packageSources: [javascriptLocals] },
  python: { language: () => pythonLanguage, indent: "    ", packageSources: [pythonLocals, pythonBuiltins] },
  go: { language: () => goLanguage, indent: "\t", packageSnippets: goSnippets, packageSources: [goLocals] },
  rust: { language: () => rustLanguage, indent: "    " },
  java: { language: () => javaLanguage, indent: "    " },
  c: { language: () => cppLanguage, indent: "    " },
  cpp: { language: () => cppLanguage, indent: "    " },
  ruby: { language: () => (rubyLanguage ??= StreamLanguage.define(ruby)), indent: "  " },
};

/** The display name of a language id, or the id itself when it is unknown. */
export function languageName(id: string): string {
  return LANGUAGES.find((l) => l.id === id)?.name ?? id;
}

/**
 * Highlighting, indentation and completion for language `id`: its keywords and snippets
 * (for/if/function/class/main skeletons), names from the language's scope analysis where
 * the package has one, and the words already in the document. An unknown id gives plain
 * text with word completion, never an error.
 */
export function languageExtension(id: string): Extension {
  const definition = DEFINITIONS[id];
  if (!definition) return EditorState.languageData.of(() => [{ autocomplete: documentWords(new Set()) }]);
  const language = definition.language();
  const vocabulary = VOCABULARY[id] ?? { keywords: [], snippets: [] };
  const options = [...(definition.packageSnippets ?? []), ...keywordAndSnippetOptions(vocabulary.keywords, vocabulary.snippets)];
  const sources: CompletionSource[] = [
    completeOutsideLiterals(options),
    ...(definition.packageSources ?? []),
    documentWords(new Set(vocabulary.keywords)),
  ];
  return new LanguageSupport(language, [
    indentUnit.of(definition.indent),
    sources.map((source) => language.data.of({ autocomplete: source })),
  ]);
}
