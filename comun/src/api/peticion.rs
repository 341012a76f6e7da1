//! [`PeticionTrabajo`]: the body of `POST /agregar_trabajo` (and each job of `POST /trabajos`,
//! and each named-parameter line of a jobs file): the original system's flat body, with `tipo`
//! and every kernel's parameters as optional fields, and the original names as aliases
//! ([`ALIAS`]). [`PeticionTrabajo::validar`] turns it into a job or names the field at fault.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ErrorCampo;
use crate::trabajo::{
    Algoritmo, AlgoritmoPedido, Conjunto, Etiquetas, Filtro, NuevoTrabajo, Optimizador, Parametros,
    ParamsAutovalores, ParamsEspera, ParamsFft, ParamsImagen, ParamsJulia, ParamsKmeans,
    ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsRedNeuronal, ParamsVectorAdd, Tipo,
    validar_plazo,
};

/// The original system's parameter names, read as the field they name (`"size"` is `n`):
/// as JSON fields of a request and as keys of a jobs-file line. `image_size` is a field of
/// its own (it sets both `width` and `height` of an `imagen` job).
pub const ALIAS: &[(&str, &str)] = &[
    ("iterations", "iteraciones"),
    ("size", "n"),
    ("n_samples", "muestras"),
    ("n_features", "dimensiones"),
    ("input_size", "dimensiones"),
    ("n_clusters", "k"),
    ("hidden_size", "capas"),
    ("epochs", "epocas"),
    ("batch_size", "lote"),
    ("learning_rate", "tasa"),
    ("output_size", "clases"),
];

/// The GPU cluster's job types (`submit_job.py --job-type`, `"job_type"` in its scripts'
/// bodies) and the tipo each one is.
pub const JOB_TYPES: &[(&str, Tipo)] = &[
    ("matrix-multiply", Tipo::Matmul),
    ("matrix_multiply", Tipo::Matmul),
    ("vector-add", Tipo::VectorAdd),
    ("vector_add", Tipo::VectorAdd),
    ("vector_addition", Tipo::VectorAdd),
    ("monte-carlo", Tipo::Montecarlo),
    ("monte_carlo", Tipo::Montecarlo),
    ("monte_carlo_simulation", Tipo::Montecarlo),
    ("neural-network", Tipo::RedNeuronal),
    ("neural_network", Tipo::RedNeuronal),
    ("image-processing", Tipo::Imagen),
    ("image_processing", Tipo::Imagen),
    ("fft", Tipo::Fft),
    ("eigenvalue", Tipo::Autovalores),
    ("kmeans-clustering", Tipo::Kmeans),
    ("kmeans_clustering", Tipo::Kmeans),
];

/// The tipo of a GPU cluster's job type (case and surrounding blanks ignored), or an error on
/// `job_type` listing the names it knows.
pub fn tipo_de_job_type(nombre: &str) -> Result<Tipo, ErrorCampo> {
    crate::trabajo::por_nombre("job_type", JOB_TYPES, |(n, _)| n, nombre).map(|(_, tipo)| tipo)
}

