//! Several maestros on one PostgreSQL database: one leads (plans, dispatches, watches the jobs
//! file and the task folder, answers the API), the others follow and forward every request to
//! it, and one of them takes over by itself when the leader dies.
//!
//! A replica starts as a follower. Every third of the lease time it tries to take the lease
//! ([`lider::tomar`]); while another replica holds it, it serves the whole API by forwarding
//! each request to the leader's URL (from the row `lider`) and answers `GET /ping` itself. Once
//! it has the lease it stops forwarding, opens the store under its fencing number (recovery
//! as at a restart: running jobs are queued again, late results of earlier attempts are
//! ignored) and runs as the maestro on the same socket, renewing the lease. It steps down when
//! the lease is another's (a renewal that finds a newer epoch) or may be (no renewal went
//! through for a whole lease time: the database unreachable, or this replica cut off from
//! it): it drops its state in memory and follows again on the same socket, its esclavos moving
//! on to the new leader. Meanwhile fencing refuses each of its writes.
//!
//! Takeover bound: a leader's lease lasts `plazo` after its last renewal (every `plazo`/3), and
//! followers try every `plazo`/3: a follower leads at most about `plazo` + `plazo`/3 after the
//! leader's death (4 s with the default 3 s), plus its recovery.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comun::api::InfoReplica;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_postgres::Client;

use crate::Config;
use crate::almacen::postgres::{self, lider};

/// The default lease time.
pub const PLAZO: Duration = Duration::from_secs(3);

/// The largest request body a follower forwards.
const LIMITE_CUERPO: usize = 1 << 30;

/// Who this replica is among the others.
#[derive(Debug, Clone)]
pub struct Replica {
    /// Its name, unique among the replicas (a replica started again under its name takes its
    /// lease back at once).
    pub nombre: String,
    /// The URL the other replicas forward requests to while it leads.
    pub url: String,
    /// The lease time.
    pub plazo: Duration,
}

/// Runs this maestro as one of several replicas on `config.base` until `shutdown`: it follows
/// until it takes the lease, leads until it loses it, then follows again, on the same socket.
pub async fn run(
    config: Config,
    replica: Replica,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let base = config
        .base
        .clone()
        .context("replicas share a PostgreSQL database (--base)")?;
    let mut cliente = postgres::conectar(&base).await?;
    postgres::migrar(&mut cliente)
        .await
        .context("creating or upgrading the schema")?;
    let (parar_tx, parar) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = parar_tx.send(true);
    });
    let socket = listener.into_std()?;
    // A replica started again under its name, or the first one, leads at once: nothing is
    // forwarded before that first try.
    let desde = Instant::now();
    let primera = lider::tomar(&cliente, &replica.nombre, &replica.url, replica.plazo).await;
    let mut lease = primera.ok().flatten().map(|epoca| Lease { epoca, desde });
    loop {
        let lease = match lease.take() {
            Some(l) => l,
            None => match seguir(&config, &replica, &socket, &mut cliente, &parar).await? {
                Some(l) => l,
                None => return Ok(()),
            },
        };
        tracing::info!(epoca = lease.epoca, replica = %replica.nombre, "this replica leads");
        let escucha = TcpListener::from_std(socket.try_clone()?)?;
        let fin = liderar(
            config.clone(),
            replica.clone(),
            lease,
            escucha,
            parar.clone(),
        )
        .await?;
        if fin == Fin::Parada {
            return Ok(());
        }
        tracing::warn!(replica = %replica.nombre, "following again");
        if cliente.is_closed() {
            match postgres::conectar(&base).await {
                Ok(c) => cliente = c,
                Err(e) => tracing::warn!("{e:#}"),
            }
        }
    }
}

