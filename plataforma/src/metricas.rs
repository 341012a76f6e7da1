//! A service's Prometheus metrics: its own registry (never the process-wide default one, since
//! `cliente local` and the tests run several services in one process), the helpers that
//! declare metrics in it, the middleware that counts and times HTTP requests by route, method
//! and status, and the text exposition of `GET /metrics`.
//!
//! Every metric of a service is named `hpc_<service>_<name>` (the registry adds the prefix), in
//! base units (`_seconds`, `_bytes`, `_ratio`), counters ending in `_total`. Label values are
//! bounded: routes are the router's patterns (`/trabajos/{id}`, never a job id), and a path no
//! route matches counts as [`RUTA_DESCONOCIDA`]. docs/metrics.md lists them all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, LabelPair, MetricFamily, MetricType};
use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts,
    Registry, TEXT_FORMAT, TextEncoder,
};

use crate::http::ErrorApi;

/// Where every service serves its metrics.
pub const RUTA: &str = "/metrics";

/// The `route` label of a request no route matched (one value, whatever the path).
pub const RUTA_DESCONOCIDA: &str = "(desconocida)";

/// Buckets of `http_request_duration_seconds`: from a fast read to a long poll's limit.
const CUBETAS_HTTP: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// One service's metrics: its registry and the HTTP request metrics. Cheap to clone (the
/// registry and every metric share their data).
#[derive(Clone)]
pub struct Metricas {
    registro: Registry,
    http: Arc<MetricasHttp>,
}

/// The HTTP metrics the middleware records.
struct MetricasHttp {
    peticiones: IntCounterVec,
    duracion: HistogramVec,
}

impl Metricas {
    /// The metrics of the service `servicio` (`maestro`, `esclavo`, `memoria`): every name gets
    /// the prefix `hpc_<servicio>_`, every series the constant `etiquetas` (e.g. the esclavo's
    /// name, so several esclavos scraped side by side stay apart).
    pub fn new(servicio: &str, etiquetas: &[(&str, &str)]) -> Self {
        let constantes: HashMap<String, String> = etiquetas
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let registro = Registry::new_custom(
            Some(format!("hpc_{servicio}")),
            (!constantes.is_empty()).then_some(constantes),
        )
        .expect("a service name is never empty");
        let http = MetricasHttp {
            peticiones: registrar_en(
                &registro,
                "http_requests_total",
                IntCounterVec::new(
                    Opts::new(
                        "http_requests_total",
                        "HTTP requests answered, by route pattern, method and status",
                    ),
                    &["route", "method", "status"],
                ),
            ),
            duracion: registrar_en(
                &registro,
                "http_request_duration_seconds",
                HistogramVec::new(
                    HistogramOpts::new(
                        "http_request_duration_seconds",
                        "Time from a request's arrival to its answer's head, by route pattern \
                         and method",
                    )
                    .buckets(CUBETAS_HTTP.to_vec()),
                    &["route", "method"],
                ),
            ),
        };
        Metricas {
            registro,
            http: Arc::new(http),
        }
    }

    /// The registry, for collectors made elsewhere (e.g. the maestro's store writer).
    pub fn registro(&self) -> &Registry {
        &self.registro
    }

