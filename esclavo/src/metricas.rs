//! The esclavo's Prometheus metrics (`GET /metrics`, names `hpc_esclavo_*`, every series
//! labelled with the esclavo's name; docs/metrics.md lists them).
//!
//! An attempt that ends costs two atomic adds on children resolved at start, one per (tipo,
//! outcome) and one per (tipo, backend): nothing is looked up by label or allocated per job.
//! Slots, results waiting for delivery and registration are read when scraped.

use std::time::Duration;

use comun::{Algoritmo, Estado, Tipo};
use prometheus::{Gauge, GaugeVec, Histogram, IntCounter};

use crate::gpus::GpuEnUso;

/// The outcomes of an attempt, as the `estado` label of `jobs_total`.
const FINALES: [Estado; 3] = [Estado::Completado, Estado::Fallido, Estado::Cancelado];

/// The backends, as the `backend` label of `kernel_seconds`.
const BACKENDS: [Algoritmo; 4] = [
    Algoritmo::Secuencial,
    Algoritmo::Paralelo,
    Algoritmo::Cuda,
    Algoritmo::Auto,
];

/// Buckets of `kernel_seconds`: from a tiny kernel to the longest time limits.
const CUBETAS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];

/// The esclavo's metrics.
pub struct Metricas {
    base: plataforma::Metricas,
    /// Attempts ended, per tipo ([`Tipo::TODOS`]) and outcome ([`FINALES`]).
    trabajos: [[IntCounter; 3]; Tipo::TODOS.len()],
    /// Kernel time of completed attempts, per tipo and backend ([`BACKENDS`]).
    kernel: [[Histogram; 4]; Tipo::TODOS.len()],
    ranuras: Gauge,
    ocupadas: Gauge,
    /// `Cuda` slots of each GPU, and those running a job, by the GPU's index.
    gpus: [GaugeVec; 2],
    por_enviar: Gauge,
    registrado: Gauge,
}

/// What the scrape reads from the esclavo.
pub struct Instantanea {
    pub capacidad: u32,
    pub ocupadas: usize,
    pub gpus: Vec<GpuEnUso>,
    pub por_enviar: u64,
    pub registrado: bool,
}

impl Metricas {
    /// The metrics of the esclavo `nombre`, in a registry of their own.
    pub fn new(nombre: &str) -> Self {
        let base = plataforma::Metricas::new("esclavo", &[("esclavo", nombre)]);
        let trabajos = base.contadores(
            "jobs_total",
            "Attempts run to an end in a slot, by tipo and outcome (completado; fallido: an \
             error or its time limit; cancelado: stopped by the maestro)",
            &["tipo", "estado"],
        );
        let kernel = base.histogramas(
            "kernel_seconds",
            "Time a completed attempt ran in its slot (the kernel, or the espera timer), by \
             tipo and backend",
            &["tipo", "backend"],
            CUBETAS.to_vec(),
        );
        Metricas {
            trabajos: Tipo::TODOS
                .map(|t| FINALES.map(|e| trabajos.with_label_values(&[t.nombre(), e.nombre()]))),
            kernel: Tipo::TODOS
                .map(|t| BACKENDS.map(|b| kernel.with_label_values(&[t.nombre(), b.nombre()]))),
            ranuras: base.indicador("slots", "Job slots: attempts it runs at once"),
            ocupadas: base.indicador("slots_busy", "Slots running an attempt now"),
            gpus: [
                base.indicadores(
                    "gpu_slots",
                    "Cuda jobs each GPU runs at once (--ranuras-por-gpu), by the GPU's index",
                    &["gpu"],
                ),
                base.indicadores(
                    "gpu_slots_busy",
                    "Cuda jobs running on each GPU now, by the GPU's index",
                    &["gpu"],
                ),
            ],
            por_enviar: base.indicador(
                "results_pending",
                "Finished attempts whose result the maestro has not acknowledged yet",
            ),
            registrado: base.indicador(
                "registered",
                "1 while the maestro holds it registered, 0 before or after a 404",
            ),
            base,
        }
    }

    /// The HTTP metrics and the exposition, shared with every service.
    pub fn base(&self) -> &plataforma::Metricas {
        &self.base
    }

    /// An attempt of `tipo` on `backend` ended as `estado` after `duracion` in its slot.
    pub fn terminado(&self, tipo: Tipo, backend: Algoritmo, estado: Estado, duracion: Duration) {
        let t = Tipo::TODOS.iter().position(|&x| x == tipo).unwrap_or(0);
        let Some(e) = FINALES.iter().position(|&x| x == estado) else {
            return;
        };
        self.trabajos[t][e].inc();
        if estado == Estado::Completado {
            let b = BACKENDS.iter().position(|&x| x == backend).unwrap_or(0);
            self.kernel[t][b].observe(duracion.as_secs_f64());
        }
    }

    /// Sets what mirrors the esclavo's state now.
    pub fn actualizar(&self, ahora: Instantanea) {
        self.ranuras.set(ahora.capacidad.into());
        self.ocupadas.set(ahora.ocupadas as f64);
        for g in &ahora.gpus {
            let indice = [g.indice.to_string()];
            self.gpus[0]
                .with_label_values(&indice)
                .set(g.ranuras.into());
            self.gpus[1]
                .with_label_values(&indice)
                .set(g.ejecutando.into());
        }
        self.por_enviar.set(ahora.por_enviar as f64);
        self.registrado.set(f64::from(u8::from(ahora.registrado)));
    }
}
