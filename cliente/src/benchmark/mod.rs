//! `cliente benchmark`: GPU-versus-CPU benchmark through the cluster. [`ejecutar`] plans and
//! runs the jobs and records each; [`informe`] turns the records into statistics, CSV files and
//! the Markdown report; [`graficos`] draws the charts.

pub mod ejecutar;
pub mod graficos;
pub mod informe;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use comun::{Algoritmo, Tipo};
use serde::{Deserialize, Serialize};

use crate::Contexto;
use crate::api::Maestro;
use crate::args::{ArgsComparativa, Tamano};
use crate::cluster::Cluster;
use crate::error::Error;
use ejecutar::Paso;
use informe::Registro;

/// What a run measures: written to `plan.json` in its folder, so that `--continuar` resumes
/// the same plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opciones {
    /// The kernels; empty: every one but espera.
    pub tipos: Vec<Tipo>,
    /// The sizes for every kernel without its own; empty: each kernel's own range.
    pub tamanos: Vec<u64>,
    /// Each kernel's own sizes, where `--tamanos` named them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tamanos_de: Vec<(Tipo, Vec<u64>)>,
    pub algoritmos: Vec<Algoritmo>,
    pub repeticiones: u32,
    pub rapido: bool,
}

impl Opciones {
    /// The plan of a new run from its flags, or that of the run `--continuar` resumes (its
    /// folder's plan.json), checked: every kernel at every size is a valid job.
    fn de(a: &ArgsComparativa) -> Result<Self, Error> {
        let o = match &a.continuar {
            Some(c) if c.join("plan.json").is_file() => {
                let ruta = c.join("plan.json");
                let texto = std::fs::read_to_string(&ruta)
                    .map_err(|e| Error::local(format!("cannot read {}: {e}", ruta.display())))?;
                serde_json::from_str(&texto).map_err(|e| {
                    Error::local(format!("{}: not a benchmark plan: {e}", ruta.display()))
                })?
            }
            _ => Opciones::de_flags(a),
        };
        for tipo in o.tipos()? {
            for tamano in o.tamanos_de_tipo(tipo) {
                let p = ejecutar::Paso {
                    tipo,
                    tamano,
                    backend: Algoritmo::Paralelo,
                    repeticion: 0,
                    calentamiento: false,
                };
                if let Err(e) = ejecutar::peticion(&p).validar() {
                    return Err(Error::local(format!(
                        "{tipo} at size {tamano}: {e} (choose other --tamanos)"
                    )));
                }
            }
        }
        Ok(o)
    }

    /// The kernels measured. Without --tipos: those --tamanos names on their own (when it
    /// gives no size for all), else every kernel but espera.
    fn tipos(&self) -> Result<Vec<Tipo>, Error> {
        if !self.tipos.is_empty() {
            if let Some((t, _)) = self
                .tamanos_de
                .iter()
                .find(|(t, _)| !self.tipos.contains(t))
            {
                return Err(Error::local(format!(
                    "--tamanos gives sizes for {t}, which --tipos leaves out"
                )));
            }
            return Ok(self.tipos.clone());
        }
        if !self.tamanos_de.is_empty() && self.tamanos.is_empty() {
            let mut ts: Vec<Tipo> = Vec::new();
            for (t, _) in &self.tamanos_de {
                if !ts.contains(t) {
                    ts.push(*t);
                }
            }
            return Ok(ts);
        }
        Ok(Tipo::TODOS
            .into_iter()
            .filter(|t| *t != Tipo::Espera)
            .collect())
    }

    /// The sizes `tipo` is measured at: its own (the last --tamanos entry naming it), else
    /// those for all, else its default range.
    fn tamanos_de_tipo(&self, tipo: Tipo) -> Vec<u64> {
        if let Some((_, propios)) = self.tamanos_de.iter().rev().find(|(t, _)| *t == tipo) {
            propios.clone()
        } else if self.tamanos.is_empty() {
            ejecutar::tamanos_por_defecto(tipo, self.rapido)
        } else {
            self.tamanos.clone()
        }
    }

    /// Writes the plan into the run's folder, as `plan.json`.
    fn guardar(&self, carpeta: &Path) -> Result<(), Error> {
        let ruta = carpeta.join("plan.json");
        let json = serde_json::to_string_pretty(self).map_err(Error::local)?;
        std::fs::write(&ruta, json + "\n")
            .map_err(|e| Error::local(format!("cannot write {}: {e}", ruta.display())))
    }