/// Body of `POST /agregar_trabajo`: the original system's flat body
/// `{algoritmo, width, height, iteraciones, prioridad}`, plus `tipo` and the parameters of the
/// other kernels. The catalogue's kernels (`red_neuronal`, `imagen`, `fft`, `autovalores`,
/// `kmeans`) take every parameter's default when it is absent, so `{"tipo": "fft"}` is a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeticionTrabajo {
    /// The kernel (or its original name: `neural_network`, `image_processing`, `eigenvalue`,
    /// `kmeans_clustering`); `julia` when absent, as in the original system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipo: Option<Tipo>,
    /// The backend; `Paralelo` when absent. The original system's `Numpy` and `juliaCython`
    /// run as `Paralelo` and are kept on the job as `algoritmo_pedido`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algoritmo: Option<AlgoritmoPedido>,
    /// Image width (`julia`; `imagen`'s generated image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height (`julia`; `imagen`'s generated image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Julia iterations, repetitions of a `matmul` / `vector_add`, Lloyd steps of a `kmeans`;
    /// alias `iterations`.
    #[serde(default, alias = "iterations", skip_serializing_if = "Option::is_none")]
    pub iteraciones: Option<u32>,
    /// Milliseconds to sleep, for `espera` jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// Matrix side (`matmul`, `autovalores`), vector length (`vector_add`), signal length or
    /// rows (`fft`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    /// Columns of a 2-D `fft` (1: a 1-D transform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<u32>,
    /// Points drawn by a `montecarlo` job; points of a `kmeans` or `red_neuronal` data set;
    /// alias `n_samples`.
    #[serde(default, alias = "n_samples", skip_serializing_if = "Option::is_none")]
    pub muestras: Option<u64>,
    /// Coordinates of each point (`kmeans`), inputs of the network (`red_neuronal`); aliases
    /// `n_features`, `input_size`.
    #[serde(
        default,
        alias = "n_features",
        alias = "input_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub dimensiones: Option<u32>,
    /// Clusters of a `kmeans`; alias `n_clusters`.
    #[serde(default, alias = "n_clusters", skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    /// Seed; 0 when absent for `montecarlo` and `nbody`, 1 for the catalogue's kernels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semilla: Option<u64>,
    /// Bodies of an `nbody` job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub particulas: Option<u32>,
    /// Steps of an `nbody` job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pasos: Option<u32>,
    /// Hidden layer sizes of a `red_neuronal` (a list, or one number: the original
    /// `hidden_size`).
    #[serde(
        default,
        alias = "hidden_size",
        deserialize_with = "capas",
        skip_serializing_if = "Option::is_none"
    )]
    pub capas: Option<Vec<u32>>,
    /// Training epochs of a `red_neuronal`; alias `epochs`.
    #[serde(default, alias = "epochs", skip_serializing_if = "Option::is_none")]
    pub epocas: Option<u32>,
    /// Minibatch size of a `red_neuronal`; alias `batch_size`.
    #[serde(default, alias = "batch_size", skip_serializing_if = "Option::is_none")]
    pub lote: Option<u32>,
    /// Learning rate of a `red_neuronal`; alias `learning_rate`.
    #[serde(
        default,
        alias = "learning_rate",
        skip_serializing_if = "Option::is_none"
    )]
    pub tasa: Option<f32>,
    /// `sgd` or `adam` (`red_neuronal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizador: Option<Optimizador>,
    /// `blobs` or `espirales` (`red_neuronal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conjunto: Option<Conjunto>,
    /// Classes of a `red_neuronal` set; alias `output_size`.
    #[serde(
        default,
        alias = "output_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub clases: Option<u32>,
    /// Both sides of `imagen`'s generated image (the original system's name); `width` and
    /// `height`, when given, win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u32>,
    /// `imagen`'s chain, in order: `desenfoque`, `sobel`, `enfocar`, `grises` (or `blur`,
    /// `edges`, `sharpen`, `grayscale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtros: Option<Vec<Filtro>>,
    /// Gaussian sigma of `imagen`'s `desenfoque`, in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f32>,
    /// Id of an uploaded PNG (`POST /imagenes`) an `imagen` job reads instead of a generated
    /// image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrada: Option<u64>,
    /// 1 (alta) to 3 (baja); 2 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prioridad: Option<crate::trabajo::Prioridad>,
    /// Time limit of each attempt in seconds; the maestro's default when absent. An attempt
    /// past it is stopped on its esclavo and counts as a failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plazo_s: Option<u64>,
    /// The GPU cluster's job type instead of `tipo` (`matrix-multiply`, `vector_addition`,
    /// `monte_carlo_simulation`, `neural-network`, `image-processing`, `fft`, `eigenvalue`,
    /// `kmeans-clustering`…: [`JOB_TYPES`]). Without `algoritmo` or `prefer_gpu` such a job is
    /// `Auto`, and a `matmul` or `vector_add` runs once unless `iteraciones` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// The size, as the GPU cluster's users give it: `n` of `matmul`, `vector_add`, `fft` and
    /// `autovalores`, `muestras` of `montecarlo`, `kmeans` and `red_neuronal`, both sides of an
    /// `imagen` or `julia` image, `particulas` of `nbody`, `ms` of `espera`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The GPU cluster's choice of device: `true` is `Auto` (a GPU when one is free), `false` a
    /// CPU backend (`Paralelo`). An explicit `algoritmo` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_gpu: Option<bool>,
}

