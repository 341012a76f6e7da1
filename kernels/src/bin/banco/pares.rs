//! The peer scripts of `kernels/pares/`: run with banco's interpreter ([`super::python`]), and
//! their one line of `clave=valor` pairs read back.

use std::process::Command;

/// What a peer script printed.
pub struct Medida {
    /// Its standard output.
    texto: String,
}

impl Medida {
    /// The number printed as `clave=…`.
    pub fn valor(&self, clave: &str) -> Result<f64, String> {
        self.texto
            .split_whitespace()
            .find_map(|par| par.strip_prefix(clave)?.strip_prefix('=')?.parse().ok())
            .ok_or_else(|| format!("no {clave} in {:?}", self.texto))
    }
}

/// Runs `kernels/pares/<guion>` with `args`; its output, or why it failed (its last line of
/// errors).
pub fn correr(guion: &str, args: &[&str]) -> Result<Medida, String> {
    let ruta = format!("{}/pares/{guion}", env!("CARGO_MANIFEST_DIR"));
    let python = super::python();
    let salida = Command::new(&python)
        .arg(&ruta)
        .args(args)
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    if !salida.status.success() {
        let error = String::from_utf8_lossy(&salida.stderr);
        return Err(error.lines().last().unwrap_or("failed").to_owned());
    }
    Ok(Medida {
        texto: String::from_utf8_lossy(&salida.stdout).into_owned(),
    })
}
