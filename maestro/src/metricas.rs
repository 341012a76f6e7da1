//! The maestro's Prometheus metrics (`GET /metrics`, names `hpc_maestro_*`; docs/metrics.md
//! lists them).
//!
//! Two kinds, so the job path stays lean:
//! - **events**, counted as they are decided: [`Metricas::cambios`] reads the store changes
//!   every transition hands to the writer (jobs accepted by door, attempts started, refused
//!   and failed, jobs finished by outcome). Each is one atomic add on a counter resolved at
//!   start; nothing is allocated per job. The store writer times its own commits.
//! - **state**, read when scraped ([`Metricas::actualizar`]): jobs by state and priority,
//!   the oldest pending job's age, esclavos, slots, GPUs, and the wait and run time
//!   distributions the statistics ([`crate::estadisticas`]) already keep in buckets of their
//!   own, exposed as Prometheus histograms without a second observation per job.

use std::time::Instant;

use comun::Estado as EstadoTrabajo;
use comun::api::Origen;
use plataforma::metricas::{Externos, SerieHistograma};
use prometheus::{Gauge, GaugeVec, IntCounter};

use crate::almacen::{Cambio, MedidasEscritor};
use crate::estadisticas::histograma::Histograma;
use crate::estado::Estado;

/// The `origen` label of a job's door.
pub fn puerta(origen: &Origen) -> &'static str {
    match origen {
        Origen::Api => "api",
        Origen::Archivo { archivo, .. } if archivo == "(subido)" => "subido",
        Origen::Archivo { .. } => "archivo",
        Origen::Carpeta { .. } => "carpeta",
    }
}

/// Every value of the `origen` label, in [`indice_puerta`] order.
const PUERTAS: [&str; 4] = ["api", "archivo", "subido", "carpeta"];

fn indice_puerta(origen: &Origen) -> usize {
    let p = puerta(origen);
    PUERTAS.iter().position(|&x| x == p).unwrap_or(0)
}

/// The outcomes a job ends with, as the `estado` label of `jobs_finished_total`.
const FINALES: [EstadoTrabajo; 3] = [
    EstadoTrabajo::Completado,
    EstadoTrabajo::Fallido,
    EstadoTrabajo::Cancelado,
];

/// The `le` bounds of the time histograms: the doublings 2^k µs for these k, from 128 µs to
/// about 72 minutes (bucket `4k` of the statistics' [`Histograma`], four per doubling).
const CUBETAS_TIEMPO: std::ops::RangeInclusive<usize> = 7..=32;

/// The maestro's metrics.
pub struct Metricas {
    base: plataforma::Metricas,
    /// Jobs accepted, per door ([`PUERTAS`]).
    recibidos: [IntCounter; 4],
    /// Jobs finished, per outcome ([`FINALES`]).
    terminados: [IntCounter; 3],
    intentos: IntCounter,
    rechazados: IntCounter,
    cedidos: IntCounter,
    reintentos: IntCounter,
    perdidos: IntCounter,
    trabajos: GaugeVec,
    antiguedad: Gauge,
    esclavos: GaugeVec,
    ranuras: Gauge,
    ranuras_libres: Gauge,
    gpus: Gauge,
    /// Wait (0) and run (1) time of completed jobs, from the statistics.
    tiempos: Externos,
}

impl Metricas {
    /// The maestro's metrics in a registry of their own, the store writer's among them.
    pub fn new(escritor: MedidasEscritor) -> Self {
        let base = plataforma::Metricas::new("maestro", &[]);
        base.registrar(escritor.commit);
        base.registrar(escritor.lote);
        let recibidos = base.contadores(
            "jobs_submitted_total",
            "Jobs accepted, by door: api (POST /agregar_trabajo, /trabajos), archivo (a jobs \
             file: the watched one or one named to /cargar_trabajos), subido (an uploaded one)",
            &["origen"],
        );
        let terminados = base.contadores(
            "jobs_finished_total",
            "Jobs that reached a final state since the maestro started, by that state",
            &["estado"],
        );
        Metricas {
            recibidos: PUERTAS.map(|p| recibidos.with_label_values(&[p])),
            terminados: FINALES.map(|e| terminados.with_label_values(&[e.nombre()])),
            intentos: base.contador(
                "attempts_started_total",
                "Attempts sent to an esclavo (each dispatch of a job)",
            ),
            rechazados: base.contador(
                "attempts_refused_total",
                "Attempts an esclavo refused for want of a free slot (the job waits again in \
                 its place; not a failure)",
            ),
            cedidos: base.contador(
                "attempts_handed_back_total",
                "Running attempts a draining esclavo handed back as it left, past its grace \
                 period (the job is queued again at once; not a failure)",
            ),
            reintentos: base.contador(
                "retries_total",
                "Failed attempts after which the job was queued again (at once after a lost \
                 esclavo, after a growing delay after its own failure)",
            ),
            perdidos: base.contador(
                "esclavos_lost_total",
                "Esclavos declared lost (silent past the limit, or unreachable)",
            ),
            trabajos: base.indicadores(
                "jobs",
                "Jobs in memory now, by state (pendiente: queued or waiting for a retry; \
                 asignado: running) and priority",
                &["estado", "prioridad"],
            ),
            antiguedad: base.indicador(
                "oldest_pending_job_age_seconds",
                "Time since the oldest pending job was accepted; 0 when none is pending",
            ),
            esclavos: base.indicadores(
                "esclavos",
                "Registered esclavos, by state (vivo: heartbeats arriving; perdido: silent)",
                &["estado"],
            ),
            ranuras: base.indicador("slots", "Job slots of the live esclavos"),
            ranuras_libres: base.indicador(
                "slots_free",
                "Job slots of the live esclavos not running anything",
            ),
            gpus: base.indicador("gpus", "GPUs of the live esclavos"),
            tiempos: base.externos(
                &[
                    (
                        "job_wait_seconds",
                        "Time completed jobs waited from acceptance to the start of the \
                         attempt that completed them, by tipo and backend (jobs accepted \
                         since the maestro started)",
                    ),
                    (
                        "job_run_seconds",
                        "Time the attempt that completed a job ran, from its dispatch to its \
                         result, by tipo and backend",
                    ),
                ],
                &["tipo", "backend"],
            ),
            base,
        }
    }

