//! Parameters of a `red_neuronal` job ([`ParamsRedNeuronal`]): a multi-layer perceptron
//! trained on a seeded synthetic set, with its [`Optimizador`] and its data set ([`Conjunto`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::en_rango;
use super::kmeans::{MAX_DIMENSIONES, datos_en_rango};
use crate::ErrorCampo;
use crate::trabajo::por_nombre_o_alias;

/// Most hidden layers of a `red_neuronal` network.
pub const MAX_CAPAS: usize = 4;
/// Most neurons of a hidden layer. With [`MAX_CAPAS`] and [`MAX_DIMENSIONES`] this bounds a
/// network to about 55 million weights (with gradients and Adam's moments, under 1 GiB).
pub const MAX_NEURONAS: u32 = 4_096;
/// Most training epochs.
pub const MAX_EPOCAS: u32 = 10_000;
/// Most samples of a `red_neuronal` set (20% of them held out for the test accuracy).
pub const MAX_MUESTRAS_RED: u32 = 1_000_000;
/// Most classes of a `red_neuronal` set.
pub const MAX_CLASES: u32 = 100;
/// Largest learning rate.
pub const MAX_TASA: f32 = 10.0;
/// Most f32 values a minibatch keeps while training (every layer's activations and two
/// gradient buffers): 2²⁸, 1 GiB.
pub const MAX_FLOTANTES_LOTE: u64 = 1 << 28;

/// How a `red_neuronal` job updates its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Optimizador {
    /// Plain minibatch stochastic gradient descent.
    Sgd,
    /// Adam (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸).
    Adam,
}

/// The seeded synthetic classification set a `red_neuronal` job trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Conjunto {
    /// One Gaussian blob per class, in any number of dimensions.
    Blobs,
    /// Interleaved spiral arms, one per class, in 2 dimensions; alias `spirals`.
    #[serde(alias = "spirals")]
    Espirales,
}

impl Optimizador {
    pub const TODOS: [Optimizador; 2] = [Optimizador::Sgd, Optimizador::Adam];

    pub fn nombre(self) -> &'static str {
        match self {
            Optimizador::Sgd => "sgd",
            Optimizador::Adam => "adam",
        }
    }
}

impl Conjunto {
    pub const TODOS: [Conjunto; 2] = [Conjunto::Blobs, Conjunto::Espirales];

    pub fn nombre(self) -> &'static str {
        match self {
            Conjunto::Blobs => "blobs",
            Conjunto::Espirales => "espirales",
        }
    }

    fn alias(self) -> Option<&'static str> {
        (self == Conjunto::Espirales).then_some("spirals")
    }
}

impl fmt::Display for Optimizador {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl fmt::Display for Conjunto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Optimizador {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        por_nombre_o_alias("optimizador", &Self::TODOS, Self::nombre, |_| None, s)
    }
}

impl FromStr for Conjunto {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        por_nombre_o_alias("conjunto", &Self::TODOS, Self::nombre, Self::alias, s)
    }
}

/// Parameters of a `red_neuronal` job: a perceptron with `capas` hidden ReLU layers and a
/// softmax output, trained with cross-entropy for `epocas` epochs of minibatches of `lote` on
/// 80% of `muestras` points of `conjunto`, tested on the other 20%, all from `semilla`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ParamsRedNeuronal {
    /// Hidden layer sizes, 0 to 4 of them; alias `hidden_size` (one number: one layer).
    /// Default `[64, 64]`.
    #[serde(alias = "hidden_size", deserialize_with = "una_o_varias")]
    pub capas: Vec<u32>,
    /// Passes over the training set; alias `epochs`. Default 10.
    #[serde(alias = "epochs")]
    pub epocas: u32,
    /// Minibatch size; alias `batch_size`. Default 64.
    #[serde(alias = "batch_size")]
    pub lote: u32,
    /// Learning rate; alias `learning_rate`. Default 0.01.
    #[serde(alias = "learning_rate")]
    pub tasa: f32,
    /// Default `adam`.
    pub optimizador: Optimizador,
    /// Default `espirales`.
    pub conjunto: Conjunto,
    /// Points, 20% of them held out; alias `n_samples`. Default 4096.
    #[serde(alias = "n_samples")]
    pub muestras: u32,
    /// Inputs of the network (`espirales` has 2); alias `input_size`. Default 2.
    #[serde(alias = "input_size")]
    pub dimensiones: u32,
    /// Outputs of the network; alias `output_size`. Default 3.
    #[serde(alias = "output_size")]
    pub clases: u32,
    /// Seed of the data, the initial weights and the shuffles. Default 1.
    pub semilla: u64,
}

