//! How each language is compiled and run, as shell commands run with bash in the work
//! directory (which holds the code under the language's file name). Both sandboxes use
//! them: the tools are the same Debian toolchains in the Docker image and on a host.

use std::collections::BTreeMap;

use crate::languages::{self, Language};

/// How to build, run and name the runtime of one language.
#[derive(Debug)]
pub struct Recipe {
    pub language: &'static Language,
    /// Turns the source into something runnable; its failure is a compile error.
    pub compile: Option<&'static str>,
    /// Runs the program (stdin and stdout are the run's); `exec`s so that the program
    /// is the process the sandbox watches.
    pub run: &'static str,
    /// What names the runtime: (name, a command printing its version on its first line).
    pub runtime: &'static [(&'static str, &'static str)],
}

/// Every language's recipe, in the order of [`languages::LANGUAGES`].
pub static RECIPES: &[Recipe] = &[
    Recipe {
        language: &languages::LANGUAGES[0],
        compile: None,
        run: "exec python3 -u main.py",
        runtime: &[("Python", "python3 --version")],
    },
    Recipe {
        language: &languages::LANGUAGES[1],
        compile: None,
        run: "exec node main.js",
        runtime: &[("Node.js", "node --version")],
    },
    Recipe {
        language: &languages::LANGUAGES[2],
        compile: Some("esbuild main.ts --outfile=main.js --format=cjs --platform=node --log-level=warning"),
        run: "exec node main.js",
        runtime: &[("esbuild", "esbuild --version"), ("Node.js", "node --version")],
    },
    Recipe {
        language: &languages::LANGUAGES[3],
        compile: Some("go build -o main main.go"),
        run: "exec ./main",
        runtime: &[("Go", "go version")],
    },
    Recipe {
        language: &languages::LANGUAGES[4],
        compile: Some("rustc --edition 2021 -C opt-level=1 -o main main.rs"),
        run: "exec ./main",
        runtime: &[("Rust", "rustc --version")],
    },
    Recipe {
        language: &languages::LANGUAGES[5],
        compile: Some("javac -J-Xshare:auto -J-XX:TieredStopAtLevel=1 Main.java"),
        run: "exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp . Main",
        runtime: &[("Java", "java -version")],
    },
    Recipe {
        language: &languages::LANGUAGES[6],
        compile: Some("gcc -O2 -o main main.c -lm"),
        run: "exec stdbuf -oL ./main",
        runtime: &[("GCC", "gcc -dumpfullversion")],
    },
    Recipe {
        language: &languages::LANGUAGES[7],
        compile: Some("g++ -O2 -o main main.cpp"),
        run: "exec stdbuf -oL ./main",
        runtime: &[("G++", "g++ -dumpfullversion")],
    },
    Recipe {
        language: &languages::LANGUAGES[8],
        compile: None,
        run: "exec ruby main.rb",
        runtime: &[("Ruby", "ruby --version")],
    },
];

/// The recipe for a language id.
pub fn find(language: &str) -> Option<&'static Recipe> {
    RECIPES.iter().find(|recipe| recipe.language.id == language)
}

/// A bash script that prints, for every recipe's runtime part, `<language>\t<index>\t`
/// and the first line its version command prints (or an error): run it in the sandbox
/// and hand the output to [`parse_runtimes`].
pub fn probe_script() -> String {
    let mut script = String::new();
    for recipe in RECIPES {
        for (index, (_, command)) in recipe.runtime.iter().enumerate() {
            script.push_str(&format!(
                "printf '%s\\t%s\\t' {} {index}; ({command}) 2>&1 </dev/null | head -n 1; echo\n",
                recipe.language.id
            ));
        }
    }
    script
}

/// The runtime of each language whose every part printed a version, e.g.
/// `typescript` → `esbuild 0.28.2, Node.js 18.20.4`.
pub fn parse_runtimes(probe_output: &str) -> BTreeMap<&'static str, String> {
    let mut found: BTreeMap<(&str, usize), String> = BTreeMap::new();
    for line in probe_output.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(id), Some(index), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if let (Some(version), Ok(index)) = (version_in(text), index.parse()) {
            found.insert((id, index), version);
        }
    }
    RECIPES
        .iter()
        .filter_map(|recipe| {
            let parts: Option<Vec<String>> = recipe
                .runtime
                .iter()
                .enumerate()
                .map(|(index, (name, _))| {
                    found
                        .get(&(recipe.language.id, index))
                        .map(|version| format!("{name} {version}"))
                })
                .collect();
            parts.map(|parts| (recipe.language.id, parts.join(", ")))
        })
        .collect()
}

/// The first dotted version number in `text` (`v18.20.4`, `go1.23.5`, `"17.0.21"`).
fn version_in(text: &str) -> Option<String> {
    if text.contains("not found") || text.contains("No such file") {
        return None;
    }
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let candidate: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let candidate = candidate.trim_end_matches('.');
        if candidate.contains('.') {
            return Some(candidate.to_owned());
        }
        rest = &rest[start + candidate.len().max(1)..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_its_recipe() {
        assert_eq!(RECIPES.len(), languages::LANGUAGES.len());
        for language in languages::LANGUAGES {
            assert_eq!(find(language.id).unwrap().language.id, language.id);
        }
    }

    #[test]
    fn versions_are_read_from_what_the_tools_print() {
        let output = "python\t0\tPython 3.11.2\n\
                      javascript\t0\tv18.20.4\n\
                      typescript\t0\t0.28.2\n\
                      typescript\t1\tv18.20.4\n\
                      go\t0\tgo version go1.23.5 linux/amd64\n\
                      rust\t0\trustc 1.96.0 (abc 2026-01-01) (built from a source tarball)\n\
                      java\t0\topenjdk version \"17.0.21\" 2025-10-21\n\
                      c\t0\t12.2.0\n\
                      cpp\t0\tbash: line 1: g++: command not found\n\
                      ruby\t0\truby 3.1.7p261 (2025-03-26 revision 0) [x86_64-linux-gnu]\n";
        let runtimes = parse_runtimes(output);
        assert_eq!(runtimes["python"], "Python 3.11.2");
        assert_eq!(runtimes["javascript"], "Node.js 18.20.4");
        assert_eq!(runtimes["typescript"], "esbuild 0.28.2, Node.js 18.20.4");
        assert_eq!(runtimes["go"], "Go 1.23.5");
        assert_eq!(runtimes["rust"], "Rust 1.96.0");
        assert_eq!(runtimes["java"], "Java 17.0.21");
        assert_eq!(runtimes["c"], "GCC 12.2.0");
        assert_eq!(runtimes["ruby"], "Ruby 3.1.7");
        assert!(!runtimes.contains_key("cpp"), "a missing compiler offers nothing");
    }

    #[test]
    fn a_language_missing_one_part_is_not_offered() {
        let runtimes = parse_runtimes("typescript\t1\tv20.1.0\n");
        assert!(runtimes.is_empty());
    }

    #[test]
    fn the_probe_asks_every_part() {
        let script = probe_script();
        let parts: usize = RECIPES.iter().map(|recipe| recipe.runtime.len()).sum();
        assert_eq!(script.lines().count(), parts);
        assert!(script.contains("go version"));
    }
}
