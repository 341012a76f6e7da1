//! Where the service binaries under test are: `HPC_BINARIOS`, or the profile folder the test
//! executable runs from.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The services a scenario starts, by binary name.
pub const SERVICIOS: [&str; 3] = ["maestro", "esclavo", "memoria"];

/// The workspace crates each service is built from: a source newer than the binary means the
/// binary is an old build.
fn fuentes(servicio: &str) -> &'static [&'static str] {
    match servicio {
        "maestro" => &["maestro", "comun", "plataforma"],
        "esclavo" => &["esclavo", "kernels", "comun", "plataforma"],
        _ => &["memoria", "comun", "plataforma"],
    }
}

/// The folder holding `maestro`, `esclavo` and `memoria`.
#[derive(Debug, Clone)]
pub struct Binarios {
    pub carpeta: PathBuf,
    /// Where the folder came from, for the printed line: `HPC_BINARIOS` or the test's profile.
    pub origen: &'static str,
}

impl Binarios {
    /// `HPC_BINARIOS` if set (a relative path is taken from the workspace root), else the
    /// profile folder of this test executable (`target/<profile>/deps/<test>` →
    /// `target/<profile>`). Panics, saying how to build them, if a binary is missing; warns
    /// loudly if one is older than the sources it is built from.
    pub fn localizar() -> Binarios {
        let (carpeta, origen) = match std::env::var_os("HPC_BINARIOS") {
            Some(c) if !c.is_empty() => (raiz_del_workspace().join(c), "HPC_BINARIOS"),
            _ => (carpeta_del_perfil(), "the test executable's profile folder"),
        };
        let binarios = Binarios { carpeta, origen };
        for servicio in SERVICIOS {
            let ruta = binarios.ruta(servicio);
            assert!(
                ruta.is_file(),
                "binary {} not found ({}). Build the services first: `cargo build -p maestro -p \
                 esclavo -p memoria` (or run `cargo nextest run --workspace`, which builds every \
                 binary of the workspace); for release builds, `cargo build --release -p maestro \
                 -p esclavo -p memoria` and HPC_BINARIOS=target/release",
                ruta.display(),
                binarios.origen
            );
            avisar_si_es_antiguo(&ruta, fuentes(servicio));
        }
        binarios
    }

    /// The path of one service's binary.
    pub fn ruta(&self, servicio: &str) -> PathBuf {
        self.carpeta.join(servicio)
    }
}

/// The workspace root (this crate's parent folder).
pub fn raiz_del_workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

fn carpeta_del_perfil() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable has a folder");
    if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    }
}

/// Prints a loud warning when a source file is newer than the binary: `cargo nextest run -p
/// fallos` alone does not rebuild the services, so an edit would go untested.
fn avisar_si_es_antiguo(binario: &Path, crates: &[&str]) {
    let Some(hecho) = modificado(binario) else {
        return;
    };
    let raiz = raiz_del_workspace();
    let mut mas_nueva: Option<(SystemTime, PathBuf)> = None;
    for krate in crates {
        recorrer(&raiz.join(krate).join("src"), &mut |ruta, t| {
            if mas_nueva.as_ref().is_none_or(|(m, _)| t > *m) {
                mas_nueva = Some((t, ruta.to_path_buf()));
            }
        });
    }
    if let Some((t, fuente)) = mas_nueva
        && t > hecho
    {
        println!(
            "[fallos] WARNING: {} is older than {}: this run tests an old build. Rebuild with \
             `cargo build -p maestro -p esclavo -p memoria` (or run the whole workspace).",
            binario.display(),
            fuente.display()
        );
    }
}

fn recorrer(carpeta: &Path, f: &mut impl FnMut(&Path, SystemTime)) {
    let Ok(entradas) = std::fs::read_dir(carpeta) else {
        return;
    };
    for e in entradas.flatten() {
        let ruta = e.path();
        if ruta.is_dir() {
            recorrer(&ruta, f);
        } else if ruta.extension().is_some_and(|x| x == "rs")
            && let Some(t) = modificado(&ruta)
        {
            f(&ruta, t);
        }
    }
}

fn modificado(ruta: &Path) -> Option<SystemTime> {
    std::fs::metadata(ruta).and_then(|m| m.modified()).ok()
}
