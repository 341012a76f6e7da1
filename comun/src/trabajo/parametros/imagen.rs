//! Parameters of an `imagen` job ([`ParamsImagen`]): a chain of [`Filtro`]s over an uploaded PNG
//! or a generated test image.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ParamsJulia;
use crate::ErrorCampo;
use crate::trabajo::por_nombre_o_alias;

/// Most filters in one `imagen` chain.
pub const MAX_FILTROS: usize = 16;
/// Largest Gaussian `sigma` of `desenfoque`, in pixels.
pub const MAX_SIGMA: f32 = 64.0;

/// One step of an `imagen` chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Filtro {
    /// Gaussian blur of `sigma` pixels; alias `blur`.
    #[serde(alias = "blur")]
    Desenfoque,
    /// Sobel edge magnitude; alias `edges`.
    #[serde(alias = "edges")]
    Sobel,
    /// Sharpening (3×3 unsharp kernel); alias `sharpen`.
    #[serde(alias = "sharpen")]
    Enfocar,
    /// Luma (Rec. 601) to every channel; alias `grayscale`.
    #[serde(alias = "grayscale")]
    Grises,
}

impl Filtro {
    pub const TODOS: [Filtro; 4] = [
        Filtro::Desenfoque,
        Filtro::Sobel,
        Filtro::Enfocar,
        Filtro::Grises,
    ];

    pub fn nombre(self) -> &'static str {
        match self {
            Filtro::Desenfoque => "desenfoque",
            Filtro::Sobel => "sobel",
            Filtro::Enfocar => "enfocar",
            Filtro::Grises => "grises",
        }
    }

    pub fn alias(self) -> Option<&'static str> {
        Some(match self {
            Filtro::Desenfoque => "blur",
            Filtro::Sobel => "edges",
            Filtro::Enfocar => "sharpen",
            Filtro::Grises => "grayscale",
        })
    }
}

impl fmt::Display for Filtro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Filtro {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        por_nombre_o_alias("filtros", &Self::TODOS, Self::nombre, Self::alias, s)
    }
}

/// Parameters of an `imagen` job: `filtros`, in order, over the PNG uploaded as `entrada`, or
/// over a generated `width × height` test image when there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(from = "ImagenLeida")]
pub struct ParamsImagen {
    /// Width of the generated image (alias `image_size` sets both sides). Default 1024.
    pub width: u32,
    /// Height of the generated image. Default 1024.
    pub height: u32,
    /// The chain, 1 to 16 filters. Default `[desenfoque, sobel]`.
    pub filtros: Vec<Filtro>,
    /// Gaussian sigma of `desenfoque`, in pixels, in (0, 64]. Default 2.
    pub sigma: f32,
    /// Id of a PNG uploaded with `POST /imagenes`; none: the generated image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrada: Option<u64>,
}

impl Default for ParamsImagen {
    fn default() -> Self {
        Self {
            width: 1024,
            height: 1024,
            filtros: vec![Filtro::Desenfoque, Filtro::Sobel],
            sigma: 2.0,
            entrada: None,
        }
    }
}

impl ParamsImagen {
    /// Checks every parameter against the documented limits (the sides as a Julia image's:
    /// [`MAX_LADO`](super::MAX_LADO), [`MAX_PIXELES`](super::MAX_PIXELES)).
    pub fn new(
        width: u32,
        height: u32,
        filtros: Vec<Filtro>,
        sigma: f32,
        entrada: Option<u64>,
    ) -> Result<Self, ErrorCampo> {
        ParamsJulia::new(width, height, 1)?;
        if filtros.is_empty() || filtros.len() > MAX_FILTROS {
            return Err(ErrorCampo::new(
                "filtros",
                format!("{} filters: a chain has 1 ..= {MAX_FILTROS}", filtros.len()),
            )
            .con_limite(MAX_FILTROS as u64));
        }
        if !(sigma.is_finite() && sigma > 0.0 && sigma <= MAX_SIGMA) {
            return Err(
                ErrorCampo::new("sigma", format!("{sigma} is outside (0, {MAX_SIGMA}]"))
                    .con_limite(MAX_SIGMA as u64),
            );
        }
        Ok(Self {
            width,
            height,
            filtros,
            sigma,
            entrada,
        })
    }

    /// Re-checks a value built or decoded without [`ParamsImagen::new`].
    pub fn validado(self) -> Result<Self, ErrorCampo> {
        Self::new(
            self.width,
            self.height,
            self.filtros,
            self.sigma,
            self.entrada,
        )
    }

    pub fn pixeles(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// [`ParamsImagen`] as read: every field optional, and the original system's `image_size`.
#[derive(Deserialize)]
struct ImagenLeida {
    width: Option<u32>,
    height: Option<u32>,
    image_size: Option<u32>,
    filtros: Option<Vec<Filtro>>,
    sigma: Option<f32>,
    entrada: Option<u64>,
}

impl From<ImagenLeida> for ParamsImagen {
    fn from(l: ImagenLeida) -> Self {
        let d = ParamsImagen::default();
        let lado = |v: Option<u32>, defecto| v.or(l.image_size).unwrap_or(defecto);
        ParamsImagen {
            width: lado(l.width, d.width),
            height: lado(l.height, d.height),
            filtros: l.filtros.unwrap_or(d.filtros),
            sigma: l.sigma.unwrap_or(d.sigma),
            entrada: l.entrada,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_field_and_the_limit() {
        assert!(ParamsImagen::default().validado().is_ok());
        let f = || vec![Filtro::Sobel];
        assert_eq!(
            ParamsImagen::new(0, 4, f(), 1.0, None).unwrap_err().campo,
            "width"
        );
        let e = ParamsImagen::new(4, 4, vec![], 1.0, None).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("filtros", Some(16)));
        assert!(ParamsImagen::new(4, 4, vec![Filtro::Grises; 17], 1.0, None).is_err());
        let e = ParamsImagen::new(4, 4, f(), 65.0, None).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("sigma", Some(64)));
        assert!(ParamsImagen::new(4, 4, f(), 0.0, None).is_err());
    }

    #[test]
    fn the_original_names_are_read() {
        let p: ParamsImagen =
            serde_json::from_str(r#"{"image_size": 256, "filtros": ["blur", "edges"]}"#).unwrap();
        assert_eq!((p.width, p.height), (256, 256));
        assert_eq!(p.filtros, [Filtro::Desenfoque, Filtro::Sobel]);
        let p: ParamsImagen = serde_json::from_str(r#"{"image_size": 256, "height": 8}"#).unwrap();
        assert_eq!((p.width, p.height), (256, 8));
        assert_eq!("Sharpen".parse::<Filtro>().unwrap(), Filtro::Enfocar);
        let e = "emboss".parse::<Filtro>().unwrap_err();
        assert!(
            e.mensaje.contains("desenfoque, sobel, enfocar or grises"),
            "{e}"
        );
    }
}
