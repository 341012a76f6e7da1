//! The figures of a scenario, printed and written to `target/fallos/<scenario>.json` for
//! docs/reliability.md.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::servicios::{Escenario, carpeta_de_salida};
use crate::verificacion::Recuento;

/// One scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Informe {
    pub escenario: String,
    /// The folder the binaries came from.
    pub binarios: String,
    pub aceptados: u64,
    pub terminados: u64,
    pub completados: u64,
    pub duplicados: u64,
    pub perdidos: u64,
    /// Faults injected: processes killed or stopped, links cut.
    pub fallos_inyectados: u64,
    /// Attempts closed with an error (what the faults cost).
    pub intentos_fallidos: u64,
    /// Attempts superseded by another attempt's result and never closed.
    pub intentos_sin_cerrar: u64,
    /// Completed jobs with an inconsistent attempt history (only with HPC_TOLERAR_HISTORIAL=1;
    /// otherwise any fails the scenario).
    pub problemas_historial: u64,
    pub duracion_s: f64,
    /// Scenario-specific figures.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Informe {
    pub fn new(esc: &Escenario, r: &Recuento, fallos_inyectados: u64) -> Self {
        Self {
            escenario: esc.nombre.to_string(),
            binarios: esc.binarios.carpeta.display().to_string(),
            aceptados: r.aceptados,
            terminados: r.terminados,
            completados: r.completados,
            duplicados: r.duplicados,
            perdidos: r.perdidos,
            fallos_inyectados,
            intentos_fallidos: r.intentos_fallidos,
            intentos_sin_cerrar: r.intentos_sin_cerrar,
            problemas_historial: r.problemas_historial,
            duracion_s: redondear(esc.segundos()),
            extra: Map::new(),
        }
    }

    /// Adds a scenario-specific figure.
    pub fn con(mut self, clave: &str, valor: impl Into<Value>) -> Self {
        self.extra.insert(clave.to_string(), valor.into());
        self
    }

    /// Prints the figures and writes them to `target/fallos/<scenario>.json`.
    pub fn escribir(&self) -> PathBuf {
        let texto = serde_json::to_string_pretty(self).expect("figures serialize");
        let carpeta = carpeta_de_salida();
        std::fs::create_dir_all(&carpeta).expect("creating target/fallos");
        let ruta = carpeta.join(format!("{}.json", self.escenario));
        std::fs::write(&ruta, format!("{texto}\n"))
            .unwrap_or_else(|e| panic!("writing {}: {e}", ruta.display()));
        println!(
            "[fallos] figures of {} ({}):\n{texto}",
            self.escenario,
            ruta.display()
        );
        ruta
    }
}

/// Three decimals are plenty for seconds and milliseconds.
pub fn redondear(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
