//! [`Tipo`]: the kernel a job runs, by its wire name (`julia`, `espera`, `matmul`,
//! `vector_add`, `montecarlo`, `nbody`).

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
}

impl Tipo {
    pub const TODOS: [Tipo; 6] = [
        Tipo::Julia,
        Tipo::Espera,
        Tipo::Matmul,
        Tipo::VectorAdd,
        Tipo::Montecarlo,
        Tipo::Nbody,
    ];

    pub fn nombre(self) -> &'static str {
        match self {
            Tipo::Julia => "julia",
            Tipo::Espera => "espera",
            Tipo::Matmul => "matmul",
            Tipo::VectorAdd => "vector_add",
            Tipo::Montecarlo => "montecarlo",
            Tipo::Nbody => "nbody",
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
        super::por_nombre("tipo", &Tipo::TODOS, Tipo::nombre, s)
    }
}