    fn de_flags(a: &ArgsComparativa) -> Self {
        Opciones {
            tipos: a.tipos.clone(),
            tamanos: a
                .tamanos
                .iter()
                .filter_map(|t| match t {
                    Tamano::Todos(n) => Some(*n),
                    Tamano::De(..) => None,
                })
                .collect(),
            tamanos_de: a
                .tamanos
                .iter()
                .filter_map(|t| match t {
                    Tamano::De(tipo, ns) => Some((*tipo, ns.clone())),
                    Tamano::Todos(_) => None,
                })
                .collect(),
            algoritmos: a.algoritmos.clone(),
            repeticiones: if a.rapido { 1 } else { a.repeticiones },
            rapido: a.rapido,
        }
    }
}

/// Runs `cliente benchmark`; the exit status.
pub async fn benchmark(cx: &Contexto, args: &ArgsComparativa) -> Result<u8, Error> {
    if let Some(carpeta) = &args.informe {
        return reescribir(carpeta);
    }
    // Bad flags change nothing: the plan is checked before the folder is made.
    let a = &Opciones::de(args)?;
    let carpeta = carpeta(args)?;
    if !args.local {
        return medir(cx, &cx.maestro, a, &carpeta, "the cluster at --maestro").await;
    }
    let datos = tempfile::Builder::new()
        .prefix("hpc-benchmark-")
        .tempdir()
        .map_err(|e| Error::local(format!("cannot create a temporary data folder: {e}")))?;
    let config = maestro::Config::new(datos.path());
    let mut cluster = Cluster::iniciar_maestro(config, 0).await?;
    let r = async {
        cluster.iniciar_esclavos(args.esclavos, 1).await?;
        let m = Maestro::new(&cluster.url, None)?;
        let donde = format!(
            "a cluster in this process ({}, 1 slot each)",
            cuantos(args.esclavos.into(), "esclavo")
        );
        medir(cx, &m, a, &carpeta, &donde).await
    }
    .await;
    cluster.parar().await;
    r
}

/// The output folder: `--continuar`'s (which must hold a run), `--salida`, or a new dated one.
/// Made only once the cluster is known to measure something ([`crear`]).
fn carpeta(a: &ArgsComparativa) -> Result<PathBuf, Error> {
    let carpeta = match (&a.continuar, &a.salida) {
        (Some(c), _) => {
            if !c.join("resultados.ndjson").is_file() {
                return Err(Error::local(format!(
                    "--continuar {}: no resultados.ndjson there to resume",
                    c.display()
                )));
            }
            c.clone()
        }
        (None, Some(s)) => s.clone(),
        (None, None) => PathBuf::from("resultados").join(format!(
            "benchmark-{}",
            comun::fecha::para_archivo(comun::ahora_ms())
        )),
    };
    Ok(carpeta)
}

/// Makes the output folder and writes the plan into it.
fn crear(carpeta: &Path, a: &Opciones) -> Result<(), Error> {
    std::fs::create_dir_all(carpeta)
        .map_err(|e| Error::local(format!("cannot create {}: {e}", carpeta.display())))?;
    a.guardar(carpeta)
}

