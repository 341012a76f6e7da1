//! Parameters of a `kmeans` job ([`ParamsKmeans`]): Lloyd's k-means on seeded Gaussian blobs.

use serde::{Deserialize, Serialize};

use super::en_rango;
use crate::ErrorCampo;

/// Most `kmeans` samples.
pub const MAX_MUESTRAS_KMEANS: u32 = 10_000_000;
/// Most dimensions of a `kmeans` or `red_neuronal` sample.
pub const MAX_DIMENSIONES: u32 = 1_024;
/// Largest `muestras × dimensiones` of a `kmeans` or `red_neuronal` data set: 2²⁸ f32, 1 GiB.
pub const MAX_DATOS: u64 = 1 << 28;
/// Most `kmeans` clusters (and never more than `muestras`).
pub const MAX_K: u32 = 4_096;
/// Most `kmeans` iterations.
pub const MAX_ITERACIONES_KMEANS: u32 = 10_000;

/// Parameters of a `kmeans` job: `iteraciones` Lloyd steps over `muestras` f32 points of
/// `dimensiones` drawn from `k` Gaussian blobs, starting from a k-means++ initialisation, all
/// from `semilla`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ParamsKmeans {
    /// Points; alias `n_samples`. Default 100 000.
    #[serde(alias = "n_samples")]
    pub muestras: u32,
    /// Coordinates of each point; alias `n_features`. Default 16.
    #[serde(alias = "n_features")]
    pub dimensiones: u32,
    /// Clusters; alias `n_clusters`. Default 8.
    #[serde(alias = "n_clusters")]
    pub k: u32,
    /// Lloyd steps; alias `iterations`. Default 20.
    #[serde(alias = "iterations")]
    pub iteraciones: u32,
    /// Seed of the data and of the initialisation. Default 1.
    pub semilla: u64,
}

impl Default for ParamsKmeans {
    fn default() -> Self {
        Self {
            muestras: 100_000,
            dimensiones: 16,
            k: 8,
            iteraciones: 20,
            semilla: 1,
        }
    }
}

impl ParamsKmeans {
    /// Checks every parameter against the documented limits.
    pub fn new(
        muestras: u32,
        dimensiones: u32,
        k: u32,
        iteraciones: u32,
        semilla: u64,
    ) -> Result<Self, ErrorCampo> {
        en_rango("muestras", muestras.into(), MAX_MUESTRAS_KMEANS.into())?;
        en_rango("dimensiones", dimensiones.into(), MAX_DIMENSIONES.into())?;
        datos_en_rango(muestras, dimensiones)?;
        en_rango("k", k.into(), MAX_K.into())?;
        if k > muestras {
            return Err(ErrorCampo::new(
                "k",
                format!("{k} clusters exceed the {muestras} muestras"),
            )
            .con_limite(muestras.into()));
        }
        en_rango(
            "iteraciones",
            iteraciones.into(),
            MAX_ITERACIONES_KMEANS.into(),
        )?;
        Ok(Self {
            muestras,
            dimensiones,
            k,
            iteraciones,
            semilla,
        })
    }

    /// Re-checks a value built or decoded without [`ParamsKmeans::new`].
    pub fn validado(self) -> Result<Self, ErrorCampo> {
        Self::new(
            self.muestras,
            self.dimensiones,
            self.k,
            self.iteraciones,
            self.semilla,
        )
    }
}

/// Checks `muestras × dimensiones` against [`MAX_DATOS`].
pub(super) fn datos_en_rango(muestras: u32, dimensiones: u32) -> Result<(), ErrorCampo> {
    let datos = u64::from(muestras) * u64::from(dimensiones);
    if datos > MAX_DATOS {
        return Err(ErrorCampo::new(
            "muestras",
            format!("muestras × dimensiones = {datos} exceeds the limit of {MAX_DATOS} values"),
        )
        .con_limite(MAX_DATOS));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_field_and_the_limit() {
        assert!(ParamsKmeans::default().validado().is_ok());
        assert!(ParamsKmeans::new(1, 1, 1, 1, 0).is_ok());
        assert!(ParamsKmeans::new(5, 3, 5, 1, 0).is_ok());
        let e = ParamsKmeans::new(5, 3, 6, 1, 0).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("k", Some(5)));
        let e = ParamsKmeans::new(10_000, 2, MAX_K + 1, 1, 0).unwrap_err();
        assert_eq!(e.limite, Some(u64::from(MAX_K)));
        let e = ParamsKmeans::new(MAX_MUESTRAS_KMEANS, 1024, 2, 1, 0).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("muestras", Some(MAX_DATOS)));
        let e = ParamsKmeans::new(100, 2, 2, MAX_ITERACIONES_KMEANS + 1, 0).unwrap_err();
        assert_eq!(e.campo, "iteraciones");
        assert_eq!(
            ParamsKmeans::new(100, 0, 2, 1, 0).unwrap_err().campo,
            "dimensiones"
        );
    }

    #[test]
    fn the_original_names_are_read() {
        let p: ParamsKmeans = serde_json::from_str(
            r#"{"n_samples": 500, "n_features": 3, "n_clusters": 4, "iterations": 7}"#,
        )
        .unwrap();
        assert_eq!(p, ParamsKmeans::new(500, 3, 4, 7, 1).unwrap());
    }
}
