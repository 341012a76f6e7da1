//! `cliente carga`: the cluster-overhead benchmark (see the command's long help).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use comun::Prioridad;
use comun::api::{PeticionLote, PeticionTrabajo, Resumen};
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::Contexto;
use crate::api::Maestro;
use crate::args::ArgsBenchmark;
use crate::cluster::Cluster;
use crate::error::Error;
use crate::{progreso, salida};

/// Phase 1 fails when no job finishes for this long.
const SIN_PROGRESO: Duration = Duration::from_secs(30);
/// How long phase 2 waits for each job.
const ESPERA_LATENCIA: Duration = Duration::from_secs(10);

/// The benchmark's figures, as `--json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct Informe {
    /// The maestro measured.
    pub maestro: String,
    /// The in-process cluster, with `--local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<ClusterLocal>,
    /// Jobs of phase 1.
    pub n: u64,
    /// Concurrent submitting tasks of phase 1.
    pub concurrencia: u32,
    /// Jobs per request (0: one `POST /agregar_trabajo` each).
    pub lote: u32,
    /// Milliseconds each job sleeps.
    pub ms: u64,
    /// Phase 1 jobs that completed.
    pub completados: u64,
    /// Phase 1 jobs that failed.
    pub fallidos: u64,
    /// From the first submit to the last completion.
    pub segundos: f64,
    /// `n / segundos`.
    pub trabajos_por_segundo: f64,
    /// From the first submit to the last answer of a submit.
    pub segundos_envio: f64,
    /// `n / segundos_envio`.
    pub envio_por_segundo: f64,
    /// Submit requests made in phase 1.
    pub peticiones: u64,
    /// Latency of each submit request of phase 1.
    pub envio: Percentiles,
    /// Phase 2: submit-to-result latency of single jobs, one at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latencia: Option<Percentiles>,
}

/// Where `--local` ran.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterLocal {
    /// Esclavos started.
    pub esclavos: u32,
    /// Job slots of each.
    pub capacidad: u32,
    /// The maestro's store: `sqlite (full)`, or `postgresql user@host:port/database`.
    pub almacen: String,
}

/// Latency figures of a set of measurements, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// How many measurements.
    pub muestras: u64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile (nearest rank).
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `muestras` (sorted here).
    pub fn de(mut muestras: Vec<Duration>) -> Self {
        muestras.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        Self {
            muestras: muestras.len() as u64,
            p50_ms: ms(percentil(&muestras, 0.50)),
            p99_ms: ms(percentil(&muestras, 0.99)),
            max_ms: ms(muestras.last().copied().unwrap_or_default()),
        }
    }

    /// `p50 4 ms, p99 9 ms, max 12 ms`.
    pub fn en_texto(&self) -> String {
        let ms = |v: f64| salida::segundos(v / 1e3);
        format!(
            "p50 {}, p99 {}, max {}",
            ms(self.p50_ms),
            ms(self.p99_ms),
            ms(self.max_ms)
        )
    }
}

/// The `q` quantile of sorted samples, by nearest rank.
fn percentil(ordenadas: &[Duration], q: f64) -> Duration {
    if ordenadas.is_empty() {
        return Duration::ZERO;
    }
    let rango = (q * ordenadas.len() as f64).ceil() as usize;
    ordenadas[rango.clamp(1, ordenadas.len()) - 1]
}

/// Runs the benchmark against `--maestro`, or a cluster of its own with `--local`.
pub async fn carga(cx: &Contexto, a: &ArgsBenchmark) -> Result<u8, Error> {
    if !a.local {
        let informe = medir(&cx.maestro, a, None, cx.visibles).await?;
        imprimir(cx, &informe);
        return Ok(0);
    }
    let datos = tempfile::Builder::new()
        .prefix("hpc-carga-")
        .tempdir()
        .map_err(|e| Error::local(format!("cannot create a temporary data folder: {e}")))?;
    let mut config = maestro::Config::new(datos.path());
    config.sincronizacion = a.sincronizacion;
    config.base = a.base.clone();
    let mut cluster = Cluster::iniciar_maestro(config, 0).await?;
    let r = async {
        cluster.iniciar_esclavos(a.esclavos, a.capacidad).await?;
        let m = Maestro::new(&cluster.url, None)?;
        let local = ClusterLocal {
            esclavos: a.esclavos,
            capacidad: a.capacidad,
            almacen: match &a.base {
                Some(b) => format!("postgresql {}", maestro::almacen::postgres::describir(b)),
                None => format!("sqlite ({})", a.sincronizacion),
            },
        };
        medir(&m, a, Some(local), cx.visibles).await
    }
    .await;
    cluster.parar().await;
    let informe = r?;
    imprimir(cx, &informe);
    Ok(0)
}

