//! Records the commit the binary is built from (`HPC_COMMIT`, for `cliente benchmark`'s
//! report): `git rev-parse --short=12 HEAD`, or `unknown` outside a git checkout.

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|s| s.status.success())
        .and_then(|s| String::from_utf8(s.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HPC_COMMIT={commit}");
    // Built again when HEAD moves: a checkout changes HEAD, a commit the branch it names.
    let head = Path::new("../.git/HEAD");
    if let Ok(texto) = std::fs::read_to_string(head) {
        println!("cargo:rerun-if-changed={}", head.display());
        if let Some(rama) = texto.trim().strip_prefix("ref: ") {
            for ruta in [format!("../.git/{rama}"), "../.git/packed-refs".into()] {
                if Path::new(&ruta).exists() {
                    println!("cargo:rerun-if-changed={ruta}");
                }
            }
        }
    }
}
