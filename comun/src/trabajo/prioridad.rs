//! [`Prioridad`]: how urgent a job is, 1 (alta) to 3 (baja), read from a number or its name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;

/// How urgent a job is: 1 (alta) runs before 2 (media) before 3 (baja).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "PrioridadCruda", into = "u8")]
pub struct Prioridad(u8);

/// Its OpenAPI schema: written as its number; read from the number or its name.
impl utoipa::PartialSchema for Prioridad {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let numero = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(3));
        let nombre = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["alta", "media", "baja"]));
        OneOfBuilder::new()
            .item(numero)
            .item(nombre)
            .description(Some(
                "How urgent a job is: 1 (alta) runs before 2 (media) before 3 (baja); \
                 answers carry the number, requests may give the name",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Prioridad {}

impl Prioridad {
    pub const ALTA: Prioridad = Prioridad(1);
    pub const MEDIA: Prioridad = Prioridad(2);
    pub const BAJA: Prioridad = Prioridad(3);
    pub const TODAS: [Prioridad; 3] = [Self::ALTA, Self::MEDIA, Self::BAJA];

    pub fn new(valor: i64) -> Result<Self, ErrorCampo> {
        match valor {
            1..=3 => Ok(Prioridad(valor as u8)),
            _ => Err(ErrorCampo::new(
                "prioridad",
                format!("{valor} is not a priority (expected 1 = alta, 2 = media or 3 = baja)"),
            )),
        }
    }

    pub fn valor(self) -> u8 {
        self.0
    }

    /// 0 for alta, 1 for media, 2 for baja: an index into per-priority arrays.
    pub fn indice(self) -> usize {
        usize::from(self.0 - 1)
    }

    pub fn nombre(self) -> &'static str {
        match self.0 {
            1 => "alta",
            2 => "media",
            _ => "baja",
        }
    }
}

impl Default for Prioridad {
    fn default() -> Self {
        Prioridad::MEDIA
    }
}

impl fmt::Display for Prioridad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.nombre())
    }
}

impl FromStr for Prioridad {
    type Err = ErrorCampo;
    /// `1`, `2`, `3` or `alta`, `media`, `baja`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "alta" => return Ok(Prioridad::ALTA),
            "media" => return Ok(Prioridad::MEDIA),
            "baja" => return Ok(Prioridad::BAJA),
            _ => {}
        }
        match t.parse::<i64>() {
            Ok(v) => Prioridad::new(v),
            Err(_) => Err(ErrorCampo::new(
                "prioridad",
                format!("'{t}' is not a priority (expected 1, 2, 3 or alta, media, baja)"),
            )),
        }
    }
}

impl From<Prioridad> for u8 {
    fn from(p: Prioridad) -> u8 {
        p.0
    }
}

/// What the wire may carry as a priority: a number or its name.
#[derive(Deserialize)]
#[serde(untagged)]
enum PrioridadCruda {
    Numero(i64),
    Texto(String),
}

impl TryFrom<PrioridadCruda> for Prioridad {
    type Error = ErrorCampo;
    fn try_from(c: PrioridadCruda) -> Result<Self, Self::Error> {
        match c {
            PrioridadCruda::Numero(n) => Prioridad::new(n),
            PrioridadCruda::Texto(t) => t.parse(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prioridad_accepts_numbers_and_names_only_in_range() {
        assert_eq!("1".parse::<Prioridad>().unwrap(), Prioridad::ALTA);
        assert_eq!("baja".parse::<Prioridad>().unwrap(), Prioridad::BAJA);
        assert!("0".parse::<Prioridad>().is_err());
        assert!("4".parse::<Prioridad>().is_err());
        assert!("x".parse::<Prioridad>().is_err());
        let p: Prioridad = serde_json::from_str("3").unwrap();
        assert_eq!(p, Prioridad::BAJA);
        let p: Prioridad = serde_json::from_str("\"alta\"").unwrap();
        assert_eq!(p, Prioridad::ALTA);
        assert!(serde_json::from_str::<Prioridad>("7").is_err());
        assert_eq!(serde_json::to_string(&Prioridad::MEDIA).unwrap(), "2");
    }
}