    /// Registers `c` (made elsewhere, e.g. the maestro's store writer) and returns it.
    pub fn registrar<C: Collector + Clone + 'static>(&self, c: C) -> C {
        let nombre = c
            .desc()
            .first()
            .map(|d| d.fq_name.clone())
            .unwrap_or_default();
        registrar_en(&self.registro, &nombre, Ok(c))
    }

    /// A counter (`nombre` ends in `_total`).
    pub fn contador(&self, nombre: &str, ayuda: &str) -> IntCounter {
        registrar_en(&self.registro, nombre, IntCounter::new(nombre, ayuda))
    }

    /// A family of counters, one per value of `etiquetas`.
    pub fn contadores(&self, nombre: &str, ayuda: &str, etiquetas: &[&str]) -> IntCounterVec {
        let v = IntCounterVec::new(Opts::new(nombre, ayuda), etiquetas);
        registrar_en(&self.registro, nombre, v)
    }

    /// A gauge.
    pub fn indicador(&self, nombre: &str, ayuda: &str) -> Gauge {
        registrar_en(&self.registro, nombre, Gauge::new(nombre, ayuda))
    }

    /// A family of gauges, one per value of `etiquetas`.
    pub fn indicadores(&self, nombre: &str, ayuda: &str, etiquetas: &[&str]) -> GaugeVec {
        let v = GaugeVec::new(Opts::new(nombre, ayuda), etiquetas);
        registrar_en(&self.registro, nombre, v)
    }

    /// A histogram with the given bucket bounds.
    pub fn histograma(&self, nombre: &str, ayuda: &str, cubetas: Vec<f64>) -> Histogram {
        let h = Histogram::with_opts(HistogramOpts::new(nombre, ayuda).buckets(cubetas));
        registrar_en(&self.registro, nombre, h)
    }

    /// A family of histograms, one per value of `etiquetas`.
    pub fn histogramas(
        &self,
        nombre: &str,
        ayuda: &str,
        etiquetas: &[&str],
        cubetas: Vec<f64>,
    ) -> HistogramVec {
        let h = HistogramVec::new(
            HistogramOpts::new(nombre, ayuda).buckets(cubetas),
            etiquetas,
        );
        registrar_en(&self.registro, nombre, h)
    }

    /// Histogram families whose buckets another part of the service keeps, set at each scrape
    /// ([`Externos::fijar`]): one per `(name, help)` of `familias`, with labels `etiquetas`.
    pub fn externos(&self, familias: &[(&str, &str)], etiquetas: &[&str]) -> Externos {
        let variables: Vec<String> = etiquetas.iter().map(|&e| e.to_owned()).collect();
        let descs = familias
            .iter()
            .map(|(nombre, ayuda)| {
                let d = Desc::new(
                    (*nombre).into(),
                    (*ayuda).into(),
                    variables.clone(),
                    HashMap::new(),
                );
                d.unwrap_or_else(|e| panic!("the metric {nombre} is declared wrong: {e}"))
            })
            .collect();
        let ayudas = familias
            .iter()
            .map(|&(n, a)| (n.to_owned(), a.to_owned()))
            .collect();
        self.registrar(Externos {
            descs,
            ayudas,
            familias: Arc::default(),
        })
    }

    /// `router` with every request counted and timed. Apply it last (outermost), so refusals
    /// by [`crate::proteger`] and the fallbacks count too.
    pub fn medir<S>(&self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router.layer(middleware::from_fn_with_state(self.http.clone(), registrar))
    }

    /// The text exposition of everything registered: what `GET /metrics` answers.
    pub fn exponer(&self) -> Result<Response, ErrorApi> {
        let texto = TextEncoder::new()
            .encode_to_string(&self.registro.gather())
            .map_err(|e| ErrorApi::Interno(anyhow::anyhow!("encoding the metrics: {e}")))?;
        Ok(([(header::CONTENT_TYPE, TEXT_FORMAT)], texto).into_response())
    }
}

/// Registers a metric just made. Names and labels are fixed in the code, so an invalid or
/// clashing one is a bug: it panics at start, naming the metric.
fn registrar_en<C: Collector + Clone + 'static>(
    registro: &Registry,
    nombre: &str,
    c: prometheus::Result<C>,
) -> C {
    let c = c.unwrap_or_else(|e| panic!("the metric {nombre} is declared wrong: {e}"));
    registro
        .register(Box::new(c.clone()))
        .unwrap_or_else(|e| panic!("registering the metric {nombre}: {e}"));
    c
}

