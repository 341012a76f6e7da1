//! What a memoria needs to start, the defaults of its command line, and the `aviso,critico`
//! threshold syntax of its flags.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::alertas::{ErrorUmbrales, Politica, Umbrales};

/// Port a memoria listens on when none is given.
pub const PUERTO_POR_DEFECTO: u16 = 5003;
/// Time between samples when none is given.
pub const INTERVALO_POR_DEFECTO: Duration = Duration::from_secs(5);
/// Samples kept for `/historial` when no size is given: an hour at the default interval.
pub const HISTORIAL_POR_DEFECTO: u32 = 720;
/// Percentage points a value must fall below a threshold for its alert to end.
pub const HISTERESIS_POR_DEFECTO: f64 = 5.0;

/// Default thresholds of CPU use.
pub const UMBRAL_CPU: Niveles = Niveles::activos(80.0, 95.0);
/// Default thresholds of RAM use.
pub const UMBRAL_MEMORIA: Niveles = Niveles::activos(80.0, 95.0);
/// Default thresholds of swap use.
pub const UMBRAL_SWAP: Niveles = Niveles::activos(50.0, 80.0);
/// Default thresholds of each filesystem's use.
pub const UMBRAL_DISCO: Niveles = Niveles::activos(85.0, 95.0);
/// Default thresholds of each GPU's memory use.
pub const UMBRAL_GPU_MEMORIA: Niveles = Niveles::activos(85.0, 95.0);

/// Settings of one memoria process. `main.rs` fills it from flags and environment; tests build
/// it directly, usually with [`Config::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URL of the maestro to report to; `None` runs standalone, serving the API only.
    pub maestro: Option<String>,
    /// The host reported on; its alerts apply to the esclavos that declare the same `nodo`.
    pub nodo: String,
    /// Time between samples.
    pub intervalo: Duration,
    /// Time between reports when no alert starts or ends (the command line uses `intervalo`).
    pub intervalo_reporte: Duration,
    /// Bearer token sent to the maestro and required by this memoria's API on every route
    /// but `GET /ping`; `None`: sent nowhere, required nowhere.
    pub token: Option<String>,
    /// Whether the API's reads pass without the token (all its routes are reads).
    pub lecturas_abiertas: bool,
    /// How the API is served: plain HTTP or TLS, and the limits of each connection.
    pub transporte: plataforma::Transporte,
    /// The cluster's CA, trusted when reporting to the maestro over https.
    pub ca: Option<plataforma::Ca>,
    /// The alert thresholds of each resource.
    pub politica: Politica,
    /// Most samples kept for `/historial`.
    pub historial: usize,
}

impl Config {
    /// A config with the defaults of the command line: this host's name as the node, a sample
    /// and a report every 5 s, the default thresholds, 720 samples of history, no token.
    pub fn new(maestro: Option<String>) -> Self {
        Self {
            maestro,
            nodo: nombre_de_host(),
            intervalo: INTERVALO_POR_DEFECTO,
            intervalo_reporte: INTERVALO_POR_DEFECTO,
            token: None,
            lecturas_abiertas: false,
            transporte: plataforma::Transporte::default(),
            ca: None,
            politica: Politica::default(),
            historial: HISTORIAL_POR_DEFECTO as usize,
        }
    }
}

impl Default for Politica {
    /// The command line's default thresholds, with a hysteresis of 5 points.
    fn default() -> Self {
        let u = |n: Niveles| {
            n.con_histeresis(HISTERESIS_POR_DEFECTO)
                .expect("the default thresholds are valid")
        };
        Politica {
            cpu: u(UMBRAL_CPU),
            memoria: u(UMBRAL_MEMORIA),
            swap: u(UMBRAL_SWAP),
            disco: u(UMBRAL_DISCO),
            gpu_memoria: u(UMBRAL_GPU_MEMORIA),
        }
    }
}

/// This host's name, or `localhost` where the system does not say.
pub fn nombre_de_host() -> String {
    sysinfo::System::host_name()
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A resource's thresholds as a flag writes them: `80,95` (aviso, crítico, in percent) or `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Niveles {
    /// No alerts for this resource.
    Desactivados,
    /// Alerts at these thresholds.
    Activos {
        /// Percent where aviso starts.
        aviso: f64,
        /// Percent where crítico starts.
        critico: f64,
    },
}

impl Niveles {
    pub const fn activos(aviso: f64, critico: f64) -> Self {
        Niveles::Activos { aviso, critico }
    }

    /// The checked thresholds with `histeresis`; `None` when disabled.
    pub fn con_histeresis(self, histeresis: f64) -> Result<Option<Umbrales>, ErrorUmbrales> {
        match self {
            Niveles::Desactivados => Ok(None),
            Niveles::Activos { aviso, critico } => {
                Umbrales::new(aviso, critico, histeresis).map(Some)
            }
        }
    }
}

impl FromStr for Niveles {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Niveles::Desactivados);
        }
        let numero = |x: &str| {
            x.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{}` is not a number", x.trim()))
        };
        let (aviso, critico) = s.split_once(',').ok_or_else(|| {
            format!("expected AVISO,CRITICO in percent (e.g. 80,95) or off; got `{s}`")
        })?;
        let niveles = Niveles::activos(numero(aviso)?, numero(critico)?);
        // The hysteresis is checked later, against the aviso threshold: 0 passes here.
        niveles.con_histeresis(0.0).map_err(|e| e.to_string())?;
        Ok(niveles)
    }
}

impl fmt::Display for Niveles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Niveles::Desactivados => f.write_str("off"),
            Niveles::Activos { aviso, critico } => write!(f, "{aviso},{critico}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_as_written_on_the_command_line() {
        assert_eq!("80,95".parse(), Ok(Niveles::activos(80.0, 95.0)));
        assert_eq!(" 50.5 , 90 ".parse(), Ok(Niveles::activos(50.5, 90.0)));
        assert_eq!("OFF".parse(), Ok(Niveles::Desactivados));
        assert_eq!(UMBRAL_CPU.to_string(), "80,95");
        assert_eq!(Niveles::Desactivados.to_string(), "off");
        for malo in ["80", "80,", "a,95", "95,80", "0,50", "80,101", ""] {
            assert!(malo.parse::<Niveles>().is_err(), "{malo}");
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        let p = Politica::default();
        assert!(p.cpu.is_some() && p.swap.is_some() && p.gpu_memoria.is_some());
        assert_eq!(Config::new(None).intervalo, INTERVALO_POR_DEFECTO);
    }
}
