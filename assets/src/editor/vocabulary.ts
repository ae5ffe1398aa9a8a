// Keywords and snippet skeletons per language, as data. `\t` in a template is one indent
// unit; `${name}` is a field Tab moves through and `${}` is where the cursor ends.
import type { SnippetSpec } from "./completion";

/** What completion offers for one language besides the words in the document. */
export interface Vocabulary {
  keywords: readonly string[];
  snippets: readonly SnippetSpec[];
}

const words = (list: string): string[] => list.trim().split(/\s+/);
const snip = (label: string, detail: string, template: string): SnippetSpec => ({ label, detail, template });

const JS_KEYWORDS = words(`async await break case catch class const continue debugger default delete do else
  export extends false finally for function if import in instanceof let new null of return static super switch
  this throw true try typeof undefined var void while yield console`);

const JS_SNIPPETS = [
  snip("log", "console.log", "console.log(${});"),
  snip("arrow", "arrow function", "const ${name} = (${params}) => {\n\t${}\n};"),
  snip("readStdin", "read all of standard input", 'const input = require("fs").readFileSync(0, "utf8");\n${}'),
];

const C_FAMILY_KEYWORDS = `auto break case char const continue default do double else enum extern float for goto if
  inline int long register return short signed sizeof static struct switch typedef union unsigned void volatile
  while`;

const C_LIKE_SNIPPETS = [
  snip("for", "loop", "for (int ${i} = 0; ${i} < ${n}; ${i}++) {\n\t${}\n}"),
  snip("if", "block", "if (${condition}) {\n\t${}\n}"),
  snip("if", "/ else block", "if (${condition}) {\n\t${}\n} else {\n\t${}\n}"),
  snip("while", "loop", "while (${condition}) {\n\t${}\n}"),
];

