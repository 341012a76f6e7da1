//! The dispatcher: wakes whenever a job is queued, a slot frees or a retry falls due, asks the
//! planner what goes where, and pushes each esclavo its jobs in one HTTP request. And the
//! watchdog, whose tick notices stale memoria reports, lost esclavos, and attempts long past
//! their time limit.
//!
//! **Invariant: write-ahead dispatch.** An esclavo hears of an attempt (`POST /ejecutar`) only
//! after the assignment is committed: the dispatcher hands each round's commit to a task that
//! sends once it resolves, and goes on planning meanwhile. So a maestro killed at any instant
//! never hands the same attempt number to two esclavos, and every attempt an esclavo runs has
//! its row in the store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use comun::nodo::PeticionEjecutar;
use tokio::sync::watch;

use crate::estado::{Envio, Fallo};
use crate::ids::IntentoId;
use crate::servicio::Servicio;

/// Runs until `parar` flips. It sleeps until notified, or until the earliest retry is due.
pub async fn despachar(s: Arc<Servicio>, mut parar: watch::Receiver<bool>) {
    loop {
        let reintento = s.estado().proximo_reintento();
        tokio::select! {
            _ = s.despertar.notified() => {}
            _ = dormir_hasta(reintento) => {}
            _ = parar.changed() => return,
        }
        let (envios, commit, efectos) =
            s.decidir(|e| e.planificar(Instant::now(), comun::ahora_ms()));
        if envios.is_empty() {
            continue;
        }
        // The dispatcher goes on planning while this round waits for its commit.
        let s = s.clone();
        tokio::spawn(async move {
            if let Err(e) = commit.esperar().await {
                // Nothing was sent: each job waits again in its place, as if its esclavo had
                // refused it (which also holds that esclavo until its next heartbeat, so a
                // store that is down is not retried in a tight loop).
                tracing::error!("assignments not stored, not sent, jobs queued again: {e:#}");
                s.transicion_sin_esperar(|estado| {
                    let cambios = envios
                        .iter()
                        .flat_map(|envio| &envio.trabajos)
                        .flat_map(|a| estado.devolver(IntentoId::new(a.id, a.intento)))
                        .collect();
                    ((), cambios)
                });
                return;
            }
            s.publicar(efectos);
            for envio in envios {
                tokio::spawn(enviar(s.clone(), envio));
            }
        });
    }
}

/// Sends one esclavo its jobs and handles the answer: refused jobs wait again; if the esclavo
/// cannot be reached, it is marked lost and its jobs count a failed attempt.
async fn enviar(s: Arc<Servicio>, envio: Envio) {
    let peticion = PeticionEjecutar {
        trabajos: envio.trabajos.clone(),
    };
    let respuesta = match s.esclavos.ejecutar(&envio.url, &peticion).await {
        Ok(r) => r,
        Err(e) => {
            let error = format!("esclavo {} {e}", envio.esclavo.nombre);
            if e.es_rechazo() {
                // The esclavo is alive but refuses these jobs: each attempt fails, it stays.
                return rechazados_por_error(&s, &envio, error);
            }
            return inalcanzable(&s, &envio, error);
        }
    };
    if respuesta.rechazados.is_empty() {
        return;
    }
    tracing::debug!(esclavo = %envio.esclavo.nombre, rechazados = respuesta.rechazados.len(), "jobs refused");
    s.transicion_sin_esperar(|estado| {
        let cambios = respuesta
            .rechazados
            .iter()
            .filter_map(|r| envio.trabajos.iter().find(|a| a.id == r.id))
            .flat_map(|a| estado.devolver(IntentoId::new(a.id, a.intento)))
            .collect();
        ((), cambios)
    });
}

/// Sleeps until `cuando`; forever if `None`.
async fn dormir_hasta(cuando: Option<Instant>) {
    match cuando {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

fn rechazados_por_error(s: &Servicio, envio: &Envio, error: String) {
    tracing::warn!("{error}");
    s.transicion_sin_esperar(|estado| {
        let (ahora, ahora_ms) = (Instant::now(), comun::ahora_ms());
        let cambios = envio
            .trabajos
            .iter()
            .flat_map(|a| {
                let intento = IntentoId::new(a.id, a.intento);
                estado.fallar(intento, error.clone(), Fallo::DelTrabajo, ahora, ahora_ms)
            })
            .collect();
        ((), cambios)
    });
}

fn inalcanzable(s: &Servicio, envio: &Envio, error: String) {
    tracing::warn!("{error}");
    s.transicion_sin_esperar(|estado| {
        let nombre = &envio.esclavo.nombre;
        (
            (),
            estado.perder(nombre, &error, Instant::now(), comun::ahora_ms()),
        )
    });
}

/// The watchdog: a few times per limit (of esclavos' silence and of memoria reports' age) it
/// marks stale memoria reports, declares silent esclavos lost, and fails attempts that ran
/// past their time limit and its grace without an answer from their esclavo.
pub async fn vigilar(s: Arc<Servicio>, mut parar: watch::Receiver<bool>) {
    let paso = s.config.plazo_esclavo.min(s.config.plazo_memoria) / 4;
    let mut reloj = tokio::time::interval(paso.max(Duration::from_millis(50)));
    reloj.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = reloj.tick() => {}
            _ = parar.changed() => return,
        }
        s.transicion_sin_esperar(|e| ((), e.vigilar(Instant::now(), comun::ahora_ms())));
    }
}
