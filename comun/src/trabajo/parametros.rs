//! Each kernel's parameters, checked against the documented limits by their constructors, and
//! [`Parametros`], the one of them a job carries. The five kernels of the catalogue have a
//! file each ([`espectral`]: fft and autovalores; [`kmeans`]; [`red_neuronal`]; [`imagen`]);
//! every field of theirs has a default (a job of about a second on one core), and the original
//! system's field names are read as serde aliases.
//!
//! # Limits
//!
//! | parameter | range |
//! |---|---|
//! | `width`, `height` | 1 ..= [`MAX_LADO`] |
//! | `width × height` | ..= [`MAX_PIXELES`] |
//! | `iteraciones` | 1 ..= [`MAX_ITERACIONES`] |
//! | `ms` (espera) | 0 ..= [`MAX_ESPERA_MS`] |
//! | `n` (matmul) | 1 ..= [`MAX_N_MATMUL`] |
//! | `n` (vector_add) | 1 ..= [`MAX_N_VECTOR`] |
//! | `iteraciones` (matmul, vector_add) | 1 ..= [`MAX_REPETICIONES`] |
//! | `muestras` (montecarlo) | 1 ..= [`MAX_MUESTRAS`] |
//! | `particulas` (nbody) | 1 ..= [`MAX_PARTICULAS`] |
//! | `pasos` (nbody) | 1 ..= [`MAX_PASOS`] |
//! | `plazo_s` (any job) | 1 ..= [`MAX_PLAZO_S`] |
//! | `semilla` (montecarlo, nbody, and the five below) | any u64 |
//! | `n`, `m` (fft) | 1 ..= …, `n × m` ..= [`MAX_PUNTOS_FFT`] |
//! | `n` (autovalores) | 1 ..= [`MAX_N_AUTOVALORES`] |
//! | `muestras` (kmeans) | 1 ..= [`MAX_MUESTRAS_KMEANS`] |
//! | `dimensiones` (kmeans) | 1 ..= [`MAX_DIMENSIONES`] |
//! | `muestras × dimensiones` (kmeans, red_neuronal) | ..= [`MAX_DATOS`] |
//! | `k` (kmeans) | 1 ..= [`MAX_K`], and ..= `muestras` |
//! | `iteraciones` (kmeans) | 1 ..= [`MAX_ITERACIONES_KMEANS`] |
//! | `capas` (red_neuronal) | 0 ..= [`MAX_CAPAS`] layers of 1 ..= [`MAX_NEURONAS`] |
//! | `epocas` (red_neuronal) | 1 ..= [`MAX_EPOCAS`] |
//! | `muestras` (red_neuronal) | 2 ..= [`MAX_MUESTRAS_RED`] |
//! | `lote` (red_neuronal) | 1 ..= `muestras` |
//! | `tasa` (red_neuronal) | (0, [`MAX_TASA`]] |
//! | `dimensiones` (red_neuronal) | 2 (espirales); 2 ..= [`MAX_DIMENSIONES`] (blobs) |
//! | `clases` (red_neuronal) | 2 ..= [`MAX_CLASES`] |
//! | `lote × values per point` (red_neuronal) | ..= [`MAX_FLOTANTES_LOTE`] |
//! | `width`, `height` (imagen) | as Julia's |
//! | `filtros` (imagen) | 1 ..= [`MAX_FILTROS`] |
//! | `sigma` (imagen) | (0, [`MAX_SIGMA`]] |
//! | `prioridad` | 1 (alta), 2 (media), 3 (baja) |

use serde::{Deserialize, Serialize};

use super::Tipo;
use crate::ErrorCampo;

pub mod espectral;
pub mod imagen;
pub mod kmeans;
pub mod red_neuronal;