/** Keywords and snippets by language id (lang-javascript and lang-go add their own snippets). */
export const VOCABULARY: Readonly<Record<string, Vocabulary>> = {
  javascript: { keywords: JS_KEYWORDS, snippets: JS_SNIPPETS },
  typescript: {
    keywords: JS_KEYWORDS.concat(
      words(`abstract any as boolean declare enum implements interface keyof namespace never number private
        protected public readonly satisfies string symbol type unknown`),
    ),
    snippets: JS_SNIPPETS.concat([
      snip("function", "typed definition", "function ${name}(${params}): ${type} {\n\t${}\n}"),
      snip("enum", "definition", "enum ${Name} {\n\t${}\n}"),
    ]),
  },
  python: {
    keywords: words(`False None True and as assert async await break class continue def del elif else except
      finally for from global if import in is lambda match case nonlocal not or pass raise return try while with
      yield self`),
    snippets: [
      snip("def", "function", "def ${name}(${params}):\n\t${pass}"),
      snip("class", "definition", "class ${Name}:\n\tdef __init__(self${, params}):\n\t\t${pass}"),
      snip("for", "loop", "for ${item} in ${items}:\n\t${pass}"),
      snip("for", "range loop", "for ${i} in range(${n}):\n\t${pass}"),
      snip("if", "block", "if ${condition}:\n\t${pass}"),
      snip("if", "/ else block", "if ${condition}:\n\t${pass}\nelse:\n\t${pass}"),
      snip("while", "loop", "while ${condition}:\n\t${pass}"),
      snip("try", "/ except block", "try:\n\t${pass}\nexcept ${Exception} as ${error}:\n\t${raise}"),
      snip("with", "block", "with ${open(path)} as ${f}:\n\t${pass}"),
      snip("main", "entry point", 'def main() -> None:\n\t${pass}\n\n\nif __name__ == "__main__":\n\tmain()'),
      snip("readStdin", "lines of standard input", "import sys\n\nlines = [line.rstrip(\"\\n\") for line in sys.stdin]\n${}"),
    ],
  },
  go: {
    keywords: words(`break case chan const continue default defer else fallthrough for func go goto if import
      interface map package range return select struct switch type var true false nil iota append cap close copy
      delete len make new panic print println recover bool byte error float64 int int64 rune string fmt`),
    snippets: [
      snip("main", "package main", 'package main\n\nimport "fmt"\n\nfunc main() {\n\t${fmt.Println("Hello")}\n}'),
      snip("iferr", "error check", "if err != nil {\n\treturn ${err}\n}"),
      snip("struct", "type definition", "type ${Name} struct {\n\t${}\n}"),
    ],
  },
  rust: {
    keywords: words(`as async await break const continue crate dyn else enum extern false fn for if impl in let
      loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while
      Some None Ok Err Vec String Option Result Box HashMap println! print! eprintln! format! vec! panic!`),
    snippets: [
      snip("main", "entry point", "fn main() {\n\t${}\n}"),
      snip("fn", "function", "fn ${name}(${params}) -> ${Type} {\n\t${}\n}"),
      snip("for", "loop", "for ${item} in ${items} {\n\t${}\n}"),
      snip("if", "block", "if ${condition} {\n\t${}\n}"),
      snip("if", "/ else block", "if ${condition} {\n\t${}\n} else {\n\t${}\n}"),
      snip("iflet", "if let", "if let Some(${value}) = ${option} {\n\t${}\n}"),
      snip("match", "expression", "match ${value} {\n\t${pattern} => ${},\n\t_ => ${},\n}"),
      snip("while", "loop", "while ${condition} {\n\t${}\n}"),
      snip("struct", "definition", "struct ${Name} {\n\t${field}: ${Type},\n}"),
      snip("impl", "block", "impl ${Name} {\n\t${}\n}"),
      snip("enum", "definition", "enum ${Name} {\n\t${}\n}"),
      snip("test", "test module", "#[cfg(test)]\nmod tests {\n\tuse super::*;\n\n\t#[test]\n\tfn ${name}() {\n\t\t${}\n\t}\n}"),
    ],
  },
  java: {
    keywords: words(`abstract assert boolean break byte case catch char class continue default do double else
      enum extends final finally float for if implements import instanceof int interface long new package private
      protected public record return short static super switch synchronized this throw throws try var void
      volatile while true false null String System Integer Long List ArrayList Map HashMap Set HashSet Scanner`),
    snippets: [
      snip("main", "class with main", "public class Main {\n\tpublic static void main(String[] args) {\n\t\t${}\n\t}\n}"),
      snip("psvm", "main method", "public static void main(String[] args) {\n\t${}\n}"),
      snip("sout", "System.out.println", "System.out.println(${});"),
      snip("class", "definition", "class ${Name} {\n\t${}\n}"),
      snip("method", "definition", "${public} ${void} ${name}(${params}) {\n\t${}\n}"),
      snip("for", "loop", "for (int ${i} = 0; ${i} < ${n}; ${i}++) {\n\t${}\n}"),
      snip("for", "for-each loop", "for (${Type} ${item} : ${items}) {\n\t${}\n}"),
      snip("if", "block", "if (${condition}) {\n\t${}\n}"),
      snip("if", "/ else block", "if (${condition}) {\n\t${}\n} else {\n\t${}\n}"),
      snip("while", "loop", "while (${condition}) {\n\t${}\n}"),
      snip("try", "/ catch block", "try {\n\t${}\n} catch (${Exception} ${e}) {\n\t${}\n}"),
    ],
  },
  c: {
    keywords: words(`${C_FAMILY_KEYWORDS} NULL bool true false size_t printf scanf puts fgets malloc calloc free
      strlen strcmp strcpy memset stdin stdout stderr`),
    snippets: [
      snip("main", "entry point", "#include <stdio.h>\n\nint main(void) {\n\t${}\n\treturn 0;\n}"),
      snip("include", "header", "#include <${stdio.h}>"),
      snip("printf", "formatted output", 'printf("${%d}\\n", ${});'),
      snip("struct", "definition", "struct ${name} {\n\t${}\n};"),
      ...C_LIKE_SNIPPETS,
    ],
  },
  cpp: {
    keywords: words(`${C_FAMILY_KEYWORDS} alignas alignof bool catch class constexpr const_cast decltype delete
      explicit false friend mutable namespace new noexcept nullptr operator private protected public
      reinterpret_cast static_assert static_cast template this throw true try typename using virtual std cout
      cin cerr endl string vector map unordered_map set unordered_set pair size_t`),
    snippets: [
      snip("main", "entry point", "#include <iostream>\n\nint main() {\n\t${}\n\treturn 0;\n}"),
      snip("include", "header", "#include <${iostream}>"),
      snip("cout", "print a line", "std::cout << ${} << std::endl;"),
      snip("for", "range loop", "for (const auto& ${item} : ${items}) {\n\t${}\n}"),
      snip("class", "definition", "class ${Name} {\npublic:\n\t${Name}() {}\n\t${}\n};"),
      ...C_LIKE_SNIPPETS,
    ],
  },
  ruby: {
    keywords: words(`BEGIN END alias and begin break case class def defined? do else elsif end ensure false for
      if in module next nil not or redo rescue retry return self super then true undef unless until when while
      yield puts print gets require attr_accessor attr_reader each map select`),
    snippets: [
      snip("def", "method", "def ${name}(${params})\n\t${}\nend"),
      snip("class", "definition", "class ${Name}\n\tdef initialize(${params})\n\t\t${}\n\tend\nend"),
      snip("each", "block", "${items}.each do |${item}|\n\t${}\nend"),
      snip("if", "block", "if ${condition}\n\t${}\nend"),
      snip("if", "/ else block", "if ${condition}\n\t${}\nelse\n\t${}\nend"),
      snip("unless", "block", "unless ${condition}\n\t${}\nend"),
      snip("while", "loop", "while ${condition}\n\t${}\nend"),
      snip("case", "/ when", "case ${value}\nwhen ${pattern}\n\t${}\nelse\n\t${}\nend"),
      snip("begin", "/ rescue block", "begin\n\t${}\nrescue ${StandardError} => ${e}\n\t${}\nend"),
      snip("module", "definition", "module ${Name}\n\t${}\nend"),
    ],
  },
};
