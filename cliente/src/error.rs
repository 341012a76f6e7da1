//! What can go wrong in a command, and the exit status each kind gives.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the maestro refused the request (4xx, its message is printed), or a local problem (a file, a port) |
//! | 2 | the maestro could not be reached (or the command line is wrong: clap's usual status) |
//! | 3 | jobs that were waited for did not all complete (fallido, cancelado, or no esclavo can run them) |

use comun::CuerpoError;

/// Exit status: the maestro refused the request, or something local failed.
pub const SALIDA_RECHAZO: u8 = 1;
/// Exit status: the maestro could not be reached.
pub const SALIDA_CONEXION: u8 = 2;
/// Exit status: jobs that were waited for did not all complete.
pub const SALIDA_INCOMPLETO: u8 = 3;

/// The exit status a failure maps to.
pub trait IntoExit {
    /// The process exit status for this failure.
    fn codigo_salida(&self) -> u8;
}

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer from the maestro: refused connection, unknown host, timeout.
    #[error(
        "cannot reach the maestro at {url}: {detalle}\n\
         hint: is the maestro running at {url}? start one with `cliente local`, \
         or point to another with --maestro URL (or MAESTRO_URL)"
    )]
    Conexion {
        /// The maestro's base URL.
        url: String,
        /// What the HTTP client said.
        detalle: String,
    },
    /// The maestro answered with an error status and its JSON error body.
    #[error("{}", texto_rechazo(*status, cuerpo))]
    Maestro {
        /// The HTTP status (4xx, or 5xx for an internal error).
        status: u16,
        /// What the maestro said is wrong.
        cuerpo: CuerpoError,
    },
    /// The maestro answered something this cliente does not understand.
    #[error("unexpected answer from {url}: {detalle}")]
    Respuesta {
        /// The URL that answered.
        url: String,
        /// What could not be read.
        detalle: String,
    },
    /// A value the user gave is wrong (checked before asking the maestro).
    #[error("{0}")]
    Campo(#[from] comun::ErrorCampo),
    /// Something on this machine failed: a file, a port, the runtime.
    #[error(transparent)]
    Local(#[from] anyhow::Error),
}

impl Error {
    /// A local failure described in words.
    pub fn local(mensaje: impl std::fmt::Display) -> Self {
        Error::Local(anyhow::anyhow!("{mensaje}"))
    }

    /// The JSON body that `--json` prints on stdout for this failure.
    pub fn cuerpo(&self) -> CuerpoError {
        match self {
            Error::Maestro { cuerpo, .. } => cuerpo.clone(),
            Error::Campo(e) => e.clone().into(),
            otro => CuerpoError::new(format!("{otro:#}")),
        }
    }
}

impl IntoExit for Error {
    fn codigo_salida(&self) -> u8 {
        match self {
            Error::Conexion { .. } => SALIDA_CONEXION,
            _ => SALIDA_RECHAZO,
        }
    }
}

fn texto_rechazo(status: u16, c: &CuerpoError) -> String {
    let quien = if status >= 500 {
        "the maestro failed"
    } else {
        "the maestro refused the request"
    };
    let mut t = format!("{quien} (HTTP {status}): {}", c.error);
    if let Some(campo) = &c.campo {
        t.push_str(&format!("\n  field: {campo}"));
    }
    if let Some(linea) = c.linea {
        t.push_str(&format!("\n  line: {linea}"));
    }
    if let Some(limite) = c.limite {
        t.push_str(&format!("\n  limit: {limite}"));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_status_and_says_what_to_do() {
        let e = Error::Conexion {
            url: "http://127.0.0.1:1".into(),
            detalle: "connection refused".into(),
        };
        assert_eq!(e.codigo_salida(), SALIDA_CONEXION);
        assert!(e.to_string().contains("cliente local"), "{e}");
        let e = Error::Maestro {
            status: 422,
            cuerpo: CuerpoError {
                campo: Some("width".into()),
                ..CuerpoError::new("width: must be at least 1")
            },
        };
        assert_eq!(e.codigo_salida(), SALIDA_RECHAZO);
        assert!(e.to_string().contains("field: width"), "{e}");
        assert_eq!(e.cuerpo().campo.as_deref(), Some("width"));
    }
}
