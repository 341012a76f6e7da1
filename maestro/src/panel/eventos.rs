//! `GET /panel/eventos`: the dashboard's live feed, as server-sent events.
//!
//! - `resumen`: the job counts ([`comun::api::Resumen`] as JSON), at once on connecting and
//!   then on every change the maestro publishes ([`Servicio::suscribir`]), at most one every
//!   [`INTERVALO_MINIMO`] (changes in between are folded into the next one). It is sent once
//!   the store holds what it counts, so a page fetched on it shows the finished job.
//! - `latido`: every [`LATIDO`], for what changes without a job changing (esclavos' load,
//!   memoria reports, charts).
//!
//! The stream ends when the maestro shuts down, so a graceful stop does not wait for it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until};

use super::sesion::Sesion;
use crate::almacen::NumeroOrden;
use crate::servicio::Servicio;
use comun::api::Resumen;

/// Shortest time between two `resumen` events.
pub const INTERVALO_MINIMO: Duration = Duration::from_millis(200);
/// How often a `latido` event comes.
pub const LATIDO: Duration = Duration::from_secs(2);

/// Where one stream is.
struct Flujo {
    s: Arc<Servicio>,
    cambios: watch::Receiver<(Resumen, NumeroOrden)>,
    parando: watch::Receiver<bool>,
    latido: tokio::time::Interval,
    /// No `resumen` before this instant.
    proximo: Instant,
    /// The first event (the counts now) is still to send.
    primero: bool,
}

/// `GET /panel/eventos`.
pub async fn eventos(State(s): State<Arc<Servicio>>, sesion: Sesion) -> Response {
    if let Err(f) = sesion.leer_datos() {
        return f.into_response();
    }
    let mut latido = interval_at(Instant::now() + LATIDO, LATIDO);
    latido.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let flujo = Flujo {
        cambios: s.suscribir(),
        parando: s.parando.clone(),
        s,
        latido,
        proximo: Instant::now(),
        primero: true,
    };
    Sse::new(corriente(flujo))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn corriente(flujo: Flujo) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(flujo, |mut f| async move {
        let evento = f.siguiente().await?;
        Some((Ok(evento), f))
    })
}

impl Flujo {
    /// The next event, or `None` when the maestro shuts down.
    async fn siguiente(&mut self) -> Option<Event> {
        if *self.parando.borrow() {
            return None;
        }
        if self.primero {
            self.primero = false;
            return Some(self.resumen().await);
        }
        let (cambios, latido, parando, proximo) = (
            &mut self.cambios,
            &mut self.latido,
            &mut self.parando,
            self.proximo,
        );
        let hay_cambio = tokio::select! {
            cambio = async {
                sleep_until(proximo).await;
                cambios.changed().await
            } => {
                cambio.ok()?;
                true
            }
            _ = latido.tick() => false,
            _ = parando.wait_for(|p| *p) => return None,
        };
        Some(if hay_cambio {
            self.resumen().await
        } else {
            Event::default()
                .event("latido")
                .data(comun::ahora_ms().to_string())
        })
    }

    /// The `resumen` event of the counts now, once the store holds them.
    async fn resumen(&mut self) -> Event {
        self.cambios.borrow_and_update();
        let r = self.s.resumen_confirmado(&self.cambios).await;
        self.proximo = Instant::now() + INTERVALO_MINIMO;
        Event::default()
            .event("resumen")
            .id(r.version.to_string())
            .data(serde_json::to_string(&r).expect("counts serialize"))
    }
}
