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

/// The variable the container images set to `http://maestro:5001`: where a node looks for the
/// maestro when neither `MAESTRO_URL` nor `MAESTRO_IP` says, as the original system's esclavos
/// did (host `maestro`). Unset outside the images, where a node's default is loopback.
pub const VAR_MAESTRO_DEFECTO: &str = "HPC_MAESTRO_DEFECTO";

/// The maestro a node (esclavo, memoria) talks to.
#[derive(Debug, Clone, clap::Args)]
pub struct ArgsMaestro {
    /// Base URL of the maestro, or a comma-separated list of the replicas of one cluster
    /// (http://a:5001,http://b:5001: a call that one does not answer goes to the next)
    /// [default: http://$MAESTRO_IP:5001 when MAESTRO_IP is set; else
    /// $HPC_MAESTRO_DEFECTO, which the container images set to http://maestro:5001; else an
    /// esclavo uses http://127.0.0.1:5001 and a memoria runs standalone, not reporting].
    #[arg(long, env = "MAESTRO_URL", value_name = "URL")]
    pub maestro: Option<String>,
}

impl ArgsMaestro {
    /// The URL given, else the original system's `MAESTRO_IP` on the maestro's port 5001, else
    /// the image's default ([`VAR_MAESTRO_DEFECTO`]); `None` when none is set (blank counts as
    /// unset).
    pub fn url(&self) -> Option<String> {
        let var = |nombre: &str| std::env::var(nombre).ok();
        url_maestro(
            self.maestro.as_deref(),
            var("MAESTRO_IP").as_deref(),
            var(VAR_MAESTRO_DEFECTO).as_deref(),
        )
    }
}

/// [`ArgsMaestro::url`] from the three values, in that order of precedence.
fn url_maestro(dada: Option<&str>, ip: Option<&str>, defecto: Option<&str>) -> Option<String> {
    let valor = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    valor(dada)
        .or_else(|| valor(ip).map(|ip| format!("http://{ip}:5001")))
        .or_else(|| valor(defecto))
}

#[cfg(test)]
mod tests {
    use super::url_maestro;

    #[test]
    fn the_maestro_is_the_url_given_else_maestro_ip_else_the_images_default() {
        let maestro = "http://maestro:5001";
        let url = |d, i, x| url_maestro(d, i, x);
        assert_eq!(
            url(Some("http://m:1"), Some("10.0.0.1"), Some(maestro)).unwrap(),
            "http://m:1"
        );
        assert_eq!(
            url(None, Some(" h2 "), Some(maestro)).unwrap(),
            "http://h2:5001"
        );
        assert_eq!(url(Some(" "), Some(""), Some(maestro)).unwrap(), maestro);
        assert_eq!(
            url(None, None, None),
            None,
            "outside the images: the node's own default"
        );
    }
}

/// Seconds as a flag writes them (`5`, `0.5`), within `min..=max`: what a `value_parser` of a
/// flag in seconds calls, e.g. `|t| segundos_entre(t, 0.2, 86_400.0)`.
pub fn segundos_entre(texto: &str, min: f64, max: f64) -> Result<Duration, String> {
    let s: f64 = texto
        .trim()
        .parse()
        .map_err(|_| format!("`{texto}` is not a number of seconds"))?;
    if !(min..=max).contains(&s) {
        return Err(format!("{s} s is out of range: {min} to {max} seconds"));
    }
    Ok(Duration::from_secs_f64(s))
}

#[cfg(test)]
mod pruebas_segundos {
    use super::*;

    #[test]
    fn seconds_are_parsed_within_their_range_and_errors_say_why() {
        assert_eq!(
            segundos_entre(" 0.5", 0.2, 10.0),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(segundos_entre("0", 0.0, 10.0), Ok(Duration::ZERO));
        assert_eq!(
            segundos_entre("0.1", 0.2, 86_400.0),
            Err("0.1 s is out of range: 0.2 to 86400 seconds".into())
        );
        assert_eq!(
            segundos_entre("x", 0.0, 1.0),
            Err("`x` is not a number of seconds".into())
        );
    }
}