/// Follows: forwards every request to the leader until this replica takes the lease (`None`
/// once told to stop).
async fn seguir(
    config: &Config,
    replica: &Replica,
    socket: &std::net::TcpListener,
    cliente: &mut Client,
    parar: &watch::Receiver<bool>,
) -> anyhow::Result<Option<Lease>> {
    let base = config.base.clone().expect("checked at start");
    // Never itself: a lease of its own that it gave up is retaken at the first try.
    let otro = |l: &lider::Lider| l.vigente && l.replica != replica.nombre;
    // Every call bounded: a connection cut off from the database hangs rather than fails.
    let plazo = replica.plazo / 3;
    let actual = a_tiempo(plazo, lider::leer(cliente))
        .await
        .ok()
        .filter(otro);
    tracing::info!(lider = ?actual.as_ref().map(|l| &l.url), "following");
    let (lider_tx, lider_rx) = watch::channel(actual.map(|l| l.url));
    let (fin_tx, fin_rx) = watch::channel(false);
    let proxy = {
        let router = router(Proxy::new(config, lider_rx)?);
        let listener = TcpListener::from_std(socket.try_clone()?)?;
        let transporte = config.transporte.clone();
        let (mut parar, mut fin) = (parar.clone(), fin_rx);
        tokio::spawn(async move {
            let apagado = async move {
                tokio::select! {
                    _ = parar.wait_for(|p| *p) => {}
                    _ = fin.wait_for(|f| *f) => {}
                }
            };
            plataforma::servir(listener, router, &transporte, apagado).await
        })
    };
    let mut colgada = false;
    let lease = loop {
        if cliente.is_closed() || colgada {
            match a_tiempo(plazo, postgres::conectar(&base)).await {
                Ok(c) => (*cliente, colgada) = (c, false),
                Err(e) => tracing::warn!("{e:#}"),
            }
        }
        let anuncio = lider::anunciar(cliente, &replica.nombre, &replica.url);
        if let Err(e) = a_tiempo(plazo, anuncio).await {
            tracing::warn!("{e:#}");
            colgada = true;
        }
        let desde = Instant::now();
        let toma = lider::tomar(cliente, &replica.nombre, &replica.url, replica.plazo);
        match a_tiempo(replica.plazo, toma).await {
            Ok(Some(epoca)) => break Lease { epoca, desde },
            Ok(None) => {}
            Err(e) => {
                tracing::warn!("{e:#}");
                colgada = true;
            }
        }
        match a_tiempo(plazo, lider::leer(cliente)).await {
            Ok(l) => {
                let url = otro(&l).then_some(l.url);
                lider_tx.send_if_modified(|actual| {
                    let cambio = *actual != url;
                    if cambio {
                        tracing::info!(lider = ?url, "following");
                    }
                    *actual = url;
                    cambio
                });
            }
            Err(e) => tracing::warn!("{e:#}"),
        }
        let mut parar = parar.clone();
        tokio::select! {
            _ = parar.wait_for(|p| *p) => {
                let _ = fin_tx.send(true);
                proxy.await.context("the forwarding server panicked")??;
                return Ok(None);
            }
            _ = tokio::time::sleep(replica.plazo / 3) => {}
        }
    };
    // The forwarding server stops accepting at once; requests it forwarded meanwhile (a long
    // poll may last a minute) finish on their own connections, not holding the takeover.
    let _ = fin_tx.send(true);
    if let Ok(r) = tokio::time::timeout(Duration::from_secs(1), proxy).await {
        r.context("the forwarding server panicked")??;
    }
    Ok(Some(lease))
}

/// `f`, or an error once `plazo` has passed without its answer.
async fn a_tiempo<T>(
    plazo: Duration,
    f: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(plazo, f)
        .await
        .unwrap_or_else(|_| anyhow::bail!("PostgreSQL did not answer within {plazo:?}"))
}

/// How a leadership ended.
#[derive(Debug, PartialEq, Eq)]
enum Fin {
    /// The maestro was told to stop.
    Parada,
    /// The lease is, or may be, another's.
    Perdida,
}

