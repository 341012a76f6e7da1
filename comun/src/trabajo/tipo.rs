//! [`Tipo`]: the kernel a job runs, by its wire name (`julia`, `espera`, `matmul`,
//! `vector_add`, `montecarlo`, `nbody`, `red_neuronal`, `imagen`, `fft`, `autovalores`,
//! `kmeans`), reading the original system's names (`neural_network`, …) as aliases.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;

/// The kernel a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tipo {
    /// The Julia set fractal.
    Julia,
    /// Sleep for `ms` milliseconds: for tests and for measuring the cluster's own overhead.
    Espera,
    /// f32 matrix product C = A·B of seeded random n×n matrices.
    Matmul,
    /// f32 c = a + b on n elements.
    VectorAdd,
    /// An estimate of π from counter-based random numbers (Philox4x32-10).
    Montecarlo,
    /// A softened-gravity particle simulation in f32.
    Nbody,
    /// Trains a multi-layer perceptron on a seeded synthetic classification set; alias
    /// `neural_network`.
    #[serde(alias = "neural_network")]
    RedNeuronal,
    /// A chain of filters over an uploaded PNG or a generated test image; alias
    /// `image_processing`.
    #[serde(alias = "image_processing")]
    Imagen,
    /// Complex FFT (1-D or 2-D, any size) of a seeded signal.
    Fft,
    /// All eigenvalues of a seeded random symmetric matrix; alias `eigenvalue`.
    #[serde(alias = "eigenvalue")]
    Autovalores,
    /// Lloyd's k-means on seeded Gaussian blobs; alias `kmeans_clustering`.
    #[serde(alias = "kmeans_clustering")]
    Kmeans,
}

impl Tipo {
    pub const TODOS: [Tipo; 11] = [
        Tipo::Julia,
        Tipo::Espera,
        Tipo::Matmul,
        Tipo::VectorAdd,
        Tipo::Montecarlo,
        Tipo::Nbody,
        Tipo::RedNeuronal,
        Tipo::Imagen,
        Tipo::Fft,
        Tipo::Autovalores,
        Tipo::Kmeans,
    ];

    /// The wire name: how a tipo is shown and stored.
    pub fn nombre(self) -> &'static str {
        match self {
            Tipo::Julia => "julia",
            Tipo::Espera => "espera",
            Tipo::Matmul => "matmul",
            Tipo::VectorAdd => "vector_add",
            Tipo::Montecarlo => "montecarlo",
            Tipo::Nbody => "nbody",
            Tipo::RedNeuronal => "red_neuronal",
            Tipo::Imagen => "imagen",
            Tipo::Fft => "fft",
            Tipo::Autovalores => "autovalores",
            Tipo::Kmeans => "kmeans",
        }
    }

    /// The original system's name for it, read wherever a tipo is read, when it differs.
    pub fn alias(self) -> Option<&'static str> {
        match self {
            Tipo::RedNeuronal => Some("neural_network"),
            Tipo::Imagen => Some("image_processing"),
            Tipo::Autovalores => Some("eigenvalue"),
            Tipo::Kmeans => Some("kmeans_clustering"),
            _ => None,
        }
    }

    /// Whether the kernel has a GPU version: `Cuda` is refused for a tipo without one, and
    /// `Auto` never picks it. Matches each kernel module's `CUDA` constant (kernels checks).
    pub fn tiene_cuda(self) -> bool {
        match self {
            // Sleeps wherever it runs: a `Cuda` espera holds a GPU slot, as tests need.
            Tipo::Espera => true,
            Tipo::Julia | Tipo::Matmul | Tipo::VectorAdd | Tipo::Montecarlo | Tipo::Nbody => true,
            Tipo::RedNeuronal => true,
            Tipo::Imagen => true,
            Tipo::Fft => true,
            Tipo::Autovalores => true,
            Tipo::Kmeans => true,
        }
    }
}

impl fmt::Display for Tipo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Tipo {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        super::por_nombre_o_alias("tipo", &Tipo::TODOS, Tipo::nombre, Tipo::alias, s)
    }
}
