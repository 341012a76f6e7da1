//! A service started in-process on a loopback port: the listener is bound first (port 0 picks
//! a free one), then the service's `run(config, listener, shutdown)` future is spawned; the
//! handle keeps its address, its shutdown trigger and its task. Also a fake peer (a plain axum
//! router) served in the background, and a free address to start something on later.
//!
//! `pruebas` knows no service: the caller passes a closure that calls its `run`, so the crate
//! under test is never linked twice.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long [`Servicio::parar`] waits for the service to stop.
pub const PLAZO_PARADA: Duration = Duration::from_secs(20);

/// The shutdown future handed to the service: completes when [`Servicio`] asks it to stop (or
/// is dropped).
pub struct Parada(oneshot::Receiver<()>);

impl Future for Parada {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// A service running in-process on `127.0.0.1`, and the means to stop it.
pub struct Servicio {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The address it listens on.
    pub direccion: SocketAddr,
    /// Completes its [`Parada`]; `None` once sent.
    parar: Option<oneshot::Sender<()>>,
    /// The task running the service.
    tarea: JoinHandle<anyhow::Result<()>>,
}

impl Servicio {
    /// Binds a free loopback port and spawns `run(listener, parada)` on it.
    pub async fn iniciar<F, Fut>(run: F) -> Self
    where
        F: FnOnce(TcpListener, Parada) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self::iniciar_en(0, run).await
    }

    /// [`Servicio::iniciar`] on loopback port `puerto` (0: any free one), e.g. to restart a
    /// service where its clients expect it.
    pub async fn iniciar_en<F, Fut>(puerto: u16, run: F) -> Self
    where
        F: FnOnce(TcpListener, Parada) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", puerto))
            .await
            .expect("binding a loopback port");
        let direccion = listener.local_addr().unwrap();
        let (parar, parada) = oneshot::channel();
        let tarea = tokio::spawn(run(listener, Parada(parada)));
        Self {
            url: format!("http://{direccion}"),
            direccion,
            parar: Some(parar),
            tarea,
        }
    }

    /// The port it listens on.
    pub fn puerto(&self) -> u16 {
        self.direccion.port()
    }

    /// Starts its shutdown without waiting for it.
    pub fn empezar_a_parar(&mut self) {
        if let Some(p) = self.parar.take() {
            let _ = p.send(());
        }
    }

    /// Stops it and returns what its `run` returned; panics if the task panicked.
    pub async fn terminar(mut self) -> anyhow::Result<()> {
        self.empezar_a_parar();
        self.tarea.await.expect("service task panicked")
    }

    /// [`Servicio::terminar`] within `plazo`; panics naming `plazo` if it takes longer.
    pub async fn terminar_antes_de(self, plazo: Duration) -> anyhow::Result<()> {
        tokio::time::timeout(plazo, self.terminar())
            .await
            .unwrap_or_else(|_| panic!("service did not stop within {plazo:?}"))
    }

    /// Ends it as a crash would: its task is aborted, so it says goodbye to nobody (an esclavo
    /// does not drain: the maestro finds it lost when its heartbeats stop).
    pub async fn abortar(self) {
        self.tarea.abort();
        let _ = self.tarea.await;
    }

    /// Stops it and waits until it has stopped, which must be within [`PLAZO_PARADA`] and
    /// without error.
    pub async fn parar(self) {
        self.terminar_antes_de(PLAZO_PARADA)
            .await
            .expect("service returned an error");
    }
}

/// A free loopback address, released at once so that a service can bind it later (a maestro
/// a test starts after its esclavos, say).
pub fn direccion_libre() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A fake peer of the service under test (a maestro that only records, say): shared state
/// behind an axum router, served in the background until the test ends.
pub trait Falso: Default + Send + Sync + 'static {
    /// The routes it answers, over its state.
    fn router(self: &Arc<Self>) -> axum::Router;

    /// Serves on `listener` in the background (a test that starts it late binds the address
    /// it reserved with [`direccion_libre`]).
    fn servir(self: &Arc<Self>, listener: TcpListener) -> JoinHandle<()> {
        let app = self.router();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() })
    }

    /// A fresh one already serving on a free loopback port; its base URL.
    fn iniciar() -> impl Future<Output = (Arc<Self>, String)> + Send {
        async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let falso = Arc::new(Self::default());
            falso.servir(listener);
            (falso, url)
        }
    }
}