/// Histograms kept elsewhere (e.g. the maestro's statistics, in buckets of their own),
/// exposed as they were at the last [`Externos::fijar`]: the service sets them when scraped,
/// so whatever feeds them pays nothing for the exposition.
#[derive(Clone)]
pub struct Externos {
    descs: Vec<Desc>,
    /// Each family's name and help.
    ayudas: Vec<(String, String)>,
    familias: Arc<Mutex<Vec<MetricFamily>>>,
}

/// One series of an [`Externos`] histogram.
pub struct SerieHistograma {
    /// Its label values, in the family's label order.
    pub etiquetas: Vec<String>,
    /// `(upper bound, samples at or below it)`, increasing; the exposition adds `+Inf`
    /// (`cuenta`).
    pub cubetas: Vec<(f64, u64)>,
    pub cuenta: u64,
    pub suma: f64,
}

impl Externos {
    /// Replaces the series of family `familia` (its index in [`Metricas::externos`]).
    pub fn fijar(&self, familia: usize, series: Vec<SerieHistograma>) {
        let nombres = &self.descs[familia].variable_labels;
        let metricas = series
            .into_iter()
            .map(|s| {
                let etiquetas = nombres
                    .iter()
                    .zip(s.etiquetas)
                    .map(|(n, v)| {
                        let mut par = LabelPair::default();
                        par.set_name(n.clone());
                        par.set_value(v);
                        par
                    })
                    .collect();
                let mut h = proto::Histogram::default();
                h.set_sample_count(s.cuenta);
                h.set_sample_sum(s.suma);
                let cubetas: Vec<proto::Bucket> = s
                    .cubetas
                    .into_iter()
                    .map(|(limite, n)| {
                        let mut b = proto::Bucket::default();
                        b.set_upper_bound(limite);
                        b.set_cumulative_count(n);
                        b
                    })
                    .collect();
                h.set_bucket(cubetas);
                let mut m = proto::Metric::from_label(etiquetas);
                m.set_histogram(h);
                m
            })
            .collect();
        let (nombre, ayuda) = self.ayudas[familia].clone();
        let mut f = MetricFamily::default();
        f.set_name(nombre);
        f.set_help(ayuda);
        f.set_field_type(MetricType::HISTOGRAM);
        f.set_metric(metricas);
        let mut familias = self.familias.lock().unwrap_or_else(|e| e.into_inner());
        familias.retain(|x| x.name() != f.name());
        familias.push(f);
    }
}

impl Collector for Externos {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.familias
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The middleware: times the request and counts its answer.
async fn registrar(State(http): State<Arc<MetricasHttp>>, req: Request, next: Next) -> Response {
    let inicio = Instant::now();
    let ruta = req.extensions().get::<MatchedPath>().cloned();
    let ruta = ruta.as_ref().map_or(RUTA_DESCONOCIDA, MatchedPath::as_str);
    let metodo = metodo(req.method());
    let respuesta = next.run(req).await;
    let status = respuesta.status();
    http.peticiones
        .with_label_values(&[ruta, metodo, status.as_str()])
        .inc();
    http.duracion
        .with_label_values(&[ruta, metodo])
        .observe(inicio.elapsed().as_secs_f64());
    respuesta
}

/// A method as a bounded label value: the standard ones by name, any other as `OTHER`.
fn metodo(m: &Method) -> &'static str {
    const CONOCIDOS: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    const NOMBRES: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    CONOCIDOS
        .iter()
        .position(|c| c == m)
        .map_or("OTHER", |i| NOMBRES[i])
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use pruebas::metricas::Exposicion;
    use tower::ServiceExt as _;

    use super::*;

    fn texto(m: &Metricas) -> String {
        TextEncoder::new()
            .encode_to_string(&m.registro().gather())
            .unwrap()
    }