pub use espectral::{MAX_N_AUTOVALORES, MAX_PUNTOS_FFT, ParamsAutovalores, ParamsFft};
pub use imagen::{Filtro, MAX_FILTROS, MAX_SIGMA, ParamsImagen};
pub use kmeans::{
    MAX_DATOS, MAX_DIMENSIONES, MAX_ITERACIONES_KMEANS, MAX_K, MAX_MUESTRAS_KMEANS, ParamsKmeans,
};
pub use red_neuronal::{
    Conjunto, MAX_CAPAS, MAX_CLASES, MAX_EPOCAS, MAX_FLOTANTES_LOTE, MAX_MUESTRAS_RED,
    MAX_NEURONAS, MAX_TASA, Optimizador, ParamsRedNeuronal,
};

/// Largest accepted `width` or `height` of a Julia image.
pub const MAX_LADO: u32 = 16_384;
/// Largest accepted `width × height` (8192², 256 MiB of counts on the esclavo).
pub const MAX_PIXELES: u64 = 8_192 * 8_192;
/// Largest accepted `iteraciones` of a Julia job.
pub const MAX_ITERACIONES: u32 = 100_000;
/// Longest accepted `espera` job: one hour.
pub const MAX_ESPERA_MS: u64 = 3_600_000;
/// Largest `matmul` side: three 8192² f32 matrices take 768 MiB.
pub const MAX_N_MATMUL: u32 = 8_192;
/// Largest `vector_add` length: three 2²⁸-element f32 vectors take 3 GiB.
pub const MAX_N_VECTOR: u64 = 1 << 28;
/// Most repetitions of a `matmul` or `vector_add` job.
pub const MAX_REPETICIONES: u32 = 1_000;
/// Most `montecarlo` samples: 10¹².
pub const MAX_MUESTRAS: u64 = 1_000_000_000_000;
/// Most `nbody` particles (the work grows with their square).
pub const MAX_PARTICULAS: u32 = 65_536;
/// Most `nbody` steps.
pub const MAX_PASOS: u32 = 100_000;
/// Longest per-job time limit (`plazo_s`): one week.
pub const MAX_PLAZO_S: u32 = 7 * 24 * 3600;

/// Parameters of a Julia job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamsJulia {
    pub width: u32,
    pub height: u32,
    pub iteraciones: u32,
}

impl ParamsJulia {
    /// Checks every parameter against the documented limits.
    pub fn new(width: u32, height: u32, iteraciones: u32) -> Result<Self, ErrorCampo> {
        for (campo, valor) in [("width", width), ("height", height)] {
            if valor == 0 {
                return Err(ErrorCampo::new(campo, "must be at least 1"));
            }
            if valor > MAX_LADO {
                return Err(ErrorCampo::new(
                    campo,
                    format!("{valor} exceeds the limit of {MAX_LADO} pixels"),
                )
                .con_limite(MAX_LADO.into()));
            }
        }
        let pixeles = u64::from(width) * u64::from(height);
        if pixeles > MAX_PIXELES {
            return Err(ErrorCampo::new(
                "width",
                format!("width × height = {pixeles} exceeds the limit of {MAX_PIXELES} pixels"),
            )
            .con_limite(MAX_PIXELES));
        }
        if iteraciones == 0 {
            return Err(ErrorCampo::new("iteraciones", "must be at least 1"));
        }
        if iteraciones > MAX_ITERACIONES {
            return Err(ErrorCampo::new(
                "iteraciones",
                format!("{iteraciones} exceeds the limit of {MAX_ITERACIONES}"),
            )
            .con_limite(MAX_ITERACIONES.into()));
        }
        Ok(Self {
            width,
            height,
            iteraciones,
        })
    }

