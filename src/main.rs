//! The `pairline` command. Everything lives in the library; see `pairline --help`.

fn main() -> std::process::ExitCode {
    pairline::cli::main()
}