/// `capas` as a list, or as one number (the original system's `hidden_size`: one layer).
fn capas<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u32>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum UnaOVarias {
        Una(u32),
        Varias(Vec<u32>),
    }
    Ok(Some(match UnaOVarias::deserialize(d)? {
        UnaOVarias::Una(n) => vec![n],
        UnaOVarias::Varias(v) => v,
    }))
}

/// The parameters each kernel takes (besides `tipo`, `algoritmo`, `prioridad`, `plazo_s`).
pub fn parametros_de(tipo: Tipo) -> &'static [&'static str] {
    match tipo {
        Tipo::Julia => &["width", "height", "iteraciones"],
        Tipo::Espera => &["ms"],
        Tipo::Matmul | Tipo::VectorAdd => &["n", "iteraciones"],
        Tipo::Montecarlo => &["muestras", "semilla"],
        Tipo::Nbody => &["particulas", "pasos", "semilla"],
        Tipo::RedNeuronal => &[
            "capas",
            "epocas",
            "lote",
            "tasa",
            "optimizador",
            "conjunto",
            "muestras",
            "dimensiones",
            "clases",
            "semilla",
        ],
        Tipo::Imagen => &[
            "width",
            "height",
            "image_size",
            "filtros",
            "sigma",
            "entrada",
        ],
        Tipo::Fft => &["n", "m", "semilla"],
        Tipo::Autovalores => &["n", "semilla"],
        Tipo::Kmeans => &["muestras", "dimensiones", "k", "iteraciones", "semilla"],
    }
}