    pub fn pixeles(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Parameters of an `espera` job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamsEspera {
    pub ms: u64,
}

impl ParamsEspera {
    pub fn new(ms: u64) -> Result<Self, ErrorCampo> {
        if ms > MAX_ESPERA_MS {
            return Err(ErrorCampo::new(
                "ms",
                format!("{ms} exceeds the limit of {MAX_ESPERA_MS} ms"),
            )
            .con_limite(MAX_ESPERA_MS));
        }
        Ok(Self { ms })
    }
}

/// Checks `valor` is within `1..=max`, naming the field and the limit.
fn en_rango(campo: &str, valor: u64, max: u64) -> Result<(), ErrorCampo> {
    if valor == 0 {
        return Err(ErrorCampo::new(campo, "must be at least 1"));
    }
    if valor > max {
        return Err(
            ErrorCampo::new(campo, format!("{valor} exceeds the limit of {max}")).con_limite(max),
        );
    }
    Ok(())
}

/// Parameters of a `matmul` job: `iteraciones` products of two seeded random n×n matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamsMatmul {
    pub n: u32,
    pub iteraciones: u32,
}

impl ParamsMatmul {
    pub fn new(n: u32, iteraciones: u32) -> Result<Self, ErrorCampo> {
        en_rango("n", n.into(), MAX_N_MATMUL.into())?;
        en_rango("iteraciones", iteraciones.into(), MAX_REPETICIONES.into())?;
        Ok(Self { n, iteraciones })
    }
}

/// Parameters of a `vector_add` job: `iteraciones` sums of two n-element vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamsVectorAdd {
    pub n: u64,
    pub iteraciones: u32,
}

impl ParamsVectorAdd {
    pub fn new(n: u64, iteraciones: u32) -> Result<Self, ErrorCampo> {
        en_rango("n", n, MAX_N_VECTOR)?;
        en_rango("iteraciones", iteraciones.into(), MAX_REPETICIONES.into())?;
        Ok(Self { n, iteraciones })
    }
}

/// Parameters of a `montecarlo` job: `muestras` points drawn from the stream of `semilla`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamsMontecarlo {
    pub muestras: u64,
    pub semilla: u64,
}

impl ParamsMontecarlo {
    pub fn new(muestras: u64, semilla: u64) -> Result<Self, ErrorCampo> {
        en_rango("muestras", muestras, MAX_MUESTRAS)?;
        Ok(Self { muestras, semilla })
    }
}

/// Parameters of an `nbody` job: `particulas` bodies placed from `semilla`, `pasos` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamsNbody {
    pub particulas: u32,
    pub pasos: u32,
    pub semilla: u64,
}

impl ParamsNbody {
    pub fn new(particulas: u32, pasos: u32, semilla: u64) -> Result<Self, ErrorCampo> {
        en_rango("particulas", particulas.into(), MAX_PARTICULAS.into())?;
        en_rango("pasos", pasos.into(), MAX_PASOS.into())?;
        Ok(Self {
            particulas,
            pasos,
            semilla,
        })
    }
}

/// A job's kernel and its parameters, validated. On the wire: `{"tipo": "julia", "width": …}`;
/// `tipo` also read by its alias (`neural_network`), the fields of the catalogue's five by
/// their original names, absent ones taking their defaults.
///
/// The variants with lists, or over 16 bytes of fields, are boxed, so a `Parametros` stays at
/// 24 bytes and the maestro's entry per pending job at 48 (a million queued jobs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "tipo", rename_all = "snake_case")]
pub enum Parametros {
    Julia(ParamsJulia),
    Espera(ParamsEspera),
    Matmul(ParamsMatmul),
    VectorAdd(ParamsVectorAdd),
    Montecarlo(ParamsMontecarlo),
    Nbody(ParamsNbody),
    #[serde(alias = "neural_network")]
    RedNeuronal(Box<ParamsRedNeuronal>),
    #[serde(alias = "image_processing")]
    Imagen(Box<ParamsImagen>),
    Fft(ParamsFft),
    #[serde(alias = "eigenvalue")]
    Autovalores(ParamsAutovalores),
    #[serde(alias = "kmeans_clustering")]
    Kmeans(Box<ParamsKmeans>),
}

