//! The memoria's Prometheus metrics (`GET /metrics`, names `hpc_memoria_*`, every series
//! labelled with the node; docs/metrics.md lists them): every value of the newest sample (CPU,
//! load, memory, swap, each filesystem, each GPU's memory, utilisation and temperature) and the
//! active alerts, set from the state when scraped; and the samples taken, counted as they come.

use std::sync::Mutex;

use comun::memoria::{Alerta, Muestra};
use prometheus::{Gauge, GaugeVec, IntCounter};

/// The memoria's metrics.
pub struct Metricas {
    base: plataforma::Metricas,
    muestras: IntCounter,
    instante: Gauge,
    cpu: Gauge,
    carga: [Gauge; 3],
    memoria: [Gauge; 2],
    swap: [Gauge; 2],
    /// Used and total bytes of each filesystem.
    discos: [GaugeVec; 2],
    /// Used and total memory, utilisation and temperature of each GPU.
    gpus: [GaugeVec; 4],
    alertas: GaugeVec,
    /// One scrape at a time: the per-disk, per-GPU and alert series are rebuilt at each, so a
    /// filesystem unmounted or an alert ended leaves no stale series behind.
    raspado: Mutex<()>,
}

impl Metricas {
    /// The metrics of the memoria of node `nodo`, in a registry of their own.
    pub fn new(nodo: &str) -> Self {
        let m = plataforma::Metricas::new("memoria", &[("nodo", nodo)]);
        let disco = ["punto_montaje"];
        let gpu = ["gpu", "nombre"];
        Metricas {
            muestras: m.contador("samples_total", "Samples taken of the node's resources"),
            instante: m.indicador(
                "sample_timestamp_seconds",
                "When the newest sample was taken, seconds since the Unix epoch",
            ),
            cpu: m.indicador("cpu_usage_ratio", "CPU use of all cores, 0 to 1"),
            carga: [
                m.indicador("load1", "Load average over 1 minute"),
                m.indicador("load5", "Load average over 5 minutes"),
                m.indicador("load15", "Load average over 15 minutes"),
            ],
            memoria: [
                m.indicador("memory_used_bytes", "RAM in use"),
                m.indicador("memory_total_bytes", "RAM installed or allowed"),
            ],
            swap: [
                m.indicador("swap_used_bytes", "Swap in use"),
                m.indicador("swap_total_bytes", "Swap configured (0: none)"),
            ],
            discos: [
                m.indicadores("disk_used_bytes", "Bytes in use per filesystem", &disco),
                m.indicadores("disk_total_bytes", "Size of each filesystem", &disco),
            ],
            gpus: [
                m.indicadores(
                    "gpu_memory_used_bytes",
                    "Device memory in use per GPU",
                    &gpu,
                ),
                m.indicadores("gpu_memory_total_bytes", "Device memory per GPU", &gpu),
                m.indicadores(
                    "gpu_utilization_ratio",
                    "Share of the last sample period a kernel ran, per GPU, 0 to 1",
                    &gpu,
                ),
                m.indicadores(
                    "gpu_temperature_celsius",
                    "Core temperature per GPU (absent where the driver does not say)",
                    &gpu,
                ),
            ],
            alertas: m.indicadores(
                "alerts",
                "Active alerts (1 each), by resource (cpu, memoria, swap, `disco <mount>`, \
                 `gpu_memoria <index>`) and level (aviso, critico)",
                &["recurso", "nivel"],
            ),
            raspado: Mutex::new(()),
            base: m,
        }
    }

    /// The HTTP metrics and the exposition, shared with every service.
    pub fn base(&self) -> &plataforma::Metricas {
        &self.base
    }

    /// One more sample taken.
    pub fn muestra_tomada(&self) {
        self.muestras.inc();
    }

    /// The exposition with the values of `muestra` (none before the first) and `alertas`.
    pub fn exponer(
        &self,
        muestra: Option<&Muestra>,
        alertas: &[Alerta],
    ) -> Result<axum::response::Response, plataforma::http::ErrorApi> {
        let _uno = self.raspado.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = muestra {
            self.poner(m);
        }
        self.alertas.reset();
        for a in alertas {
            let (recurso, nivel) = (a.recurso.to_string(), a.nivel.to_string());
            self.alertas.with_label_values(&[&recurso, &nivel]).set(1.0);
        }
        self.base.exponer()
    }

    fn poner(&self, m: &Muestra) {
        self.instante.set(m.instante_ms as f64 / 1000.0);
        self.cpu.set(m.cpu_porcentaje / 100.0);
        for (g, v) in self.carga.iter().zip([m.carga_1, m.carga_5, m.carga_15]) {
            g.set(v);
        }
        self.memoria[0].set(m.memoria_usada as f64);
        self.memoria[1].set(m.memoria_total as f64);
        self.swap[0].set(m.swap_usada as f64);
        self.swap[1].set(m.swap_total as f64);
        self.discos.iter().for_each(GaugeVec::reset);
        for d in &m.discos {
            let et = [d.punto_montaje.as_str()];
            self.discos[0].with_label_values(&et).set(d.usado as f64);
            self.discos[1].with_label_values(&et).set(d.total as f64);
        }
        self.gpus.iter().for_each(GaugeVec::reset);
        for g in &m.gpus {
            let indice = g.indice.to_string();
            let et = [indice.as_str(), g.nombre.as_str()];
            self.gpus[0]
                .with_label_values(&et)
                .set(g.memoria_usada as f64);
            self.gpus[1]
                .with_label_values(&et)
                .set(g.memoria_total as f64);
            self.gpus[2]
                .with_label_values(&et)
                .set(g.utilizacion / 100.0);
            if let Some(t) = g.temperatura_c {
                self.gpus[3].with_label_values(&et).set(t);
            }
        }
    }
}