impl Default for ParamsRedNeuronal {
    fn default() -> Self {
        Self {
            capas: vec![64, 64],
            epocas: 10,
            lote: 64,
            tasa: 0.01,
            optimizador: Optimizador::Adam,
            conjunto: Conjunto::Espirales,
            muestras: 4_096,
            dimensiones: 2,
            clases: 3,
            semilla: 1,
        }
    }
}

impl ParamsRedNeuronal {
    /// Checks every parameter against the documented limits (build it as a struct with
    /// `..Default::default()`, then call this).
    pub fn validado(self) -> Result<Self, ErrorCampo> {
        if self.capas.len() > MAX_CAPAS {
            return Err(ErrorCampo::new(
                "capas",
                format!(
                    "{} hidden layers exceed the limit of {MAX_CAPAS}",
                    self.capas.len()
                ),
            )
            .con_limite(MAX_CAPAS as u64));
        }
        for &neuronas in &self.capas {
            en_rango("capas", neuronas.into(), MAX_NEURONAS.into())?;
        }
        en_rango("epocas", self.epocas.into(), MAX_EPOCAS.into())?;
        en_rango("muestras", self.muestras.into(), MAX_MUESTRAS_RED.into())?;
        if self.muestras < 2 {
            return Err(ErrorCampo::new(
                "muestras",
                "must be at least 2 (one to train on, one to test)",
            ));
        }
        en_rango("lote", self.lote.into(), self.muestras.into())?;
        self.validar_tasa()?;
        en_rango(
            "dimensiones",
            self.dimensiones.into(),
            MAX_DIMENSIONES.into(),
        )?;
        if self.dimensiones < 2 || (self.conjunto == Conjunto::Espirales && self.dimensiones != 2) {
            return Err(ErrorCampo::new(
                "dimensiones",
                format!(
                    "{} is not valid for conjunto {} (espirales: exactly 2; blobs: 2 ..= \
                     {MAX_DIMENSIONES})",
                    self.dimensiones, self.conjunto
                ),
            ));
        }
        datos_en_rango(self.muestras, self.dimensiones)?;
        en_rango("clases", self.clases.into(), MAX_CLASES.into())?;
        if self.clases < 2 {
            return Err(ErrorCampo::new("clases", "must be at least 2"));
        }
        self.validar_memoria()?;
        Ok(self)
    }

    /// Layer widths, input to output: `dimensiones`, each of `capas`, `clases`.
    pub fn anchos(&self) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.capas.len() + 2);
        v.push(self.dimensiones);
        v.extend(&self.capas);
        v.push(self.clases);
        v
    }

    /// Points trained on: all but the held-out 20% (at least one point).
    pub fn entrenamiento(&self) -> u32 {
        self.muestras - (self.muestras / 5).max(1)
    }

    /// Weights and biases: Σ (in·out + out) over the layers.
    pub fn pesos(&self) -> u64 {
        let anchos = self.anchos();
        anchos
            .windows(2)
            .map(|w| u64::from(w[0]) * u64::from(w[1]) + u64::from(w[1]))
            .sum()
    }

    /// f32 values per point of a minibatch: every layer's activations and two gradient
    /// buffers as wide as the widest layer.
    fn flotantes_por_punto(&self) -> u64 {
        let anchos = self.anchos();
        let ancho_max = anchos.iter().copied().max().unwrap_or(0);
        anchos.iter().map(|&a| u64::from(a)).sum::<u64>() + 2 * u64::from(ancho_max)
    }

    /// The memory a minibatch takes on an esclavo ([`MAX_FLOTANTES_LOTE`]; the weights are
    /// bounded by the layer limits).
    fn validar_memoria(&self) -> Result<(), ErrorCampo> {
        let por_punto = self.flotantes_por_punto();
        let lote = u64::from(self.lote.min(self.entrenamiento()));
        if lote * por_punto > MAX_FLOTANTES_LOTE {
            let max_lote = MAX_FLOTANTES_LOTE / por_punto;
            return Err(ErrorCampo::new(
                "lote",
                format!(
                    "a minibatch of {lote} keeps {} values, over the limit of \
                     {MAX_FLOTANTES_LOTE}: at most {max_lote} with these layers",
                    lote * por_punto
                ),
            )
            .con_limite(max_lote));
        }
        Ok(())
    }

    fn validar_tasa(&self) -> Result<(), ErrorCampo> {
        if self.tasa.is_finite() && self.tasa > 0.0 && self.tasa <= MAX_TASA {
            return Ok(());
        }
        Err(
            ErrorCampo::new("tasa", format!("{} is outside (0, {MAX_TASA}]", self.tasa))
                .con_limite(MAX_TASA as u64),
        )
    }
}

