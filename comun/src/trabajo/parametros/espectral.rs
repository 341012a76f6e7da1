//! Parameters of the spectral kernels: [`ParamsFft`] (a seeded complex signal's FFT) and
//! [`ParamsAutovalores`] (a seeded symmetric matrix's eigenvalues).

use serde::{Deserialize, Serialize};

use super::en_rango;
use crate::ErrorCampo;

/// Most points (`n × m`) of an `fft` signal: 2²⁶ complex f64, 1 GiB in and out on an esclavo.
pub const MAX_PUNTOS_FFT: u64 = 1 << 26;
/// Largest `autovalores` matrix side: an 8192² f64 matrix takes 512 MiB.
pub const MAX_N_AUTOVALORES: u32 = 8_192;

/// Parameters of an `fft` job: the complex FFT of a seeded f64 signal of `n × m` points (`m = 1`:
/// 1-D of length `n`; `m > 1`: 2-D, `n` rows × `m` columns). Any sizes, primes too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ParamsFft {
    /// Length (1-D) or rows (2-D); alias `size`. Default 2²⁰.
    #[serde(alias = "size")]
    pub n: u32,
    /// Columns; 1 for a 1-D transform. Default 1.
    pub m: u32,
    /// Seed of the signal. Default 1.
    pub semilla: u64,
}

impl Default for ParamsFft {
    fn default() -> Self {
        Self {
            n: 1 << 20,
            m: 1,
            semilla: 1,
        }
    }
}

impl ParamsFft {
    /// Checks every parameter against the documented limits.
    pub fn new(n: u32, m: u32, semilla: u64) -> Result<Self, ErrorCampo> {
        en_rango("n", n.into(), MAX_PUNTOS_FFT)?;
        en_rango("m", m.into(), MAX_PUNTOS_FFT)?;
        let puntos = u64::from(n) * u64::from(m);
        if puntos > MAX_PUNTOS_FFT {
            return Err(ErrorCampo::new(
                "n",
                format!("n × m = {puntos} exceeds the limit of {MAX_PUNTOS_FFT} points"),
            )
            .con_limite(MAX_PUNTOS_FFT));
        }
        Ok(Self { n, m, semilla })
    }

    /// Re-checks a value built or decoded without [`ParamsFft::new`].
    pub fn validado(self) -> Result<Self, ErrorCampo> {
        Self::new(self.n, self.m, self.semilla)
    }

    /// `n × m`.
    pub fn puntos(&self) -> u64 {
        u64::from(self.n) * u64::from(self.m)
    }
}

/// Parameters of an `autovalores` job: every eigenvalue of a seeded random symmetric `n × n`
/// f64 matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ParamsAutovalores {
    /// Matrix side; alias `size`. Default 512.
    #[serde(alias = "size")]
    pub n: u32,
    /// Seed of the matrix. Default 1.
    pub semilla: u64,
}

impl Default for ParamsAutovalores {
    fn default() -> Self {
        Self { n: 512, semilla: 1 }
    }
}

impl ParamsAutovalores {
    /// Checks every parameter against the documented limits.
    pub fn new(n: u32, semilla: u64) -> Result<Self, ErrorCampo> {
        en_rango("n", n.into(), MAX_N_AUTOVALORES.into())?;
        Ok(Self { n, semilla })
    }

    /// Re-checks a value built or decoded without [`ParamsAutovalores::new`].
    pub fn validado(self) -> Result<Self, ErrorCampo> {
        Self::new(self.n, self.semilla)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_takes_any_size_up_to_the_point_limit() {
        assert!(ParamsFft::new(1, 1, 0).is_ok());
        assert!(ParamsFft::new(1_000_003, 1, 0).is_ok());
        assert_eq!(ParamsFft::new(0, 1, 0).unwrap_err().campo, "n");
        assert_eq!(ParamsFft::new(4, 0, 0).unwrap_err().campo, "m");
        let e = ParamsFft::new(1 << 13, (1 << 13) + 1, 0).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("n", Some(MAX_PUNTOS_FFT)));
        assert!(ParamsFft::default().validado().is_ok());
    }

    #[test]
    fn autovalores_limits_n() {
        assert!(ParamsAutovalores::new(1, 0).is_ok());
        let e = ParamsAutovalores::new(MAX_N_AUTOVALORES + 1, 0).unwrap_err();
        assert_eq!(e.limite, Some(u64::from(MAX_N_AUTOVALORES)));
        assert!(ParamsAutovalores::default().validado().is_ok());
    }

    #[test]
    fn the_original_name_size_is_read_as_n_and_absent_fields_take_defaults() {
        let p: ParamsFft = serde_json::from_str(r#"{"size": 1000}"#).unwrap();
        assert_eq!(
            p,
            ParamsFft {
                n: 1000,
                ..ParamsFft::default()
            }
        );
        let p: ParamsAutovalores = serde_json::from_str(r#"{"size": 64}"#).unwrap();
        assert_eq!(p.n, 64);
    }
}