async fn medir(
    m: &Maestro,
    a: &ArgsBenchmark,
    local: Option<ClusterLocal>,
    visibles: bool,
) -> Result<Informe, Error> {
    let barra = progreso::barra(a.n, visibles);
    let fase = envio(m, a, &barra).await;
    barra.finish_and_clear();
    let fase = fase?;
    let latencia = if a.latencia > 0 {
        Some(latencia(m, a.latencia, a.ms).await?)
    } else {
        None
    };
    let segundos = fase.fin.as_secs_f64();
    let segundos_envio = fase.envio.as_secs_f64();
    Ok(Informe {
        maestro: m.base().to_string(),
        local,
        n: a.n,
        concurrencia: a.concurrencia,
        lote: a.lote,
        ms: a.ms,
        completados: fase.resumen.completados - fase.base.completados,
        fallidos: fase.resumen.fallidos - fase.base.fallidos,
        segundos,
        trabajos_por_segundo: a.n as f64 / segundos,
        segundos_envio,
        envio_por_segundo: a.n as f64 / segundos_envio,
        peticiones: fase.latencias.len() as u64,
        envio: Percentiles::de(fase.latencias),
        latencia,
    })
}

/// What phase 1 measured.
struct Fase1 {
    /// Counts before, and when the last job finished.
    base: Resumen,
    resumen: Resumen,
    /// From the first submit to the last answer of a submit, and to the last completion.
    envio: Duration,
    fin: Duration,
    /// Latency of each submit request.
    latencias: Vec<Duration>,
}

async fn envio(m: &Maestro, a: &ArgsBenchmark, barra: &ProgressBar) -> Result<Fase1, Error> {
    let base = m.resumen().await?;
    let t0 = Instant::now();
    let vigia = tokio::spawn(esperar_finales(m.clone(), base, a.n, barra.clone()));
    let por_peticion = u64::from(a.lote.max(1));
    let siguiente = Arc::new(AtomicU64::new(0));
    let mut tareas = JoinSet::new();
    for _ in 0..a.concurrencia {
        let envios = Envios {
            m: m.clone(),
            siguiente: siguiente.clone(),
            n: a.n,
            ms: a.ms,
            por_peticion,
            lote: a.lote > 0,
        };
        tareas.spawn(envios.enviar());
    }
    let mut latencias = Vec::with_capacity((a.n / por_peticion) as usize + 1);
    while let Some(r) = tareas.join_next().await {
        let r = r
            .map_err(|e| Error::local(format!("a submitting task failed: {e}")))
            .and_then(|r| r);
        match r {
            Ok(l) => latencias.extend(l),
            Err(e) => {
                vigia.abort();
                return Err(e);
            }
        }
    }
    let envio = t0.elapsed();
    let (resumen, cuando) = vigia
        .await
        .map_err(|e| Error::local(format!("the waiting task failed: {e}")))??;
    Ok(Fase1 {
        base,
        resumen,
        envio,
        fin: cuando - t0,
        latencias,
    })
}

/// One submitting task of phase 1: it takes the next ids from `siguiente` until `n` are sent.
struct Envios {
    m: Maestro,
    /// The next job number to send, shared by every submitter.
    siguiente: Arc<AtomicU64>,
    /// Jobs to send in all.
    n: u64,
    /// What each espera job sleeps.
    ms: u64,
    /// Jobs per request.
    por_peticion: u64,
    /// Whether requests are `POST /trabajos` batches (else one `POST /agregar_trabajo` each).
    lote: bool,
}

impl Envios {
    /// Sends until every job is taken; returns the latency of each request.
    async fn enviar(self) -> Result<Vec<Duration>, Error> {
        let mut latencias = Vec::new();
        loop {
            let desde = self
                .siguiente
                .fetch_add(self.por_peticion, Ordering::Relaxed);
            if desde >= self.n {
                return Ok(latencias);
            }
            let cuantos = self.por_peticion.min(self.n - desde) as usize;
            let peticion = PeticionTrabajo::espera(self.ms, Prioridad::MEDIA);
            let t = Instant::now();
            if self.lote {
                let trabajos = vec![peticion; cuantos];
                self.m.agregar_lote(&PeticionLote { trabajos }).await?;
            } else {
                self.m.agregar(&peticion).await?;
            }
            latencias.push(t.elapsed());
        }
    }
}

