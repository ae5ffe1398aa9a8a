//! The programming languages a room can use, each with a starter template.

use serde::Serialize;

/// A language a room can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Language {
    /// Stable identifier used in the API and stored with each room.
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// File name the code is saved as when it runs.
    pub file_name: &'static str,
    /// Code a new room starts with: reads standard input and prints.
    #[serde(skip)]
    pub starter: &'static str,
}

/// Every supported language, in the order the room form lists them.
pub static LANGUAGES: &[Language] = &[
    Language {
        id: "python",
        name: "Python",
        file_name: "main.py",
        starter: include_str!("../templates/starters/main.py"),
    },
    Language {
        id: "javascript",
        name: "JavaScript",
        file_name: "main.js",
        starter: include_str!("../templates/starters/main.js"),
    },
    Language {
        id: "typescript",
        name: "TypeScript",
        file_name: "main.ts",
        starter: include_str!("../templates/starters/main.ts"),
    },
    Language {
        id: "go",
        name: "Go",
        file_name: "main.go",
        starter: include_str!("../templates/starters/main.go"),
    },
    Language {
        id: "rust",
        name: "Rust",
        file_name: "main.rs",
        starter: include_str!("../templates/starters/main.rs"),
    },
    Language {
        id: "java",
        name: "Java",
        file_name: "Main.java",
        starter: include_str!("../templates/starters/Main.java"),
    },
    Language {
        id: "c",
        name: "C",
        file_name: "main.c",
        starter: include_str!("../templates/starters/main.c"),
    },
    Language {
        id: "cpp",
        name: "C++",
        file_name: "main.cpp",
        starter: include_str!("../templates/starters/main.cpp"),
    },
    Language {
        id: "ruby",
        name: "Ruby",
        file_name: "main.rb",
        starter: include_str!("../templates/starters/main.rb"),
    },
];

/// The language with this id, if it is supported.
pub fn find(id: &str) -> Option<&'static Language> {
    LANGUAGES.iter().find(|language| language.id == id)
}

/// The supported ids, sorted, comma-separated: for error messages.
pub fn allowed_ids() -> String {
    let mut ids: Vec<&str> = LANGUAGES.iter().map(|language| language.id).collect();
    ids.sort_unstable();
    ids.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_a_starter_that_reads_input() {
        for language in LANGUAGES {
            assert!(
                !language.starter.trim().is_empty(),
                "{} has no starter",
                language.id
            );
            let reads_input = ["stdin", "System.in", "readFileSync(0", "std::cin"]
                .iter()
                .any(|marker| language.starter.to_lowercase().contains(&marker.to_lowercase()));
            assert!(
                reads_input,
                "{}'s starter does not read standard input",
                language.id
            );
        }
    }

    #[test]
    fn ids_are_unique_and_findable() {
        for language in LANGUAGES {
            assert_eq!(find(language.id), Some(language));
        }
        assert_eq!(allowed_ids().split(", ").count(), LANGUAGES.len());
        assert!(find("cobol").is_none());
    }
}