/// A lease this replica took: its epoch, and an instant before the database granted it (the
/// lease is valid until at least `desde` + the lease time, whatever the clocks).
struct Lease {
    epoca: i64,
    desde: Instant,
}

/// How long a deposed leader waits for its requests before it stops serving anyway.
const GRACIA_DEPUESTO: Duration = Duration::from_secs(2);

/// Runs the maestro under `lease`, renewing it, until `parar`, until the lease is another's,
/// or until no renewal went through for a whole lease time (the database unreachable: another
/// replica may lead by now, so this one steps down rather than keep esclavos it cannot
/// dispatch to). Its state in memory goes with it: the next leader, or this replica again,
/// rebuilds it from the database.
async fn liderar(
    mut config: Config,
    replica: Replica,
    lease: Lease,
    listener: TcpListener,
    parar: watch::Receiver<bool>,
) -> anyhow::Result<Fin> {
    let epoca = lease.epoca;
    config.epoca_lider = Some(epoca);
    let base = config.base.clone().expect("checked at start");
    // Its own connection, for the renewals: the follower's may be stuck on a partition.
    let cliente = postgres::conectar(&base).await?;
    let (replicas_tx, replicas) = watch::channel(Vec::new());
    ver_replicas(&cliente, &replica, &replicas_tx).await;
    config.replicas = Some(replicas);
    let cliente = Arc::new(tokio::sync::Mutex::new(cliente));
    let (perdido_tx, perdido) = watch::channel(false);
    let renovacion = {
        let cliente = cliente.clone();
        tokio::spawn(async move {
            let (mut valida_desde, mut colgada) = (lease.desde, false);
            loop {
                tokio::time::sleep(replica.plazo / 3).await;
                let inicio = Instant::now();
                let intento = async {
                    let mut c = cliente.lock().await;
                    if c.is_closed() || colgada {
                        *c = postgres::conectar(&base).await?;
                    }
                    let renovada = lider::renovar(&c, epoca, replica.plazo).await?;
                    if renovada {
                        ver_replicas(&c, &replica, &replicas_tx).await;
                    }
                    anyhow::Ok(renovada)
                };
                let r = a_tiempo(replica.plazo / 3, intento).await;
                colgada = r.is_err();
                match r {
                    Ok(true) => valida_desde = inicio,
                    Ok(false) => {
                        tracing::error!(epoca, "another replica has taken over the leadership");
                        let _ = perdido_tx.send(true);
                        return;
                    }
                    // Fencing keeps the writes safe meanwhile; once the lease may have
                    // expired, another replica may lead: step down.
                    Err(e) if valida_desde.elapsed() >= replica.plazo => {
                        tracing::error!(
                            epoca,
                            "{e:#}: no renewal for a whole lease time, stepping down"
                        );
                        let _ = perdido_tx.send(true);
                        return;
                    }
                    Err(e) => tracing::warn!("{e:#}"),
                }
            }
        })
    };
    let apagado = {
        let (mut parar, mut perdido) = (parar, perdido.clone());
        async move {
            tokio::select! {
                _ = parar.wait_for(|p| *p) => {}
                _ = perdido.wait_for(|p| *p) => {}
            }
        }
    };
    // A deposed leader's requests may wait on commits that will never come (a partition):
    // it waits for them a little, then drops them.
    let limite = {
        let mut perdido = perdido.clone();
        async move {
            let _ = perdido.wait_for(|p| *p).await;
            tokio::time::sleep(GRACIA_DEPUESTO).await;
        }
    };
    let r = tokio::select! {
        r = crate::run(config, listener, apagado) => r,
        _ = limite => Ok(()),
    };
    renovacion.abort();
    if *perdido.borrow() {
        if let Err(e) = r {
            tracing::warn!("the deposed maestro stopped with an error: {e:#}");
        }
        return Ok(Fin::Perdida);
    }
    let soltar = async { lider::soltar(&*cliente.lock().await, epoca).await };
    match tokio::time::timeout(Duration::from_secs(2), soltar).await {
        Ok(Err(e)) => tracing::warn!("{e:#}"),
        Err(_) => tracing::warn!("releasing the leadership: no answer"),
        Ok(Ok(())) => {}
    }
    r.map(|()| Fin::Parada)
}

