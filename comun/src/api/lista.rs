//! Paging and filtering `GET /trabajos` ([`FiltroTrabajos`], [`Cursor`], [`Via`]), and the
//! bodies of the actions on one job: a new priority ([`PeticionPrioridad`]) and the answer to
//! an action ([`RespuestaAccion`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;
use crate::trabajo::{Estado, Prioridad, Tipo, TrabajoId, por_nombre};

/// How a job came in, as `GET /trabajos?origen=` filters it: the `via` of its
/// [`Origen`](super::Origen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// `POST /agregar_trabajo` or `POST /trabajos`.
    Api,
    /// A line of a jobs file (watched, named or uploaded).
    Archivo,
    /// A task of a file in the task folder.
    Carpeta,
}

impl Via {
    pub const TODAS: [Via; 3] = [Via::Api, Via::Archivo, Via::Carpeta];

    pub fn nombre(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Archivo => "archivo",
            Via::Carpeta => "carpeta",
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Via {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        por_nombre("origen", &Via::TODAS, Via::nombre, s)
    }
}

/// Which jobs `GET /trabajos` lists: every filter given must match; none given, all jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FiltroTrabajos {
    pub estado: Option<Estado>,
    pub tipo: Option<Tipo>,
    pub prioridad: Option<Prioridad>,
    /// The esclavo running the job, or the one that ran its last attempt.
    pub esclavo: Option<String>,
    pub origen: Option<Via>,
    /// Jobs whose backend was asked for by this original system's name (`Numpy`,
    /// `juliaCython`: [`NOMBRES_ORIGINALES`](crate::trabajo::algoritmo::NOMBRES_ORIGINALES)).
    pub algoritmo_pedido: Option<&'static str>,
}

impl FiltroTrabajos {
    /// Jobs in one state (all of them with `None`).
    pub fn de_estado(estado: Option<Estado>) -> Self {
        FiltroTrabajos {
            estado,
            ..Self::default()
        }
    }

    /// Whether it filters by nothing but (at most) the state: the maestro knows how many such
    /// jobs there are without counting rows.
    pub fn solo_estado(&self) -> bool {
        self.tipo.is_none()
            && self.prioridad.is_none()
            && self.esclavo.is_none()
            && self.origen.is_none()
            && self.algoritmo_pedido.is_none()
    }

    /// The filters as query parameters (`&estado=fallido&tipo=julia`), each led by `&`.
    pub fn consulta(&self) -> String {
        let mut q = String::new();
        let mut poner = |clave: &str, valor: Option<String>| {
            if let Some(v) = valor {
                q.push_str(&format!("&{clave}={}", codificar(&v)));
            }
        };
        poner("estado", self.estado.map(|e| e.nombre().into()));
        poner("tipo", self.tipo.map(|t| t.nombre().into()));
        poner("prioridad", self.prioridad.map(|p| p.valor().to_string()));
        poner("esclavo", self.esclavo.clone());
        poner("origen", self.origen.map(|o| o.nombre().into()));
        q
    }
}

/// Percent-encodes what is not unreserved in a query value (esclavo names are free text).
fn codificar(valor: &str) -> String {
    valor
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a page of `GET /trabajos` ended: pass it back as `cursor` for the next page (older
/// jobs). Opaque to clients; a page never repeats or skips a job, whatever was added since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(into = "String", try_from = "String")]
#[schema(value_type = String, pattern = "^t[0-9]+$")]
pub struct Cursor(TrabajoId);

impl Cursor {
    /// The page that follows the job `ultimo` (the oldest of the page before).
    pub fn tras(ultimo: TrabajoId) -> Self {
        Cursor(ultimo)
    }

    /// The next page holds the jobs older than this one.
    pub fn ultimo(self) -> TrabajoId {
        self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

impl FromStr for Cursor {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix('t')
            .and_then(|n| n.parse().ok())
            .map(|n| Cursor(TrabajoId(n)))
            .ok_or_else(|| {
                ErrorCampo::new(
                    "cursor",
                    format!("'{s}' is not a cursor: pass back the 'siguiente' of the page before"),
                )
            })
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for Cursor {
    type Error = ErrorCampo;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Most jobs `GET /trabajos` counts for its `total` when it filters by more than the state;
/// past it, `total` is this many and `total_exacto` false.
pub const MAX_CUENTA: u64 = 10_000;

/// Body of `PATCH /trabajos/{id}`: a pending job's new priority (`1`..`3` or `alta`, `media`,
/// `baja`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeticionPrioridad {
    pub prioridad: Prioridad,
}

/// Answer to an action on one job (`POST /trabajos/{id}/reintentar`, `PATCH /trabajos/{id}`):
/// the job as it is now, committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaAccion {
    pub id: TrabajoId,
    pub estado: Estado,
    pub prioridad: Prioridad,
    pub mensaje: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_a_foreign_one_is_named() {
        let c = Cursor::tras(TrabajoId(42));
        assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"t42\"");
        let e = "42".parse::<Cursor>().unwrap_err();
        assert_eq!(e.campo, "cursor");
        assert!(serde_json::from_str::<Cursor>("\"tx\"").is_err());
    }

    #[test]
    fn filters_become_query_parameters_escaped() {
        let f = FiltroTrabajos {
            estado: Some(Estado::Fallido),
            prioridad: Some(Prioridad::ALTA),
            esclavo: Some("gpu 1&x".into()),
            origen: Some(Via::Archivo),
            ..FiltroTrabajos::default()
        };
        assert_eq!(
            f.consulta(),
            "&estado=fallido&prioridad=1&esclavo=gpu%201%26x&origen=archivo"
        );
        assert!(!f.solo_estado());
        assert!(FiltroTrabajos::de_estado(Some(Estado::Pendiente)).solo_estado());
        assert_eq!("ARCHIVO".parse::<Via>().unwrap(), Via::Archivo);
        assert_eq!("x".parse::<Via>().unwrap_err().campo, "origen");
    }
}
