//! The command-line flags the services share, flattened into each binary's own `Args`:
//! [`ArgsRed`] (TLS, the CA, open reads, connection limits: every service) and
//! [`ArgsMaestro`] (the maestro an esclavo or a memoria node talks to).

use std::path::PathBuf;
use std::time::Duration;

use crate::servidor::{Limites, Transporte};
use crate::tls::{Ca, Tls};

/// TLS, trust, access and limits of a service's HTTP links; every flag also reads the
/// environment variable in brackets.
#[derive(Debug, Clone, clap::Args)]
pub struct ArgsRed {
    /// PEM file with this service's TLS certificate (chain, leaf first): serve HTTPS instead
    /// of HTTP (needs --tls-clave).
    #[arg(
        long = "tls-cert",
        env = "TLS_CERT",
        value_name = "PEM",
        requires = "tls_clave"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of --tls-cert.
    #[arg(
        long = "tls-clave",
        env = "TLS_CLAVE",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_clave: Option<PathBuf>,

    /// PEM file with the cluster's CA certificate, trusted (besides the system's roots) when
    /// this service calls others over https://.
    #[arg(long, env = "HPC_CA", value_name = "PEM", value_parser = Ca::de_argumento)]
    pub ca: Option<Ca>,

    /// With a token configured, let reads (GET) through without it; changes still need it.
    /// GET /ping never needs it.
    #[arg(long = "lecturas-abiertas", env = "LECTURAS_ABIERTAS")]
    pub lecturas_abiertas: bool,

    /// Milliseconds a client has to send a request's headers (and a TLS handshake); an idle
    /// kept-alive connection is closed after as long.
    #[arg(long = "plazo-cabeceras-ms", env = "PLAZO_CABECERAS_MS", value_name = "MS",
          default_value_t = Limites::CABECERAS.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(5_000..))]
    pub plazo_cabeceras_ms: u64,

    /// Milliseconds a request body may stay silent before the request is answered 408.
    #[arg(long = "plazo-cuerpo-ms", env = "PLAZO_CUERPO_MS", value_name = "MS",
          default_value_t = Limites::CUERPO.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub plazo_cuerpo_ms: u64,

    /// Connections served at once; more wait until one closes.
    #[arg(long = "max-conexiones", env = "MAX_CONEXIONES", value_name = "N",
          default_value_t = Limites::CONEXIONES as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conexiones: u32,
}

impl ArgsRed {
    /// The server side: TLS loaded from --tls-cert and --tls-clave (an error names the file at
    /// fault), and the limits.
    pub fn transporte(&self) -> anyhow::Result<Transporte> {
        let tls = match (&self.tls_cert, &self.tls_clave) {
            (Some(cert), Some(clave)) => Some(Tls::cargar(cert, clave)?),
            _ => None,
        };
        Ok(Transporte {
            tls,
            limites: Limites {
                cabeceras: Duration::from_millis(self.plazo_cabeceras_ms),
                cuerpo: Duration::from_millis(self.plazo_cuerpo_ms),
                conexiones: self.max_conexiones as usize,
            },
        })
    }
}

/// The maestro a node (esclavo, memoria) talks to.
#[derive(Debug, Clone, clap::Args)]
pub struct ArgsMaestro {
    /// Base URL of the maestro [default: http://$MAESTRO_IP:5001 when MAESTRO_IP is set; else
    /// an esclavo uses http://127.0.0.1:5001 and a memoria runs standalone, not reporting].
    #[arg(long, env = "MAESTRO_URL", value_name = "URL")]
    pub maestro: Option<String>,
}

impl ArgsMaestro {
    /// The URL given, else the original system's `MAESTRO_IP` on the maestro's port 5001;
    /// `None` when neither is set (blank counts as unset).
    pub fn url(&self) -> Option<String> {
        let dada = self
            .maestro
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        dada.map(str::to_owned).or_else(|| {
            let ip = std::env::var("MAESTRO_IP").ok()?;
            let ip = ip.trim();
            (!ip.is_empty()).then(|| format!("http://{ip}:5001"))
        })
    }
}
