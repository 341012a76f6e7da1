//! A scripted esclavo: a real HTTP server on loopback that speaks the esclavo's side of the
//! protocol, but runs nothing. It records every `POST /ejecutar` and `POST /cancelar` it gets,
//! heartbeats on its own (listing the jobs the test says it runs) and reports only what the test
//! tells it to, so a test controls exactly when and how each attempt ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use comun::TrabajoId;
use comun::api::{Carga, Detalle, Resultado};
use comun::nodo::{
    Asignacion, Capacidades, InformeResultado, Latido, LoteResultados, PeticionCancelar,
    PeticionEjecutar, Registro, RespuestaCancelar, RespuestaEjecutar, RespuestaLatido,
    RespuestaResultados, Salida,
};
use tokio::sync::{mpsc, oneshot};

/// A `POST /cancelar` as received.
#[derive(Debug, Clone)]
pub struct Cancelacion {
    pub peticion: PeticionCancelar,
    /// The `Authorization` header it came with.
    pub autorizacion: Option<String>,
}

#[derive(Clone)]
struct Buzones {
    ejecutar: mpsc::UnboundedSender<Asignacion>,
    cancelar: mpsc::UnboundedSender<Cancelacion>,
}

/// The scripted esclavo.
pub struct EsclavoFalso {
    pub nombre: String,
    pub instancia: u64,
    pub url: String,
    maestro: String,
    token: Option<String>,
    http: reqwest::Client,
    /// Jobs it says it runs in its heartbeats.
    pub ejecutando: Arc<Mutex<Vec<TrabajoId>>>,
    /// Every `cancelar` list its heartbeats were answered with, in order.
    pub cancelar_en_latidos: Arc<Mutex<Vec<Vec<TrabajoId>>>>,
    ejecutar: mpsc::UnboundedReceiver<Asignacion>,
    cancelar: mpsc::UnboundedReceiver<Cancelacion>,
    parar: Option<oneshot::Sender<()>>,
}

impl EsclavoFalso {
    /// Serves on a free port and registers with `maestro` with `capacidad` slots; heartbeats
    /// every 100 ms.
    pub async fn iniciar(
        maestro: &str,
        nombre: &str,
        capacidad: u32,
        token: Option<&str>,
    ) -> EsclavoFalso {
        Self::iniciar_con_gpus(maestro, nombre, capacidad, token, Vec::new()).await
    }