    /// The HTTP metrics and the exposition, shared with every service.
    pub fn base(&self) -> &plataforma::Metricas {
        &self.base
    }

    /// Counts the events in the changes a transition hands to the store. Called under the
    /// state lock: one atomic add per change, nothing allocated.
    pub fn cambios(&self, cambios: &[Cambio]) {
        for c in cambios {
            match c {
                Cambio::Insertar(f) => self.recibidos[indice_puerta(&f.origen)].inc(),
                Cambio::Asignar { .. } => self.intentos.inc(),
                Cambio::Devolver { .. } => self.rechazados.inc(),
                Cambio::Ceder { .. } => self.cedidos.inc(),
                Cambio::Fallar {
                    definitivo: true, ..
                } => self.terminados[1].inc(),
                Cambio::Fallar { .. } => self.reintentos.inc(),
                Cambio::Completar { .. } => self.terminados[0].inc(),
                Cambio::Cancelar { .. } => self.terminados[2].inc(),
                _ => {}
            }
        }
    }

    /// Sets what mirrors the state from `estado` at `ahora`; `creado_mas_antiguo_ms` is when
    /// the oldest pending job was accepted (read from the store by the caller).
    pub fn actualizar(&self, estado: &Estado, ahora: Instant, creado_mas_antiguo_ms: Option<u64>) {
        for c in estado.cola_por_prioridad() {
            let p = c.prioridad.nombre();
            let pendiente = EstadoTrabajo::Pendiente.nombre();
            let asignado = EstadoTrabajo::Asignado.nombre();
            self.trabajos
                .with_label_values(&[pendiente, p])
                .set(c.pendientes as f64);
            self.trabajos
                .with_label_values(&[asignado, p])
                .set(c.asignados as f64);
        }
        let edad = creado_mas_antiguo_ms.map_or(0, |c| comun::ahora_ms().saturating_sub(c));
        self.antiguedad.set(edad as f64 / 1000.0);
        let (mut vivos, mut perdidos, mut ranuras, mut libres, mut gpus) = (0, 0, 0, 0, 0);
        for e in estado.esclavos_info(ahora) {
            if !e.vivo {
                perdidos += 1;
                continue;
            }
            vivos += 1;
            ranuras += e.capacidad;
            libres += e.capacidad.saturating_sub(e.ejecutando);
            gpus += e.capacidades.gpus.len() as u32;
        }
        self.esclavos.with_label_values(&["vivo"]).set(vivos.into());
        self.esclavos
            .with_label_values(&["perdido"])
            .set(perdidos.into());
        self.ranuras.set(ranuras.into());
        self.ranuras_libres.set(libres.into());
        self.gpus.set(gpus.into());
        let total = estado.esclavos.perdidos_total();
        self.perdidos
            .inc_by(total.saturating_sub(self.perdidos.get()));
        self.poner_tiempos(estado);
    }

    /// The statistics' wait and run times as histogram series.
    fn poner_tiempos(&self, estado: &Estado) {
        let serie =
            |tipo: comun::Tipo, backend: comun::Algoritmo, h: &Histograma| SerieHistograma {
                etiquetas: vec![tipo.nombre().into(), backend.nombre().into()],
                cubetas: CUBETAS_TIEMPO
                    .map(|k| (Histograma::limite_s(4 * k), h.bajo_cubeta(4 * k)))
                    .collect(),
                cuenta: h.muestras(),
                suma: h.suma_s(),
            };
        let (mut espera, mut ejecucion) = (Vec::new(), Vec::new());
        for (tipo, backend, e, x) in estado.estadisticas.tiempos() {
            espera.push(serie(tipo, backend, e));
            ejecucion.push(serie(tipo, backend, x));
        }
        self.tiempos.fijar(0, espera);
        self.tiempos.fijar(1, ejecucion);
    }
}

/// The id of the oldest pending job (queued or waiting for a retry), if any.
pub fn pendiente_mas_antiguo(estado: &Estado) -> Option<comun::TrabajoId> {
    let t = &estado.trabajos;
    t.cola
        .mas_antiguo()
        .into_iter()
        .chain(t.reintentos.mas_antiguo())
        .min()
}
