//! Bundles the browser client in `assets/` with esbuild and generates a table of the
//! bundled files (name, content-hashed path, bytes) that the server embeds, so that the
//! release binary is the whole app.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sync worker's entry point, bundled first (as `worker.js`) so that the page can
/// be given its content-hashed name (`PAIRLINE_WORKER`).
const WORKER: &str = "worker=src/sync/worker.ts";
/// The page's entry points; each produces one file in the output directory.
const ENTRIES: &[&str] = &["src/main.ts", "src/app.css", "sw=src/offline/sw.ts"];
/// Files served as they are: the icon, and the Automerge wasm the sync worker loads.
const VERBATIM: &[&str] = &["src/favicon.svg", WASM];
/// The Automerge wasm; the page learns its content-hashed name at bundle time
/// (`PAIRLINE_WASM`), so browsers cache it for good.
const WASM: &str = "node_modules/@automerge/automerge/dist/automerge.wasm";

fn main() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    for watched in [
        "src",
        "package.json",
        "package-lock.json",
        "node_modules/.package-lock.json",
    ] {
        println!("cargo:rerun-if-changed=assets/{watched}");
    }

    let esbuild = assets.join("node_modules/.bin/esbuild");
    if !esbuild.exists() {
        panic!(
            "\n\nThe browser client's build tools are not installed ({} is missing).\n\
             Run `npm ci --prefix assets` first (scripts/serve and scripts/test do this).\n\n",
            esbuild.display()
        );
    }

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let bundle_dir = out_dir.join("assets");
    let _ = fs::remove_dir_all(&bundle_dir);
    fs::create_dir_all(&bundle_dir).expect("create the bundle directory");

    bundle(&esbuild, &assets, &bundle_dir, &[WORKER], &[]);
    let worker = fs::read(bundle_dir.join("worker.js")).expect("read the worker bundle");
    let wasm = fs::read(assets.join(WASM)).expect("read the Automerge wasm");
    let defines = [
        ("PAIRLINE_WORKER", hashed_name("worker.js", &worker)),
        ("PAIRLINE_WASM", hashed_name("automerge.wasm", &wasm)),
    ];
    bundle(&esbuild, &assets, &bundle_dir, ENTRIES, &defines);
    for file in VERBATIM {
        let source = assets.join(file);
        let name = source.file_name().expect("a file name");
        fs::copy(&source, bundle_dir.join(name)).expect("copy a verbatim asset");
    }

    fs::write(out_dir.join("assets.rs"), asset_table(&bundle_dir)).expect("write assets.rs");
}

/// Runs esbuild on `entries`, writing into `out`, with string constants `defines`.
fn bundle(esbuild: &Path, assets: &Path, out: &Path, entries: &[&str], defines: &[(&str, String)]) {
    let status = Command::new(esbuild)
        .current_dir(assets)
        .args(entries)
        .args([
            "--bundle",
            "--format=esm",
            "--minify",
            "--sourcemap=external",
            "--target=es2020,chrome100,firefox100,safari15",
            "--log-level=warning",
        ])
        .args(
            defines
                .iter()
                .map(|(name, value)| format!("--define:{name}={value:?}")),
        )
        .arg(format!("--outdir={}", out.display()))
        .status()
        .expect("run esbuild");
    assert!(
        status.success(),
        "esbuild failed to bundle assets/ (see its messages above)"
    );
}

/// Rust source for `static BUNDLED: &[BundledAsset]`, one entry per bundled file.
fn asset_table(bundle_dir: &Path) -> String {
    let mut files: Vec<PathBuf> = fs::read_dir(bundle_dir)
        .expect("read the bundle directory")
        .map(|entry| entry.expect("list the bundle directory").path())
        .collect();
    files.sort();

    let mut table = String::from("pub static BUNDLED: &[BundledAsset] = &[\n");
    for file in files {
        let name = file
            .file_name()
            .unwrap()
            .to_str()
            .expect("UTF-8 asset name")
            .to_owned();
        let bytes = fs::read(&file).expect("read a bundled asset");
        let ext = name.split_once('.').expect("bundled assets have an extension").1;
        let hashed = hashed_name(&name, &bytes);
        writeln!(
            table,
            "    BundledAsset {{ name: {name:?}, hashed_name: {hashed:?}, content_type: {:?}, bytes: include_bytes!({:?}) }},",
            content_type(ext),
            file.display().to_string(),
        )
        .unwrap();
    }
    table.push_str("];\n");
    table
}

/// `main.js` with content `bytes` -> `main.1a2b3c4d5e.js`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let (stem, ext) = name.split_once('.').expect("bundled assets have an extension");
    format!("{stem}.{:010x}.{ext}", fnv1a(bytes) >> 24)
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js.map" | "css.map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// 64-bit FNV-1a: a stable content hash for cache-busting file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