impl Parametros {
    pub fn tipo(&self) -> Tipo {
        match self {
            Parametros::Julia(_) => Tipo::Julia,
            Parametros::Espera(_) => Tipo::Espera,
            Parametros::Matmul(_) => Tipo::Matmul,
            Parametros::VectorAdd(_) => Tipo::VectorAdd,
            Parametros::Montecarlo(_) => Tipo::Montecarlo,
            Parametros::Nbody(_) => Tipo::Nbody,
            Parametros::RedNeuronal(_) => Tipo::RedNeuronal,
            Parametros::Imagen(_) => Tipo::Imagen,
            Parametros::Fft(_) => Tipo::Fft,
            Parametros::Autovalores(_) => Tipo::Autovalores,
            Parametros::Kmeans(_) => Tipo::Kmeans,
        }
    }

    /// The parameters `tipo` takes when none is given: each field's default.
    pub fn por_defecto(tipo: Tipo) -> Option<Parametros> {
        Some(match tipo {
            Tipo::RedNeuronal => Parametros::RedNeuronal(Box::default()),
            Tipo::Imagen => Parametros::Imagen(Box::default()),
            Tipo::Fft => Parametros::Fft(ParamsFft::default()),
            Tipo::Autovalores => Parametros::Autovalores(ParamsAutovalores::default()),
            Tipo::Kmeans => Parametros::Kmeans(Box::default()),
            Tipo::Julia
            | Tipo::Espera
            | Tipo::Matmul
            | Tipo::VectorAdd
            | Tipo::Montecarlo
            | Tipo::Nbody => return None,
        })
    }

    /// Re-checks the limits (values decoded from the wire bypass the constructors).
    pub fn validar(&self) -> Result<(), ErrorCampo> {
        match self {
            Parametros::Julia(p) => ParamsJulia::new(p.width, p.height, p.iteraciones).map(|_| ()),
            Parametros::Espera(p) => ParamsEspera::new(p.ms).map(|_| ()),
            Parametros::Matmul(p) => ParamsMatmul::new(p.n, p.iteraciones).map(|_| ()),
            Parametros::VectorAdd(p) => ParamsVectorAdd::new(p.n, p.iteraciones).map(|_| ()),
            Parametros::Montecarlo(p) => ParamsMontecarlo::new(p.muestras, p.semilla).map(|_| ()),
            Parametros::Nbody(p) => ParamsNbody::new(p.particulas, p.pasos, p.semilla).map(|_| ()),
            Parametros::RedNeuronal(p) => ParamsRedNeuronal::clone(p).validado().map(|_| ()),
            Parametros::Imagen(p) => ParamsImagen::clone(p).validado().map(|_| ()),
            Parametros::Fft(p) => p.validado().map(|_| ()),
            Parametros::Autovalores(p) => p.validado().map(|_| ()),
            Parametros::Kmeans(p) => p.validado().map(|_| ()),
        }
    }

    /// A short human description: `julia 800×600×100`, `espera 50 ms`, `matmul n=2048 ×3`.
    pub fn descripcion(&self) -> String {
        match self {
            Parametros::Julia(p) => format!("julia {}×{}×{}", p.width, p.height, p.iteraciones),
            Parametros::Espera(p) => format!("espera {} ms", p.ms),
            Parametros::Matmul(p) => format!("matmul n={} ×{}", p.n, p.iteraciones),
            Parametros::VectorAdd(p) => format!("vector_add n={} ×{}", p.n, p.iteraciones),
            Parametros::Montecarlo(p) => {
                format!("montecarlo {} muestras (semilla {})", p.muestras, p.semilla)
            }
            Parametros::Nbody(p) => format!(
                "nbody {} partículas × {} pasos (semilla {})",
                p.particulas, p.pasos, p.semilla
            ),
            Parametros::RedNeuronal(p) => format!(
                "red_neuronal capas={} {} épocas, lote {}, {} {} (semilla {})",
                lista(&p.capas),
                p.epocas,
                p.lote,
                p.optimizador,
                p.conjunto,
                p.semilla
            ),
            Parametros::Imagen(p) => {
                let origen = match p.entrada {
                    Some(id) => format!("entrada #{id}"),
                    None => format!("{}×{}", p.width, p.height),
                };
                format!("imagen {origen} {} (sigma {})", lista(&p.filtros), p.sigma)
            }
            Parametros::Fft(p) if p.m == 1 => format!("fft n={} (semilla {})", p.n, p.semilla),
            Parametros::Fft(p) => format!("fft {}×{} (semilla {})", p.n, p.m, p.semilla),
            Parametros::Autovalores(p) => {
                format!("autovalores n={} (semilla {})", p.n, p.semilla)
            }
            Parametros::Kmeans(p) => format!(
                "kmeans {}×{} k={} ×{} (semilla {})",
                p.muestras, p.dimensiones, p.k, p.iteraciones, p.semilla
            ),
        }
    }
}