    /// [`EsclavoFalso::iniciar`], saying it has `gpus` (one `Cuda` slot each).
    pub async fn iniciar_con_gpus(
        maestro: &str,
        nombre: &str,
        capacidad: u32,
        token: Option<&str>,
        gpus: Vec<comun::nodo::Gpu>,
    ) -> EsclavoFalso {
        let (ejecutar_tx, ejecutar) = mpsc::unbounded_channel();
        let (cancelar_tx, cancelar) = mpsc::unbounded_channel();
        let buzones = Buzones {
            ejecutar: ejecutar_tx,
            cancelar: cancelar_tx,
        };
        let app = axum::Router::new()
            .route("/ejecutar", post(ejecutar_h))
            .route("/cancelar", post(cancelar_h))
            .with_state(buzones);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (parar_tx, parar_rx) = oneshot::channel::<()>();
        let (parar_latidos_tx, mut parar_latidos) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = parar_rx.await;
                    let _ = parar_latidos_tx.send(true);
                })
                .await
                .unwrap();
        });
        let e = EsclavoFalso {
            nombre: nombre.into(),
            instancia: rand_instancia(),
            url,
            maestro: maestro.into(),
            token: token.map(String::from),
            http: reqwest::Client::new(),
            ejecutando: Arc::default(),
            cancelar_en_latidos: Arc::default(),
            ejecutar,
            cancelar,
            parar: Some(parar_tx),
        };
        let registro = Registro {
            nombre: e.nombre.clone(),
            instancia: e.instancia,
            url: e.url.clone(),
            nodo: "falso".into(),
            capacidad,
            capacidad_gpu: gpus.len() as u32,
            capacidades: Capacidades {
                gpus,
                ..Capacidades::default()
            },
        };
        let r = e
            .post("/registrar_esclavo")
            .json(&registro)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let latidor = e.latidor();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = parar_latidos.changed() => return,
                }
                latidor.latir().await;
            }
        });
        e
    }

    fn post(&self, ruta: &str) -> reqwest::RequestBuilder {
        let p = self.http.post(format!("{}{ruta}", self.maestro));
        match &self.token {
            Some(t) => p.bearer_auth(t),
            None => p,
        }
    }

    fn latidor(&self) -> Latidor {
        Latidor {
            latido: Latido {
                nombre: self.nombre.clone(),
                instancia: self.instancia,
                carga: Carga::default(),
                ejecutando: Vec::new(),
                drenando: false,
            },
            maestro: self.maestro.clone(),
            token: self.token.clone(),
            http: self.http.clone(),
            ejecutando: self.ejecutando.clone(),
            cancelar_en_latidos: self.cancelar_en_latidos.clone(),
        }
    }

    /// Sends one heartbeat now and returns the maestro's answer.
    pub async fn latir(&self) -> RespuestaLatido {
        self.latidor().latir().await.expect("heartbeat answered")
    }

    /// Waits (up to 30 s) for the next job the maestro sends.
    pub async fn recibir(&mut self) -> Asignacion {
        tokio::time::timeout(Duration::from_secs(30), self.ejecutar.recv())
            .await
            .expect("no job sent to the fake esclavo within 30 s")
            .unwrap()
    }

    /// A job already sent, if any, without waiting.
    pub fn recibido(&mut self) -> Option<Asignacion> {
        self.ejecutar.try_recv().ok()
    }

    /// Waits (up to `plazo`) for the next `POST /cancelar`.
    pub async fn cancelacion(&mut self, plazo: Duration) -> Cancelacion {
        tokio::time::timeout(plazo, self.cancelar.recv())
            .await
            .unwrap_or_else(|_| panic!("no POST /cancelar within {plazo:?}"))
            .unwrap()
    }

    /// Reports how an attempt ended.
    pub async fn informar(&self, a: &Asignacion, salida: Salida) -> RespuestaResultados {
        let lote = LoteResultados {
            resultados: vec![InformeResultado {
                id: a.id,
                intento: a.intento,
                esclavo: self.nombre.clone(),
                instancia: self.instancia,
                salida,
            }],
        };
        let r = self.post("/resultado").json(&lote).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    /// Stops serving and heartbeating.
    pub fn parar(mut self) {
        if let Some(p) = self.parar.take() {
            let _ = p.send(());
        }
    }
}

/// A finished `espera` attempt.
pub fn completado(ms: u64) -> Salida {
    Salida::Completado {
        resultado: Resultado::nuevo(
            ms as f64 / 1e3,
            None,
            "falso".into(),
            Detalle::Espera { ms },
            false,
        ),
        imagen_png: None,
    }
}

/// A failed attempt.
pub fn fallido(error: &str) -> Salida {
    Salida::Fallido {
        error: error.into(),
    }
}

struct Latidor {
    latido: Latido,
    maestro: String,
    token: Option<String>,
    http: reqwest::Client,
    ejecutando: Arc<Mutex<Vec<TrabajoId>>>,
    cancelar_en_latidos: Arc<Mutex<Vec<Vec<TrabajoId>>>>,
}

impl Latidor {
    async fn latir(&self) -> Option<RespuestaLatido> {
        let mut latido = self.latido.clone();
        latido.ejecutando = self.ejecutando.lock().unwrap().clone();
        let mut p = self.http.post(format!("{}/latido", self.maestro));
        if let Some(t) = &self.token {
            p = p.bearer_auth(t);
        }
        let r: RespuestaLatido = p.json(&latido).send().await.ok()?.json().await.ok()?;
        self.cancelar_en_latidos
            .lock()
            .unwrap()
            .push(r.cancelar.clone());
        Some(r)
    }
}

fn rand_instancia() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

async fn ejecutar_h(
    State(b): State<Buzones>,
    Json(p): Json<PeticionEjecutar>,
) -> Json<RespuestaEjecutar> {
    let aceptados = p.trabajos.iter().map(|a| a.id).collect();
    for a in p.trabajos {
        let _ = b.ejecutar.send(a);
    }
    Json(RespuestaEjecutar {
        aceptados,
        rechazados: Vec::new(),
    })
}

async fn cancelar_h(
    State(b): State<Buzones>,
    cabeceras: HeaderMap,
    Json(peticion): Json<PeticionCancelar>,
) -> Json<RespuestaCancelar> {
    let autorizacion = cabeceras
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let respuesta = RespuestaCancelar {
        cancelados: peticion.trabajos.clone(),
        desconocidos: Vec::new(),
    };
    let _ = b.cancelar.send(Cancelacion {
        peticion,
        autorizacion,
    });
    Json(respuesta)
}
