// Completion sources shared by every language: keywords and snippets (outside strings
// and comments), and the words already in the document.
import {
  completeAnyWord,
  snippetCompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
  type CompletionSource,
} from "@codemirror/autocomplete";
import { syntaxTree } from "@codemirror/language";

/** A snippet as data: the template (`${name}` fields, `${}` for the end) and its label. */
export interface SnippetSpec {
  label: string;
  detail: string;
  template: string;
}

/** Builds a completion for each keyword (typed `keyword`) and each snippet. */
export function keywordAndSnippetOptions(keywords: readonly string[], snippets: readonly SnippetSpec[]): Completion[] {
  const keywordOptions = keywords.map((label): Completion => ({ label, type: "keyword" }));
  const snippetOptions = snippets.map((s) =>
    snippetCompletion(s.template, { label: s.label, detail: s.detail, type: "keyword" }),
  );
  return [...snippetOptions, ...keywordOptions];
}

const IDENTIFIER_BEFORE = /[\p{L}\p{N}_$!?]*$/u;

/** A source offering `options` while typing a word that is not inside a string or comment. */
export function completeOutsideLiterals(options: readonly Completion[]): CompletionSource {
  return (context) => {
    if (insideLiteral(context)) return null;
    const word = context.matchBefore(IDENTIFIER_BEFORE);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    return { from: word.from, options: [...options], validFor: /^[\p{L}\p{N}_$]*$/u };
  };
}

/**
 * The words of the document as completions, without `exclude` (a language's keywords,
 * which are offered with their own icon). Options carry no type, so CodeMirror folds them
 * into an identical label from a scope-aware source instead of listing the word twice.
 */
export function documentWords(exclude: ReadonlySet<string>): CompletionSource {
  const keep = (result: CompletionResult | null): CompletionResult | null => {
    if (!result) return null;
    const options = result.options
      .filter((o) => !exclude.has(o.label) && !/^\p{N}/u.test(o.label) && o.label.length > 1)
      .map((o): Completion => ({ label: o.label }));
    return { ...result, options };
  };
  return (context) => {
    const result = completeAnyWord(context);
    return result instanceof Promise ? result.then(keep) : keep(result);
  };
}

const LITERAL_NODE = /string|comment|char/i;

function insideLiteral(context: CompletionContext): boolean {
  const node = syntaxTree(context.state).resolveInner(context.pos, -1);
  return LITERAL_NODE.test(node.name);
}
