//! [`Algoritmo`]: the backend a job runs on, with the original system's names for it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;

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

#[cfg(test)]
mod tests {
    use super::*;

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