    async fn pedir(app: &Router, metodo: &str, ruta: &str) -> StatusCode {
        let req = Request::builder()
            .method(metodo)
            .uri(ruta)
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn requests_count_by_route_pattern_method_and_status_with_one_value_for_strangers() {
        let m = Metricas::new("prueba", &[("nodo", "n1")]);
        let app = m.medir(
            Router::new()
                .route("/cosas/{id}", get(|| async { "ok" }))
                .fallback(|| async { StatusCode::NOT_FOUND }),
        );
        for id in 0..5 {
            assert_eq!(pedir(&app, "GET", &format!("/cosas/{id}")).await, 200);
        }
        assert_eq!(pedir(&app, "POST", "/cosas/1").await, 405);
        for ruta in ["/x", "/y/z", "/cosas"] {
            assert_eq!(pedir(&app, "GET", ruta).await, 404);
        }
        assert_eq!(pedir(&app, "BREW", "/cosas/1").await, 405);
        let e = Exposicion::leer(&texto(&m)).unwrap();
        let peticiones = "hpc_prueba_http_requests_total";
        for (valor, route, method, status) in [
            (5.0, "/cosas/{id}", "GET", "200"),
            (1.0, "/cosas/{id}", "POST", "405"),
            (1.0, "/cosas/{id}", "OTHER", "405"),
            (3.0, RUTA_DESCONOCIDA, "GET", "404"),
        ] {
            let etiquetas = [
                ("route", route),
                ("method", method),
                ("status", status),
                ("nodo", "n1"),
            ];
            assert_eq!(e.valor(peticiones, &etiquetas), valor, "{etiquetas:?}");
        }
        assert_eq!(
            e.de(peticiones, &[]).count(),
            4,
            "no path or id is a label value"
        );
        let duracion = "hpc_prueba_http_request_duration_seconds_count";
        assert_eq!(
            e.valor(duracion, &[("route", "/cosas/{id}"), ("method", "GET")]),
            5.0
        );
    }

    #[tokio::test]
    async fn the_exposition_is_prometheus_text_and_registries_are_apart() {
        let a = Metricas::new("a", &[]);
        let b = Metricas::new("a", &[]);
        a.contador("cosas_total", "things").inc_by(3);
        b.contador("cosas_total", "things").inc();
        let r = a.exponer().unwrap();
        assert_eq!(r.headers()[header::CONTENT_TYPE], TEXT_FORMAT);
        let cuerpo = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        let cuerpo = String::from_utf8(cuerpo.to_vec()).unwrap();
        assert!(cuerpo.contains("# TYPE hpc_a_cosas_total counter\nhpc_a_cosas_total 3\n"));
        assert!(texto(&b).contains("hpc_a_cosas_total 1\n"));
    }

    #[test]
    fn histograms_kept_elsewhere_are_exposed_as_last_set() {
        let m = Metricas::new("x", &[]);
        let ext = m.externos(&[("espera_seconds", "wait")], &["tipo"]);
        let serie = |tipo: &str, n| SerieHistograma {
            etiquetas: vec![tipo.into()],
            cubetas: vec![(0.5, n), (1.0, n + 1)],
            cuenta: n + 2,
            suma: 9.0,
        };
        ext.fijar(0, vec![serie("a", 1)]);
        ext.fijar(0, vec![serie("b", 3)]);
        let e = Exposicion::leer(&texto(&m)).unwrap();
        assert_eq!(e.tipos["hpc_x_espera_seconds"], "histogram");
        let b = [("tipo", "b")];
        assert_eq!(
            e.valor("hpc_x_espera_seconds_bucket", &[("le", "0.5"), b[0]]),
            3.0
        );
        assert_eq!(
            e.valor("hpc_x_espera_seconds_bucket", &[("le", "+Inf"), b[0]]),
            5.0
        );
        assert_eq!(e.valor("hpc_x_espera_seconds_count", &b), 5.0);
        assert!(
            !e.hay("hpc_x_espera_seconds_count", &[("tipo", "a")]),
            "replaced"
        );
    }

    #[test]
    #[should_panic(expected = "registering the metric dos_total")]
    fn a_name_declared_twice_is_a_bug_named_at_start() {
        let a = Metricas::new("a", &[]);
        a.contador("dos_total", "x");
        a.contador("dos_total", "x");
    }
}