/// `a,b,c`: a list as trabajos.txt and `--help` write it.
pub fn lista<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Checks a per-job time limit in seconds: 1 ..= [`MAX_PLAZO_S`].
pub fn validar_plazo(plazo_s: u64) -> Result<u32, ErrorCampo> {
    match u32::try_from(plazo_s) {
        Ok(s) if (1..=MAX_PLAZO_S).contains(&s) => Ok(s),
        _ => Err(ErrorCampo::new(
            "plazo_s",
            format!("{plazo_s} is outside 1 ..= {MAX_PLAZO_S} seconds (one week)"),
        )
        .con_limite(MAX_PLAZO_S.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julia_limits_name_the_field_and_the_limit() {
        assert!(ParamsJulia::new(1, 1, 1).is_ok());
        assert_eq!(ParamsJulia::new(0, 5, 5).unwrap_err().campo, "width");
        assert_eq!(ParamsJulia::new(5, 0, 5).unwrap_err().campo, "height");
        assert_eq!(ParamsJulia::new(5, 5, 0).unwrap_err().campo, "iteraciones");
        let e = ParamsJulia::new(MAX_LADO + 1, 1, 1).unwrap_err();
        assert_eq!(e.limite, Some(u64::from(MAX_LADO)));
        let e = ParamsJulia::new(MAX_LADO, MAX_LADO, 1).unwrap_err();
        assert_eq!(e.limite, Some(MAX_PIXELES));
        let e = ParamsJulia::new(5, 5, MAX_ITERACIONES + 1).unwrap_err();
        assert_eq!(e.limite, Some(u64::from(MAX_ITERACIONES)));
    }

    #[test]
    fn parametros_are_flat_on_the_wire() {
        let p = Parametros::Julia(ParamsJulia::new(3, 2, 10).unwrap());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tipo":"julia","width":3,"height":2,"iteraciones":10})
        );
        assert_eq!(serde_json::from_value::<Parametros>(v).unwrap(), p);
    }

    #[test]
    fn parametros_stay_small() {
        assert!(std::mem::size_of::<Parametros>() <= 24);
    }

    #[test]
    fn a_catalogue_tipo_alone_or_by_its_alias_is_a_valid_job() {
        for tipo in Tipo::TODOS {
            let Some(defecto) = Parametros::por_defecto(tipo) else {
                continue;
            };
            defecto.validar().unwrap();
            let solo = serde_json::json!({ "tipo": tipo.nombre() });
            assert_eq!(serde_json::from_value::<Parametros>(solo).unwrap(), defecto);
            if let Some(alias) = tipo.alias() {
                let solo = serde_json::json!({ "tipo": alias });
                assert_eq!(serde_json::from_value::<Parametros>(solo).unwrap(), defecto);
            }
            let v = serde_json::to_value(&defecto).unwrap();
            assert_eq!(v["tipo"], tipo.nombre(), "stored by the wire name");
            assert_eq!(serde_json::from_value::<Parametros>(v).unwrap(), defecto);
        }
        let p: Parametros =
            serde_json::from_str(r#"{"tipo": "neural_network", "hidden_size": 8}"#).unwrap();
        assert_eq!(
            p,
            Parametros::RedNeuronal(Box::new(ParamsRedNeuronal {
                capas: vec![8],
                ..Default::default()
            }))
        );
    }
}
