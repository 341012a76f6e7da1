//! The GPU kernels' sources run on the CPU: `kernels/cuda/<kernel>_anfitrion.cpp` includes the
//! `.cu` with its built-ins in plain C++, and a test compares what it computes with a CPU
//! backend. Shared by the kernels' test files (`mod emulacion;`).

use std::path::PathBuf;
use std::process::Command;

/// Compiles `kernels/cuda/<fuente>` with `$CXX` (else `c++`) and `banderas` into the test's
/// temporary folder. `None`, said on stderr, where there is no such compiler, or where
/// `banderas` ask for OpenMP and the compiler has none; any other compile error fails the test.
pub fn compilar(fuente: &str, banderas: &[&str]) -> Option<PathBuf> {
    let compilador = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let ruta = format!("{}/cuda/{fuente}", env!("CARGO_MANIFEST_DIR"));
    let nombre = fuente.trim_end_matches(".cpp");
    let programa = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(nombre);
    let compilado = Command::new(&compilador)
        .args(banderas)
        .arg(&ruta)
        .arg("-o")
        .arg(&programa)
        .output();
    let o = match compilado {
        Err(e) => {
            eprintln!("no C++ compiler ({compilador}: {e}): the emulation is not run");
            return None;
        }
        Ok(o) => o,
    };
    let error = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() && banderas.contains(&"-fopenmp") && error.contains("omp") {
        eprintln!("{compilador} has no OpenMP ({error}): the emulation is not run");
        return None;
    }
    assert!(o.status.success(), "{compilador} {ruta}: {error}");
    Some(programa)
}