/// Long-polls `/resumen` until `n` more jobs than in `base` are final; returns the counts and
/// when that was seen.
async fn esperar_finales(
    m: Maestro,
    base: Resumen,
    n: u64,
    barra: ProgressBar,
) -> Result<(Resumen, Instant), Error> {
    let finales = |r: &Resumen| r.completados + r.fallidos + r.cancelados;
    let mut r = base;
    let mut ultimo_cambio = Instant::now();
    loop {
        let nuevo = m.esperar_resumen(r.version, Duration::from_secs(5)).await?;
        let ahora = Instant::now();
        let hechos = finales(&nuevo).saturating_sub(finales(&base));
        barra.set_position(hechos.min(n));
        if hechos >= n {
            return Ok((nuevo, ahora));
        }
        if finales(&nuevo) != finales(&r) {
            ultimo_cambio = ahora;
        } else if ahora - ultimo_cambio > SIN_PROGRESO {
            return Err(Error::local(format!(
                "no job finished for {} s ({hechos} of {n} done): are esclavos registered? \
                 see `cliente estado`",
                SIN_PROGRESO.as_secs()
            )));
        }
        r = nuevo;
    }
}

/// Phase 2: `n` single jobs, one at a time, submit to result.
async fn latencia(m: &Maestro, n: u32, ms: u64) -> Result<Percentiles, Error> {
    let mut muestras = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = Instant::now();
        let id = m
            .agregar(&PeticionTrabajo::espera(ms, Prioridad::MEDIA))
            .await?
            .id;
        let trabajo = m.esperar_trabajo(id, ESPERA_LATENCIA).await?;
        if !trabajo.estado.es_final() {
            return Err(Error::local(format!(
                "job {id} did not finish within {} s (estado {}{})",
                ESPERA_LATENCIA.as_secs(),
                trabajo.estado,
                trabajo.motivo.map(|m| format!(": {m}")).unwrap_or_default()
            )));
        }
        muestras.push(t.elapsed());
    }
    Ok(Percentiles::de(muestras))
}

fn imprimir(cx: &Contexto, i: &Informe) {
    if cx.json {
        salida::json(i);
        return;
    }
    println!("{}", encabezado(i));
    println!("{}", tabla(i));
    println!(
        "for comparison: Celery+Redis ~400 tasks/s (p50 4 ms), Dask ~450/s (p50 11 ms), \
         Ray ~1,600/s (p50 2 ms)"
    );
}

/// What was measured, and where.
fn encabezado(i: &Informe) -> String {
    let donde = match &i.local {
        Some(l) => format!(
            "in-process cluster, {} esclavos × {} slots, store {}",
            l.esclavos, l.capacidad, l.almacen
        ),
        None => i.maestro.clone(),
    };
    let modo = if i.lote > 0 {
        format!("POST /trabajos, {} jobs per request", i.lote)
    } else {
        "POST /agregar_trabajo, one job per request".into()
    };
    format!(
        "carga: {} espera jobs of {} ms, {} concurrent submitters, {modo}; {donde}",
        i.n, i.ms, i.concurrencia
    )
}

/// The figures, one a row.
fn tabla(i: &Informe) -> comfy_table::Table {
    let mut t = salida::tabla(["medida", "valor"]);
    let mut fila = |medida: String, valor: String| {
        t.add_row(vec![medida, valor]);
    };
    fila(
        "jobs".into(),
        format!("{} completados, {} fallidos", i.completados, i.fallidos),
    );
    fila(
        "end to end (first submit → last completion)".into(),
        format!(
            "{:.0} jobs/s ({})",
            i.trabajos_por_segundo,
            salida::segundos(i.segundos)
        ),
    );
    fila(
        "submit only".into(),
        format!(
            "{:.0} jobs/s ({}, {} requests)",
            i.envio_por_segundo,
            salida::segundos(i.segundos_envio),
            i.peticiones
        ),
    );
    fila("submit request latency".into(), i.envio.en_texto());
    if let Some(l) = &i.latencia {
        fila(
            format!("submit → result, one at a time ({} jobs)", l.muestras),
            l.en_texto(),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let p = Percentiles::de((1..=100).rev().map(ms).collect());
        assert_eq!((p.p50_ms, p.p99_ms, p.max_ms), (50.0, 99.0, 100.0));
        assert_eq!(p.muestras, 100);
        let p = Percentiles::de(vec![ms(7)]);
        assert_eq!((p.p50_ms, p.p99_ms, p.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(Percentiles::de(vec![]).max_ms, 0.0);
    }
}
