//! [`Algoritmo`]: the backend a job runs on, with the original system's names for it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;

/// The Flask system's backend names, kept on a job that asked for one
/// ([`Etiquetas::algoritmo_pedido`](super::Etiquetas)).
pub const NOMBRES_ORIGINALES: [&str; 2] = ["Numpy", "juliaCython"];

/// The implementation a job runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub enum Algoritmo {
    /// One thread: the straightforward reference.
    Secuencial,
    /// All cores and the CPU's vector units.
    Paralelo,
    /// On an NVIDIA GPU; waits for an esclavo that has one.
    Cuda,
    /// The maestro picks: `Cuda` when a GPU esclavo has a free slot, `Paralelo` otherwise.
    Auto,
}

impl Algoritmo {
    pub fn nombre(self) -> &'static str {
        match self {
            Algoritmo::Secuencial => "Secuencial",
            Algoritmo::Paralelo => "Paralelo",
            Algoritmo::Cuda => "Cuda",
            Algoritmo::Auto => "Auto",
        }
    }

    /// The original system's name `texto` is (in any case), as that system wrote it:
    /// `Numpy` or `juliaCython`, both read as `Paralelo`; `None` for any other text.
    pub fn nombre_original(texto: &str) -> Option<&'static str> {
        NOMBRES_ORIGINALES
            .into_iter()
            .find(|n| n.eq_ignore_ascii_case(texto.trim()))
    }

    /// Whether only an esclavo with a GPU can run it.
    pub fn necesita_gpu(self) -> bool {
        self == Algoritmo::Cuda
    }
}

/// Its OpenAPI schema: the names it is written with (read in any case, and the original
/// system's `Numpy` and `juliaCython` as `Paralelo`).
impl utoipa::PartialSchema for Algoritmo {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(["Secuencial", "Paralelo", "Cuda", "Auto"]))
            .description(Some(
                "The backend a job runs on; read in any case, and the original system's \
                 `Numpy` and `juliaCython` are read as `Paralelo`",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Algoritmo {}

impl fmt::Display for Algoritmo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Algoritmo {
    type Err = ErrorCampo;
    /// Case-insensitive; the original system's `Numpy` and `juliaCython` mean `Paralelo`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "secuencial" => Ok(Algoritmo::Secuencial),
            "paralelo" | "numpy" | "juliacython" => Ok(Algoritmo::Paralelo),
            "cuda" => Ok(Algoritmo::Cuda),
            "auto" => Ok(Algoritmo::Auto),
            _ => Err(ErrorCampo::new(
                "algoritmo",
                format!(
                    "unknown algoritmo '{s}' (expected Secuencial, Paralelo, Cuda or Auto; \
                     Numpy and juliaCython are accepted as Paralelo)"
                ),
            )),
        }
    }
}

impl TryFrom<String> for Algoritmo {
    type Error = ErrorCampo;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A backend as a request names it: the backend, and the original system's name for it when
/// the request used one (`Numpy` → `Paralelo`, kept as `Numpy`). Written back as it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct AlgoritmoPedido {
    pub algoritmo: Algoritmo,
    /// One of [`NOMBRES_ORIGINALES`], as that system wrote it.
    pub original: Option<&'static str>,
}

impl From<Algoritmo> for AlgoritmoPedido {
    fn from(algoritmo: Algoritmo) -> Self {
        AlgoritmoPedido {
            algoritmo,
            original: None,
        }
    }
}

impl From<AlgoritmoPedido> for String {
    fn from(a: AlgoritmoPedido) -> String {
        a.original.unwrap_or(a.algoritmo.nombre()).to_string()
    }
}

impl FromStr for AlgoritmoPedido {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(AlgoritmoPedido {
            algoritmo: s.parse()?,
            original: Algoritmo::nombre_original(s),
        })
    }
}

impl<'de> Deserialize<'de> for AlgoritmoPedido {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for AlgoritmoPedido {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        Algoritmo::schema()
    }
}

impl utoipa::ToSchema for AlgoritmoPedido {
    fn name() -> std::borrow::Cow<'static, str> {
        "Algoritmo".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_keeps_the_original_name_it_used() {
        let a: AlgoritmoPedido = "numpy".parse().unwrap();
        assert_eq!(a.algoritmo, Algoritmo::Paralelo);
        assert_eq!(a.original, Some("Numpy"));
        assert_eq!(String::from(a), "Numpy");
        let a: AlgoritmoPedido = "JULIACYTHON".parse().unwrap();
        assert_eq!(a.original, Some("juliaCython"));
        let a: AlgoritmoPedido = "Paralelo".parse().unwrap();
        assert_eq!((a.algoritmo, a.original), (Algoritmo::Paralelo, None));
        assert_eq!(String::from(a), "Paralelo");
    }

    #[test]
    fn aliases_of_the_original_system_mean_paralelo() {
        for s in ["Numpy", "juliaCython", "paralelo", "PARALELO"] {
            assert_eq!(s.parse::<Algoritmo>().unwrap(), Algoritmo::Paralelo, "{s}");
        }
        assert_eq!(
            "Secuencial".parse::<Algoritmo>().unwrap(),
            Algoritmo::Secuencial
        );
        let e = "Fortran".parse::<Algoritmo>().unwrap_err();
        assert_eq!(e.campo, "algoritmo");
        assert!(e.mensaje.contains("Fortran"), "{e}");
    }
}
