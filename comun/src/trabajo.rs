//! A job (*trabajo*): which kernel, with which parameters, on which backend, how urgent.
//!
//! Every value that comes from a user goes through a validating constructor here, so the rest
//! of the system only ever sees parameters within the documented [limits](self#limits).
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
//! | `semilla` (montecarlo, nbody) | any u64 |
//! | `prioridad` | 1 (alta), 2 (media), 3 (baja) |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;

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

/// A job's id: assigned by the maestro, increasing in order of acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrabajoId(pub u64);

impl fmt::Display for TrabajoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TrabajoId {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse()
            .map(TrabajoId)
            .map_err(|_| ErrorCampo::new("id", format!("'{s}' is not a job id (a whole number)")))
    }
}

/// The kernel a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        let t = s.trim().to_ascii_lowercase();
        Tipo::TODOS
            .into_iter()
            .find(|x| x.nombre() == t)
            .ok_or_else(|| {
                ErrorCampo::new(
                    "tipo",
                    format!(
                        "unknown tipo '{s}' (expected julia, espera, matmul, vector_add, \
                     montecarlo or nbody)"
                    ),
                )
            })
    }
}

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

/// How urgent a job is: 1 (alta) runs before 2 (media) before 3 (baja).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "PrioridadCruda", into = "u8")]
pub struct Prioridad(u8);

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

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Estado {
    /// In the queue, waiting for a slot.
    Pendiente,
    /// Sent to an esclavo, running there.
    Asignado,
    /// Finished with a result.
    Completado,
    /// Every attempt failed.
    Fallido,
    /// Cancelled by a user before it finished.
    Cancelado,
}

impl Estado {
    pub const TODOS: [Estado; 5] = [
        Estado::Pendiente,
        Estado::Asignado,
        Estado::Completado,
        Estado::Fallido,
        Estado::Cancelado,
    ];

    pub fn nombre(self) -> &'static str {
        match self {
            Estado::Pendiente => "pendiente",
            Estado::Asignado => "asignado",
            Estado::Completado => "completado",
            Estado::Fallido => "fallido",
            Estado::Cancelado => "cancelado",
        }
    }

    /// Whether the job will never change again.
    pub fn es_final(self) -> bool {
        matches!(
            self,
            Estado::Completado | Estado::Fallido | Estado::Cancelado
        )
    }
}

impl fmt::Display for Estado {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Estado {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Estado::TODOS
            .into_iter()
            .find(|e| e.nombre() == t)
            .ok_or_else(|| {
                ErrorCampo::new(
                    "estado",
                    format!(
                        "unknown estado '{s}' (expected pendiente, asignado, completado, \
                         fallido or cancelado)"
                    ),
                )
            })
    }
}

/// Parameters of a Julia job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// A job's kernel and its parameters, validated. On the wire: `{"tipo": "julia", "width": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "tipo", rename_all = "snake_case")]
pub enum Parametros {
    Julia(ParamsJulia),
    Espera(ParamsEspera),
    Matmul(ParamsMatmul),
    VectorAdd(ParamsVectorAdd),
    Montecarlo(ParamsMontecarlo),
    Nbody(ParamsNbody),
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
        }
    }

    /// Re-checks the limits (values decoded from the wire bypass the constructors).
    pub fn validar(&self) -> Result<(), ErrorCampo> {
        match *self {
            Parametros::Julia(p) => ParamsJulia::new(p.width, p.height, p.iteraciones).map(|_| ()),
            Parametros::Espera(p) => ParamsEspera::new(p.ms).map(|_| ()),
            Parametros::Matmul(p) => ParamsMatmul::new(p.n, p.iteraciones).map(|_| ()),
            Parametros::VectorAdd(p) => ParamsVectorAdd::new(p.n, p.iteraciones).map(|_| ()),
            Parametros::Montecarlo(p) => ParamsMontecarlo::new(p.muestras, p.semilla).map(|_| ()),
            Parametros::Nbody(p) => ParamsNbody::new(p.particulas, p.pasos, p.semilla).map(|_| ()),
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
        }
    }
}

/// A validated job, ready to be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NuevoTrabajo {
    pub parametros: Parametros,
    pub algoritmo: Algoritmo,
    pub prioridad: Prioridad,
    /// Time limit of each attempt, in seconds (1 ..= [`MAX_PLAZO_S`]); `None`: the maestro's
    /// default (`--plazo-trabajo-s`).
    pub plazo_s: Option<u32>,
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
        let v = serde_json::to_value(p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tipo":"julia","width":3,"height":2,"iteraciones":10})
        );
        assert_eq!(serde_json::from_value::<Parametros>(v).unwrap(), p);
    }
}