/// `capas` as a list, or as one number (the original system's `hidden_size`: one layer).
fn una_o_varias<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum UnaOVarias {
        Una(u32),
        Varias(Vec<u32>),
    }
    Ok(match UnaOVarias::deserialize(d)? {
        UnaOVarias::Una(n) => vec![n],
        UnaOVarias::Varias(v) => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn con(f: impl FnOnce(&mut ParamsRedNeuronal)) -> Result<ParamsRedNeuronal, ErrorCampo> {
        let mut p = ParamsRedNeuronal::default();
        f(&mut p);
        p.validado()
    }

    #[test]
    fn limits_name_the_field_and_the_limit() {
        assert!(con(|_| ()).is_ok());
        assert!(con(|p| p.capas.clear()).is_ok());
        let e = con(|p| p.capas = vec![8; 5]).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("capas", Some(4)));
        assert_eq!(con(|p| p.capas = vec![8, 0]).unwrap_err().campo, "capas");
        assert_eq!(con(|p| p.epocas = 0).unwrap_err().campo, "epocas");
        let e = con(|p| p.lote = 5000).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("lote", Some(4096)));
        assert_eq!(con(|p| p.tasa = f32::NAN).unwrap_err().campo, "tasa");
        assert_eq!(con(|p| p.tasa = 0.0).unwrap_err().campo, "tasa");
        assert_eq!(con(|p| p.dimensiones = 3).unwrap_err().campo, "dimensiones");
        let blobs = |p: &mut ParamsRedNeuronal| {
            p.conjunto = Conjunto::Blobs;
            p.dimensiones = 3;
        };
        assert!(con(blobs).is_ok());
        assert_eq!(con(|p| p.clases = 1).unwrap_err().campo, "clases");
        let ancha = |p: &mut ParamsRedNeuronal| {
            p.capas = vec![4096; 4];
            p.muestras = 1_000_000;
            p.lote = 1_000_000;
        };
        let e = con(ancha).unwrap_err();
        assert_eq!(e.campo, "lote");
        let max_lote = e.limite.unwrap();
        assert!(
            con(|p| {
                ancha(p);
                p.lote = max_lote as u32;
            })
            .is_ok()
        );
        assert_eq!(
            con(|p| {
                p.muestras = 1;
                p.lote = 1;
            })
            .unwrap_err()
            .campo,
            "muestras"
        );
    }

    #[test]
    fn the_original_names_are_read() {
        let p: ParamsRedNeuronal = serde_json::from_str(
            r#"{"hidden_size": 32, "epochs": 3, "batch_size": 16, "learning_rate": 0.5,
                "n_samples": 100, "input_size": 2, "output_size": 4, "optimizador": "sgd"}"#,
        )
        .unwrap();
        let esperado = ParamsRedNeuronal {
            capas: vec![32],
            epocas: 3,
            lote: 16,
            tasa: 0.5,
            optimizador: Optimizador::Sgd,
            muestras: 100,
            clases: 4,
            ..ParamsRedNeuronal::default()
        };
        assert_eq!(p, esperado);
        let p: ParamsRedNeuronal = serde_json::from_str(r#"{"capas": [3, 4]}"#).unwrap();
        assert_eq!(p.capas, [3, 4]);
        assert_eq!("Spirals".parse::<Conjunto>().unwrap(), Conjunto::Espirales);
        assert!("rmsprop".parse::<Optimizador>().is_err());
    }
}
