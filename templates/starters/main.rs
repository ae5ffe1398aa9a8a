// Reads all of standard input and greets each name on it, one per line.
use std::io::{self, BufRead};

fn main() {
    let mut names: Vec<String> = io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    if names.is_empty() {
        names.push("world".to_string());
    }
    for name in names {
        println!("Hello, {name}!");
    }
}