/// Announces this replica and reads them all, for `GET /estado`.
async fn ver_replicas(c: &Client, replica: &Replica, tx: &watch::Sender<Vec<InfoReplica>>) {
    let r = async {
        lider::anunciar(c, &replica.nombre, &replica.url).await?;
        lider::replicas(c, replica.plazo).await
    };
    match r.await {
        Ok(v) => {
            tx.send_replace(v);
        }
        Err(e) => tracing::warn!("{e:#}"),
    }
}

/// What a follower forwards with.
#[derive(Clone)]
struct Proxy {
    http: reqwest::Client,
    lider: watch::Receiver<Option<String>>,
}

impl Proxy {
    fn new(config: &Config, lider: watch::Receiver<Option<String>>) -> anyhow::Result<Self> {
        let http = plataforma::cliente_http(config.ca.as_ref())
            .connect_timeout(Duration::from_secs(2))
            .build()
            .context("building the forwarding client")?;
        Ok(Proxy { http, lider })
    }
}

fn router(p: Proxy) -> Router {
    Router::new()
        .route(
            "/ping",
            axum::routing::get(|| async { axum::Json(comun::api::Ping::ok("maestro")) }),
        )
        .fallback(reenviar)
        .with_state(p)
}

/// Headers that belong to one connection, never forwarded.
const DE_CONEXION: [HeaderName; 5] = [
    header::CONNECTION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn copiar(origen: &HeaderMap, destino: &mut HeaderMap) {
    for (k, v) in origen {
        if !DE_CONEXION.contains(k) {
            destino.append(k.clone(), v.clone());
        }
    }
}

/// Forwards a request to the leader and its answer back; 503 while no replica leads.
async fn reenviar(State(p): State<Proxy>, req: Request) -> Response {
    let Some(lider) = p.lider.borrow().clone() else {
        return no_disponible("no maestro leads at the moment (a takeover is under way): retry");
    };
    let (partes, cuerpo) = req.into_parts();
    let ruta = partes.uri.path_and_query().map_or("/", |r| r.as_str());
    let cuerpo = match axum::body::to_bytes(cuerpo, LIMITE_CUERPO).await {
        Ok(b) => b,
        Err(e) => return no_disponible(&format!("reading the request body: {e}")),
    };
    let mut cabeceras = HeaderMap::new();
    copiar(&partes.headers, &mut cabeceras);
    let respuesta = p
        .http
        .request(
            partes.method,
            format!("{}{ruta}", lider.trim_end_matches('/')),
        )
        .headers(cabeceras)
        .body(cuerpo)
        .send()
        .await;
    let respuesta = match respuesta {
        Ok(r) => r,
        Err(e) => {
            return no_disponible(&format!("the leading maestro {lider} did not answer: {e}"));
        }
    };
    let estado = respuesta.status();
    let mut cabeceras = HeaderMap::new();
    copiar(respuesta.headers(), &mut cabeceras);
    // Streamed as it comes, not buffered: the dashboard's event stream never ends.
    let trozos = futures_util::stream::unfold(respuesta, |mut r| async move {
        match r.chunk().await {
            Ok(Some(b)) => Some((Ok(b), r)),
            Ok(None) => None,
            Err(e) => Some((Err(e), r)),
        }
    });
    let mut r = Response::new(Body::from_stream(trozos));
    *r.status_mut() = estado;
    *r.headers_mut() = cabeceras;
    r
}

fn no_disponible(mensaje: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(comun::CuerpoError::new(mensaje)),
    )
        .into_response()
}