/// A u64 field as the u32 a kernel takes; one too large for it stays too large.
fn a_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl PeticionTrabajo {
    /// A Julia job request, as the original CLI sends it.
    pub fn julia(algoritmo: Algoritmo, p: ParamsJulia, prioridad: crate::Prioridad) -> Self {
        Self {
            tipo: Some(Tipo::Julia),
            algoritmo: Some(algoritmo.into()),
            width: Some(p.width),
            height: Some(p.height),
            iteraciones: Some(p.iteraciones),
            prioridad: Some(prioridad),
            ..Self::default()
        }
    }

    /// An `espera` job request.
    pub fn espera(ms: u64, prioridad: crate::Prioridad) -> Self {
        Self {
            tipo: Some(Tipo::Espera),
            ms: Some(ms),
            prioridad: Some(prioridad),
            ..Self::default()
        }
    }

    /// The request that describes `t` (the inverse of [`PeticionTrabajo::validar`]).
    pub fn de(t: &NuevoTrabajo) -> Self {
        let p = Self {
            tipo: Some(t.parametros.tipo()),
            algoritmo: Some(AlgoritmoPedido {
                algoritmo: t.algoritmo,
                original: t.etiquetas.algoritmo_pedido,
            }),
            prioridad: Some(t.prioridad),
            plazo_s: t.plazo_s.map(u64::from),
            ..Self::default()
        };
        p.con_parametros(&t.parametros)
    }

    /// This request with the fields of `parametros` set.
    fn con_parametros(mut self, parametros: &Parametros) -> Self {
        let p = &mut self;
        match parametros {
            Parametros::Julia(j) => {
                (p.width, p.height, p.iteraciones) =
                    (Some(j.width), Some(j.height), Some(j.iteraciones))
            }
            Parametros::Espera(e) => p.ms = Some(e.ms),
            Parametros::Matmul(m) => (p.n, p.iteraciones) = (Some(m.n.into()), Some(m.iteraciones)),
            Parametros::VectorAdd(v) => (p.n, p.iteraciones) = (Some(v.n), Some(v.iteraciones)),
            Parametros::Montecarlo(m) => {
                (p.muestras, p.semilla) = (Some(m.muestras), Some(m.semilla))
            }
            Parametros::Nbody(b) => {
                (p.particulas, p.pasos, p.semilla) =
                    (Some(b.particulas), Some(b.pasos), Some(b.semilla))
            }
            Parametros::RedNeuronal(r) => {
                p.capas = Some(r.capas.clone());
                (p.epocas, p.lote, p.tasa) = (Some(r.epocas), Some(r.lote), Some(r.tasa));
                (p.optimizador, p.conjunto) = (Some(r.optimizador), Some(r.conjunto));
                (p.muestras, p.dimensiones) = (Some(r.muestras.into()), Some(r.dimensiones));
                (p.clases, p.semilla) = (Some(r.clases), Some(r.semilla));
            }
            Parametros::Imagen(i) => {
                (p.width, p.height) = (Some(i.width), Some(i.height));
                (p.filtros, p.sigma) = (Some(i.filtros.clone()), Some(i.sigma));
                p.entrada = i.entrada;
            }
            Parametros::Fft(f) => {
                (p.n, p.m, p.semilla) = (Some(f.n.into()), Some(f.m), Some(f.semilla))
            }
            Parametros::Autovalores(a) => (p.n, p.semilla) = (Some(a.n.into()), Some(a.semilla)),
            Parametros::Kmeans(k) => {
                (p.muestras, p.dimensiones, p.k) =
                    (Some(k.muestras.into()), Some(k.dimensiones), Some(k.k));
                (p.iteraciones, p.semilla) = (Some(k.iteraciones), Some(k.semilla));
            }
        }
        self
    }

    /// Checks the request and turns it into a job, naming the first field at fault.
    pub fn validar(&self) -> Result<NuevoTrabajo, ErrorCampo> {
        self.normalizada()?.validar_propia()
    }

    /// The request with the GPU cluster's fields (`job_type`, `size`, `prefer_gpu`) written as
    /// this cluster's; itself when it has none.
    fn normalizada(&self) -> Result<Cow<'_, Self>, ErrorCampo> {
        if self.job_type.is_none() && self.size.is_none() && self.prefer_gpu.is_none() {
            return Ok(Cow::Borrowed(self));
        }
        let mut p = self.clone();
        let mut auto = false;
        if let Some(nombre) = p.job_type.take() {
            if p.tipo.is_some() {
                let mensaje = "give tipo or job_type, not both";
                return Err(ErrorCampo::new("job_type", mensaje));
            }
            let tipo = tipo_de_job_type(&nombre)?;
            p.tipo = Some(tipo);
            if matches!(tipo, Tipo::Matmul | Tipo::VectorAdd) {
                p.iteraciones.get_or_insert(1);
            }
            auto = true;
        }
        if let Some(size) = p.size.take() {
            p.poner_size(size)?;
        }
        if p.algoritmo.is_none() {
            match p.prefer_gpu {
                Some(false) => p.algoritmo = Some(Algoritmo::Paralelo.into()),
                Some(true) => p.algoritmo = Some(Algoritmo::Auto.into()),
                None if auto => p.algoritmo = Some(Algoritmo::Auto.into()),
                None => {}
            }
        }
        p.prefer_gpu = None;
        Ok(Cow::Owned(p))
    }

    /// `size` written as the size parameter of the request's tipo; refused when that
    /// parameter is given too.
    fn poner_size(&mut self, size: u64) -> Result<(), ErrorCampo> {
        let tipo = self.tipo.unwrap_or(Tipo::Julia);
        let lado = Some(a_u32(size));
        let (campo, ocupado) = match tipo {
            Tipo::Matmul | Tipo::VectorAdd | Tipo::Fft | Tipo::Autovalores => {
                ("n", self.n.replace(size).is_some())
            }
            Tipo::Montecarlo | Tipo::Kmeans | Tipo::RedNeuronal => {
                ("muestras", self.muestras.replace(size).is_some())
            }
            Tipo::Julia | Tipo::Imagen => {
                let antes = self.width.is_some() || self.height.is_some();
                (self.width, self.height) = (lado, lado);
                ("width", antes)
            }
            Tipo::Nbody => ("particulas", self.particulas.replace(a_u32(size)).is_some()),
            Tipo::Espera => ("ms", self.ms.replace(size).is_some()),
        };
        if ocupado {
            let mensaje = format!("is the {campo} of a {tipo} job, which is given too: give one");
            return Err(ErrorCampo::new("size", mensaje));
        }
        Ok(())
    }

    /// [`PeticionTrabajo::validar`] of a request in this cluster's own fields.
    fn validar_propia(&self) -> Result<NuevoTrabajo, ErrorCampo> {
        let tipo = self.tipo.unwrap_or(Tipo::Julia);
        self.solo_parametros_de_su_tipo(tipo)?;
        let pedido = self.algoritmo.unwrap_or(Algoritmo::Paralelo.into());
        let algoritmo = pedido.algoritmo;
        if algoritmo == Algoritmo::Cuda && !tipo.tiene_cuda() {
            return Err(ErrorCampo::new(
                "algoritmo",
                format!(
                    "tipo {tipo} has no GPU version (docs/kernels.md says why): use Secuencial, \
                     Paralelo, or Auto (which runs it on a CPU)"
                ),
            ));
        }
        Ok(NuevoTrabajo {
            parametros: self.parametros(tipo)?,
            algoritmo,
            prioridad: self.prioridad.unwrap_or_default(),
            plazo_s: self.plazo_s.map(validar_plazo).transpose()?,
            etiquetas: Etiquetas {
                algoritmo_pedido: pedido.original,
                ..Etiquetas::default()
            },
        })
    }

    /// Refuses a parameter that `tipo` does not take (`width` on an `espera` job).
    fn solo_parametros_de_su_tipo(&self, tipo: Tipo) -> Result<(), ErrorCampo> {
        let permitidos = parametros_de(tipo);
        let presentes = [
            ("width", self.width.is_some()),
            ("height", self.height.is_some()),
            ("iteraciones", self.iteraciones.is_some()),
            ("ms", self.ms.is_some()),
            ("n", self.n.is_some()),
            ("m", self.m.is_some()),
            ("muestras", self.muestras.is_some()),
            ("dimensiones", self.dimensiones.is_some()),
            ("k", self.k.is_some()),
            ("semilla", self.semilla.is_some()),
            ("particulas", self.particulas.is_some()),
            ("pasos", self.pasos.is_some()),
            ("capas", self.capas.is_some()),
            ("epocas", self.epocas.is_some()),
            ("lote", self.lote.is_some()),
            ("tasa", self.tasa.is_some()),
            ("optimizador", self.optimizador.is_some()),
            ("conjunto", self.conjunto.is_some()),
            ("clases", self.clases.is_some()),
            ("image_size", self.image_size.is_some()),
            ("filtros", self.filtros.is_some()),
            ("sigma", self.sigma.is_some()),
            ("entrada", self.entrada.is_some()),
        ];
        match presentes
            .into_iter()
            .find(|(campo, presente)| *presente && !permitidos.contains(campo))
        {
            Some((campo, _)) => Err(ErrorCampo::new(
                campo,
                format!(
                    "not a parameter of tipo {tipo} (its parameters: {})",
                    permitidos.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// The kernel's parameters, each one `tipo` requires present and within its limits.
    fn parametros(&self, tipo: Tipo) -> Result<Parametros, ErrorCampo> {
        let falta =
            |campo: &str| ErrorCampo::new(campo, format!("missing (required for tipo {tipo})"));
        let req = |campo: &'static str, v: Option<u32>| v.ok_or_else(|| falta(campo));
        let req64 = |campo: &'static str, v: Option<u64>| v.ok_or_else(|| falta(campo));
        let semilla = self.semilla.unwrap_or(0);
        Ok(match tipo {
            Tipo::Julia => Parametros::Julia(ParamsJulia::new(
                req("width", self.width)?,
                req("height", self.height)?,
                req("iteraciones", self.iteraciones)?,
            )?),
            Tipo::Espera => Parametros::Espera(ParamsEspera::new(req64("ms", self.ms)?)?),
            Tipo::Matmul => Parametros::Matmul(ParamsMatmul::new(
                a_u32(req64("n", self.n)?),
                req("iteraciones", self.iteraciones)?,
            )?),
            Tipo::VectorAdd => Parametros::VectorAdd(ParamsVectorAdd::new(
                req64("n", self.n)?,
                req("iteraciones", self.iteraciones)?,
            )?),
            Tipo::Montecarlo => Parametros::Montecarlo(ParamsMontecarlo::new(
                req64("muestras", self.muestras)?,
                semilla,
            )?),
            Tipo::Nbody => Parametros::Nbody(ParamsNbody::new(
                req("particulas", self.particulas)?,
                req("pasos", self.pasos)?,
                semilla,
            )?),
            _ => self.parametros_del_catalogo(tipo)?,
        })
    }

    /// The parameters of the catalogue's kernels: each absent one takes its default.
    fn parametros_del_catalogo(&self, tipo: Tipo) -> Result<Parametros, ErrorCampo> {
        let n = self.n.map(a_u32);
        let muestras = self.muestras.map(a_u32);
        Ok(match tipo {
            Tipo::Fft => {
                let d = ParamsFft::default();
                let semilla = self.semilla.unwrap_or(d.semilla);
                Parametros::Fft(ParamsFft::new(
                    n.unwrap_or(d.n),
                    self.m.unwrap_or(d.m),
                    semilla,
                )?)
            }
            Tipo::Autovalores => {
                let d = ParamsAutovalores::default();
                let semilla = self.semilla.unwrap_or(d.semilla);
                Parametros::Autovalores(ParamsAutovalores::new(n.unwrap_or(d.n), semilla)?)
            }
            Tipo::Kmeans => {
                let d = ParamsKmeans::default();
                Parametros::Kmeans(Box::new(ParamsKmeans::new(
                    muestras.unwrap_or(d.muestras),
                    self.dimensiones.unwrap_or(d.dimensiones),
                    self.k.unwrap_or(d.k),
                    self.iteraciones.unwrap_or(d.iteraciones),
                    self.semilla.unwrap_or(d.semilla),
                )?))
            }
            Tipo::RedNeuronal => {
                let d = ParamsRedNeuronal::default();
                let r = ParamsRedNeuronal {
                    capas: self.capas.clone().unwrap_or(d.capas),
                    epocas: self.epocas.unwrap_or(d.epocas),
                    lote: self.lote.unwrap_or(d.lote),
                    tasa: self.tasa.unwrap_or(d.tasa),
                    optimizador: self.optimizador.unwrap_or(d.optimizador),
                    conjunto: self.conjunto.unwrap_or(d.conjunto),
                    muestras: muestras.unwrap_or(d.muestras),
                    dimensiones: self.dimensiones.unwrap_or(d.dimensiones),
                    clases: self.clases.unwrap_or(d.clases),
                    semilla: self.semilla.unwrap_or(d.semilla),
                };
                Parametros::RedNeuronal(Box::new(r.validado()?))
            }
            Tipo::Imagen => {
                let d = ParamsImagen::default();
                let lado = |v: Option<u32>, defecto| v.or(self.image_size).unwrap_or(defecto);
                Parametros::Imagen(Box::new(ParamsImagen::new(
                    lado(self.width, d.width),
                    lado(self.height, d.height),
                    self.filtros.clone().unwrap_or(d.filtros),
                    self.sigma.unwrap_or(d.sigma),
                    self.entrada,
                )?))
            }
            otro => unreachable!("{otro} is not one of the catalogue's tipos"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leer(json: &str) -> Result<NuevoTrabajo, ErrorCampo> {
        serde_json::from_str::<PeticionTrabajo>(json)
            .unwrap()
            .validar()
    }

    #[test]
    fn the_gpu_clusters_job_types_sizes_and_device_choice_read_as_this_clusters() {
        let t = leer(r#"{"job_type":"matrix-multiply","size":256}"#).unwrap();
        assert_eq!(
            t.parametros,
            Parametros::Matmul(ParamsMatmul::new(256, 1).unwrap())
        );
        assert_eq!(
            t.algoritmo,
            Algoritmo::Auto,
            "no prefer_gpu: a GPU when one is free"
        );
        let t = leer(r#"{"job_type":"matrix_multiply","size":64,"prefer_gpu":false}"#).unwrap();
        assert_eq!(t.algoritmo, Algoritmo::Paralelo);
        let t = leer(r#"{"job_type":"vector_addition","size":1000,"iterations":3}"#).unwrap();
        assert_eq!(
            t.parametros,
            Parametros::VectorAdd(ParamsVectorAdd::new(1000, 3).unwrap())
        );
        let t = leer(r#"{"job_type":"Monte_Carlo_Simulation","size":5000}"#).unwrap();
        assert_eq!(
            t.parametros,
            Parametros::Montecarlo(ParamsMontecarlo::new(5000, 0).unwrap())
        );
        let t = leer(r#"{"job_type":"image-processing","size":64}"#).unwrap();
        let Parametros::Imagen(i) = t.parametros else {
            panic!("{t:?}")
        };
        assert_eq!((i.width, i.height), (64, 64));
        for (nombre, tipo) in JOB_TYPES {
            let t = leer(&format!(r#"{{"job_type":"{nombre}"}}"#));
            match t {
                Ok(t) => assert_eq!(t.parametros.tipo(), *tipo, "{nombre}"),
                // The original kernels need their size: the error names it.
                Err(e) => assert!(
                    ["n", "muestras"].contains(&e.campo.as_str()),
                    "{nombre}: {e}"
                ),
            }
        }
        // An explicit algoritmo wins over prefer_gpu; prefer_gpu alone works on any tipo.
        let t = leer(r#"{"tipo":"fft","algoritmo":"Secuencial","prefer_gpu":true}"#).unwrap();
        assert_eq!(t.algoritmo, Algoritmo::Secuencial);
        let t = leer(r#"{"tipo":"fft","size":100,"prefer_gpu":true}"#).unwrap();
        assert_eq!(
            t.parametros,
            Parametros::Fft(ParamsFft::new(100, 1, 1).unwrap())
        );
        assert_eq!(t.algoritmo, Algoritmo::Auto);

        let campo = |json: &str| leer(json).unwrap_err();
        let e = campo(r#"{"job_type":"svd","size":3}"#);
        assert_eq!(e.campo, "job_type");
        assert!(
            e.mensaje.contains("matrix-multiply") && e.mensaje.contains("'svd'"),
            "{e}"
        );
        let e = campo(r#"{"job_type":"fft","tipo":"fft"}"#);
        assert_eq!(e.campo, "job_type");
        let e = campo(r#"{"job_type":"fft","size":8,"n":8}"#);
        assert_eq!(e.campo, "size");
        assert!(e.mensaje.contains("n of a fft job"), "{e}");
        let e = campo(r#"{"job_type":"matrix-multiply","size":100000}"#);
        assert_eq!((e.campo.as_str(), e.limite), ("n", Some(8192)), "{e}");
    }

    #[test]
    fn a_catalogue_tipo_alone_or_by_its_alias_takes_every_default() {
        for tipo in Tipo::TODOS {
            let Some(defecto) = Parametros::por_defecto(tipo) else {
                continue;
            };
            let t = leer(&format!(r#"{{"tipo":"{tipo}"}}"#)).unwrap();
            assert_eq!(t.parametros, defecto);
            if let Some(alias) = tipo.alias() {
                assert_eq!(
                    leer(&format!(r#"{{"tipo":"{alias}"}}"#))
                        .unwrap()
                        .parametros,
                    defecto
                );
            }
        }
    }

    #[test]
    fn original_field_names_are_read_and_a_request_reads_back_what_it_wrote() {
        let t = leer(
            r#"{"tipo":"neural_network","hidden_size":32,"epochs":3,"batch_size":16,
                "learning_rate":0.5,"n_samples":100,"input_size":2,"output_size":4}"#,
        )
        .unwrap();
        let Parametros::RedNeuronal(r) = &t.parametros else {
            panic!("{t:?}")
        };
        assert_eq!((r.capas.as_slice(), r.epocas, r.lote), (&[32][..], 3, 16));
        assert_eq!((r.muestras, r.clases, r.tasa), (100, 4, 0.5));
        let t = leer(r#"{"tipo":"kmeans_clustering","n_samples":50,"n_features":3,"n_clusters":5,"iterations":2,"algoritmo":"Secuencial"}"#).unwrap();
        assert_eq!(
            t.parametros,
            Parametros::Kmeans(Box::new(ParamsKmeans::new(50, 3, 5, 2, 1).unwrap()))
        );
        let t = leer(r#"{"tipo":"image_processing","image_size":64,"filtros":["blur","grises"]}"#)
            .unwrap();
        let Parametros::Imagen(i) = &t.parametros else {
            panic!("{t:?}")
        };
        assert_eq!((i.width, i.height, i.filtros.len()), (64, 64, 2));
        for json in [
            r#"{"tipo":"fft","size":1000,"m":3,"semilla":9}"#,
            r#"{"tipo":"eigenvalue","size":7}"#,
            r#"{"tipo":"red_neuronal","capas":[],"optimizador":"sgd","conjunto":"blobs","dimensiones":5}"#,
            r#"{"tipo":"imagen","width":8,"height":9,"sigma":1.5,"entrada":4}"#,
        ] {
            let t = leer(json).unwrap();
            let otra = PeticionTrabajo::de(&t).validar().unwrap();
            assert_eq!(otra, t, "{json}");
        }
    }

    #[test]
    fn bad_parameters_name_the_field_and_the_limit() {
        let e = leer(r#"{"tipo":"fft","n":100000,"m":100000}"#).unwrap_err();
        assert_eq!(
            (e.campo.as_str(), e.limite),
            ("n", Some(crate::trabajo::MAX_PUNTOS_FFT))
        );
        let e = leer(r#"{"tipo":"autovalores","n":99999999999}"#).unwrap_err();
        assert_eq!(e.limite, Some(u64::from(crate::trabajo::MAX_N_AUTOVALORES)));
        let e = leer(r#"{"tipo":"kmeans","k":20,"muestras":10}"#).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("k", Some(10)));
        let e = leer(r#"{"tipo":"red_neuronal","capas":[1,2,3,4,5]}"#).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("capas", Some(4)));
        let e = leer(r#"{"tipo":"imagen","sigma":100}"#).unwrap_err();
        assert_eq!((e.campo.as_str(), e.limite), ("sigma", Some(64)));
        let e = leer(r#"{"tipo":"fft","k":3}"#).unwrap_err();
        assert!(
            e.mensaje
                .starts_with("not a parameter of tipo fft (its parameters: n, m, semilla)")
        );
        let e = leer(r#"{"tipo":"fft","size":3,"n":4}"#).unwrap_err();
        assert_eq!(e.campo, "size", "{e}");
    }

    #[test]
    fn cuda_is_refused_for_a_tipo_without_a_gpu_version_and_taken_for_the_others() {
        for tipo in Tipo::TODOS
            .into_iter()
            .filter(|t| Parametros::por_defecto(*t).is_some())
        {
            let r = leer(&format!(r#"{{"tipo":"{tipo}","algoritmo":"Cuda"}}"#));
            if tipo.tiene_cuda() {
                assert_eq!(r.unwrap().algoritmo, Algoritmo::Cuda);
            } else {
                let e = r.unwrap_err();
                assert_eq!(e.campo, "algoritmo");
                assert!(e.mensaje.contains("no GPU version"), "{e}");
                assert_eq!(
                    leer(&format!(r#"{{"tipo":"{tipo}","algoritmo":"Auto"}}"#))
                        .unwrap()
                        .algoritmo,
                    Algoritmo::Auto
                );
            }
        }
    }
}