async fn medir(
    cx: &Contexto,
    m: &Maestro,
    a: &Opciones,
    carpeta: &Path,
    donde: &str,
) -> Result<u8, Error> {
    let estado = m.estado().await?;
    let gpus: u32 = estado
        .esclavos
        .iter()
        .filter(|e| e.vivo)
        .map(|e| e.capacidad_gpu)
        .sum();
    let tipos = a.tipos()?;
    let mut notas = Vec::new();
    let mut backends: Vec<Algoritmo> = Vec::new();
    for b in &a.algoritmos {
        if !backends.contains(b) && *b != Algoritmo::Auto {
            backends.push(*b);
        }
    }
    if backends.contains(&Algoritmo::Cuda) && gpus == 0 {
        backends.retain(|b| *b != Algoritmo::Cuda);
        notas.push(
            "No registered esclavo has a GPU: the Cuda columns are missing. Run it again with a \
             GPU esclavo registered to measure them."
                .to_string(),
        );
    }
    if backends.is_empty() {
        return Err(Error::local(
            "no backend left to measure (--algoritmos: Cuda needs a GPU esclavo, and none is \
             registered)",
        ));
    }
    crear(carpeta, a)?;
    let repeticiones = a.repeticiones;
    // Cuda only for a tipo that has a GPU version.
    let mut plan = ejecutar::planificar(&tipos, &|t| a.tamanos_de_tipo(t), &backends, repeticiones);
    plan.retain(|p| p.backend != Algoritmo::Cuda || p.tipo.tiene_cuda());
    let previos = ejecutar::leer_registros(carpeta).map_err(Error::Local)?;
    let hechos: HashSet<_> = previos.iter().map(Registro::clave).collect();
    // Each GPU's peaks, by the `dispositivo` its results name it with.
    let gpus_por_nombre: Vec<(String, comun::nodo::LimitesGpu)> = estado
        .esclavos
        .iter()
        .flat_map(|e| &e.capacidades.gpus)
        .filter_map(|g| {
            Some((
                kernels::dispositivo::prefijo_cuda(&g.nombre, g.indice),
                g.limites?,
            ))
        })
        .collect();
    let limite_de = |r: &Registro| {
        let (_, l) = gpus_por_nombre
            .iter()
            .find(|(prefijo, _)| r.dispositivo.starts_with(prefijo.as_str()))?;
        informe::limite(&r.tipo, &r.unidad, l)
    };
    let barra = crate::progreso::barra(plan.len() as u64, cx.visibles);
    let inicio = comun::ahora_ms();
    let corrida = ejecutar::correr(
        m,
        &plan,
        &hechos,
        carpeta,
        &limite_de,
        |p: &Paso, corrido| {
            barra.set_message(format!("{} {} {}", p.tipo, p.tamano, p.backend));
            barra.inc(1);
            if !corrido {
                // Recorded by an earlier run: counted, but not in the rate the ETA comes from.
                barra.reset_eta();
            }
        },
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await?;
    barra.finish_and_clear();
    let mut registros: Vec<Registro> = previos;
    registros.extend(corrida.nuevos);
    let medidos = plan.iter().filter(|p| !p.calentamiento).count();
    let esclavos = estado
        .esclavos
        .iter()
        .map(describir_esclavo)
        .collect::<Vec<_>>()
        .join(", ");
    let mut entorno = vec![
        ("date".to_string(), comun::fecha::iso8601(inicio)),
        ("cluster".to_string(), donde.to_string()),
        ("esclavos".to_string(), esclavos),
        (
            "cliente".to_string(),
            format!(
                "{} (commit {})",
                env!("CARGO_PKG_VERSION"),
                env!("HPC_COMMIT")
            ),
        ),
    ];
    // A resumed run keeps the environment of its start, and says where it went on.
    if let Some(antes) = leer_cabecera(carpeta)? {
        let date = entorno[0].1.clone();
        entorno = antes.entorno;
        entorno.push(("resumed".to_string(), format!("{date}, on {donde}")));
        for n in antes.notas {
            if !notas.contains(&n) {
                notas.push(n);
            }
        }
    }
    let metodo =
        vec![
        format!(
            "Kernels {}; backends {}; {repeticiones} measured job(s) per kernel, size and backend.",
            tipos.iter().map(|t| t.nombre()).collect::<Vec<_>>().join(", "),
            backends.iter().map(|b| b.nombre()).collect::<Vec<_>>().join(", ")
        ),
        "Jobs are submitted one at a time through the maestro's API and followed to their \
         result; the order of the backends turns at each size, and one warm-up job of each \
         kernel and backend is run first and discarded."
            .to_string(),
        "Kernel time is the esclavo's measure of the kernel alone; end-to-end time is from the \
         submit to the result, as this cliente saw it; overhead is their difference."
            .to_string(),
    ];
    let cabecera = Cabecera {
        entorno,
        metodo,
        notas,
        medidos,
    };
    escribir_cabecera(carpeta, &cabecera)?;
    escribir(carpeta, &registros, &cabecera)?;
    eprintln!(
        "{} jobs recorded; report in {}",
        registros.len(),
        carpeta.join("BENCHMARK_REPORT.md").display()
    );
    if corrida.interrumpida {
        eprintln!(
            "interrupted: `cliente benchmark --continuar {}` runs the rest",
            carpeta.display()
        );
        // 128 + SIGINT, as a shell reports a program Ctrl-C stopped.
        return Ok(130);
    }
    Ok(0)
}

/// An esclavo as the report's environment lists it: cores, memory, slots, and each GPU with
/// its peaks.
fn describir_esclavo(e: &comun::api::EsclavoInfo) -> String {
    let c = &e.capacidades;
    let mut s = format!(
        "{} ({}, {} GiB; {}, {}",
        e.nombre,
        cuantos(c.nucleos.into(), "core"),
        c.memoria_bytes >> 30,
        cuantos(e.capacidad.into(), "slot"),
        cuantos(e.capacidad_gpu.into(), "GPU slot")
    );
    for g in &c.gpus {
        s.push_str(&format!("; GPU {}: {}", g.indice, g.nombre));
        if let Some(l) = g.limites {
            let pico =
                |v: Option<u64>, u: &str| v.map(|v| format!(", {v} {u}")).unwrap_or_default();
            s.push_str(&pico(l.pico_gflops_f32, "GFLOP/s f32"));
            s.push_str(&pico(l.pico_gflops_f64, "GFLOP/s f64"));
            s.push_str(&pico(l.ancho_banda_gb_s, "GB/s"));
        }
    }
    s + ")"
}

/// `1 slot`, `2 slots`.
fn cuantos(n: u64, cosa: &str) -> String {
    format!("{n} {cosa}{}", if n == 1 { "" } else { "s" })
}

/// What a report says of its run besides the records, kept in `cabecera.json` so that
/// `--continuar` and `--informe` write the same report again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cabecera {
    /// Date, cluster, esclavos, cliente version and commit (the devices come from the records).
    pub entorno: Vec<(String, String)>,
    pub metodo: Vec<String>,
    /// What the run itself found (a backend left out, and why).
    pub notas: Vec<String>,
    /// Measured jobs in the plan: fewer records means the run is incomplete.
    pub medidos: usize,
}

fn escribir_cabecera(carpeta: &Path, c: &Cabecera) -> Result<(), Error> {
    let json = serde_json::to_string_pretty(c).map_err(Error::local)?;
    std::fs::write(carpeta.join("cabecera.json"), json + "\n")
        .map_err(|e| Error::local(format!("cannot write cabecera.json: {e}")))
}

/// `cabecera.json` of `carpeta`; `None` when there is none.
fn leer_cabecera(carpeta: &Path) -> Result<Option<Cabecera>, Error> {
    let ruta = carpeta.join("cabecera.json");
    match std::fs::read_to_string(&ruta) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| Error::local(format!("{}: not a report header: {e}", ruta.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::local(format!("cannot read {}: {e}", ruta.display()))),
    }
}

/// `cliente benchmark --informe DIR`: writes the report of a run again from its records,
/// without a cluster (after an upgrade of the report, or records edited by hand).
fn reescribir(carpeta: &Path) -> Result<u8, Error> {
    let Some(cabecera) = leer_cabecera(carpeta)? else {
        return Err(Error::local(format!(
            "--informe {}: no cabecera.json there (not a folder `cliente benchmark` wrote)",
            carpeta.display()
        )));
    };
    let registros = ejecutar::leer_registros(carpeta).map_err(Error::Local)?;
    escribir(carpeta, &registros, &cabecera)?;
    eprintln!(
        "{} jobs; report in {}",
        registros.len(),
        carpeta.join("BENCHMARK_REPORT.md").display()
    );
    Ok(0)
}

/// Writes every file of the report from the records and the run's header: the devices and
/// the notes that follow from the records (incomplete, no device's limit) are added here.
pub fn escribir(carpeta: &Path, registros: &[Registro], cabecera: &Cabecera) -> Result<(), Error> {
    let mut entorno = cabecera.entorno.clone();
    let dispositivos: BTreeSet<&str> = registros.iter().map(|r| r.dispositivo.as_str()).collect();
    entorno.push((
        "devices".to_string(),
        dispositivos.into_iter().collect::<Vec<_>>().join("; "),
    ));
    let mut notas = cabecera.notas.clone();
    if !registros.iter().any(|r| r.limite.is_some()) {
        notas.push(
            "No device's limit is known for these jobs (only a GPU esclavo reports its peaks, and \
             only for julia, matmul and vector_add), so there is no chart of throughput against \
             the limit."
                .to_string(),
        );
    }
    let claves: BTreeSet<_> = registros.iter().map(Registro::clave).collect();
    if claves.len() < cabecera.medidos {
        notas.push(format!(
            "Interrupted or incomplete: {} of {} jobs recorded; `cliente benchmark --continuar \
             {}` runs the rest.",
            claves.len(),
            cabecera.medidos,
            carpeta.display()
        ));
    }
    let crear = |nombre: &str| {
        std::fs::File::create(carpeta.join(nombre))
            .map_err(|e| Error::local(format!("cannot create {nombre}: {e}")))
    };
    let json = serde_json::to_string_pretty(registros).map_err(Error::local)?;
    std::fs::write(carpeta.join("resultados.json"), json + "\n")
        .map_err(|e| Error::local(format!("cannot write resultados.json: {e}")))?;
    informe::csv_registros(crear("resultados.csv")?, registros).map_err(Error::Local)?;
    let filas = informe::resumir(registros);
    informe::csv_resumen(crear("resumen.csv")?, &filas).map_err(Error::Local)?;
    let graficos = if filas.is_empty() {
        Vec::new()
    } else {
        graficos::dibujar(carpeta, &filas).map_err(Error::Local)?
    };
    let acuerdos = informe::acuerdo(registros);
    let md = informe::markdown(
        &entorno,
        &cabecera.metodo,
        &filas,
        &acuerdos,
        &graficos,
        &notas,
    );
    std::fs::write(carpeta.join("BENCHMARK_REPORT.md"), md)
        .map_err(|e| Error::local(format!("cannot write BENCHMARK_REPORT.md: {e}")))?;
    Ok(())
}
