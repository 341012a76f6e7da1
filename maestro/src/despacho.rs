//! The dispatcher: wakes whenever a job is queued, a slot frees or a retry falls due, asks the
//! planner what goes where, and pushes each esclavo its jobs in one HTTP request. The watchdog
//! that declares silent esclavos lost and fails attempts long past their time limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use comun::nodo::PeticionEjecutar;
use tokio::sync::watch;

use crate::compartido::Compartido;
use crate::estado::{Envio, Fallo};

/// Runs until `parar` flips. It sleeps until notified, or until the earliest retry is due.
pub async fn despachar(c: Arc<Compartido>, mut parar: watch::Receiver<bool>) {
    loop {
        let reintento = c.estado().proximo_reintento();
        tokio::select! {
            _ = c.despertar.notified() => {}
            _ = dormir_hasta(reintento) => {}
            _ = parar.changed() => return,
        }
        let (envios, commit) = {
            let mut estado = c.estado();
            let (envios, cambios) = estado.planificar(Instant::now(), comun::ahora_ms());
            if cambios.is_empty() {
                continue;
            }
            let commit = c.almacen.guardar(cambios);
            c.publicar(&estado);
            (envios, commit)
        };
        // Write-ahead: an esclavo hears of an attempt only once the database knows it, so a
        // maestro killed in between never hands out the same attempt number twice. The
        // dispatcher goes on planning while this round waits for its commit.
        let c = c.clone();
        tokio::spawn(async move {
            if let Err(e) = commit.await {
                tracing::error!("assignments not stored, not sent: {e:#}");
                return;
            }
            for envio in envios {
                tokio::spawn(enviar(c.clone(), envio));
            }
        });
    }
}

/// Sends one esclavo its jobs and handles the answer: refused jobs wait again; if the esclavo
/// cannot be reached, it is marked lost and its jobs count a failed attempt.
async fn enviar(c: Arc<Compartido>, envio: Envio) {
    let peticion = PeticionEjecutar {
        trabajos: envio.trabajos.clone(),
    };
    let respuesta = match c.esclavos.ejecutar(&envio.url, &peticion).await {
        Ok(r) => r,
        Err(e) => {
            let error = format!("esclavo {} {e}", envio.esclavo);
            if e.es_rechazo() {
                // The esclavo is alive but refuses these jobs: each attempt fails, it stays.
                return rechazados_por_error(&c, &envio, error);
            }
            return inalcanzable(&c, &envio, error);
        }
    };
    if respuesta.rechazados.is_empty() {
        return;
    }
    tracing::debug!(esclavo = %envio.esclavo, rechazados = respuesta.rechazados.len(), "jobs refused");
    c.transicion_sin_esperar(|estado| {
        respuesta
            .rechazados
            .iter()
            .filter_map(|r| envio.trabajos.iter().find(|a| a.id == r.id))
            .flat_map(|a| estado.devolver(a.id, a.intento))
            .collect()
    });
}

/// Sleeps until `cuando`; forever if `None`.
async fn dormir_hasta(cuando: Option<Instant>) {
    match cuando {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

fn rechazados_por_error(c: &Compartido, envio: &Envio, error: String) {
    tracing::warn!("{error}");
    c.transicion_sin_esperar(|estado| {
        let (ahora, ahora_ms) = (Instant::now(), comun::ahora_ms());
        envio
            .trabajos
            .iter()
            .flat_map(|a| {
                let error = error.clone();
                estado.fallar(a.id, a.intento, error, Fallo::DelTrabajo, ahora, ahora_ms)
            })
            .collect()
    });
}

fn inalcanzable(c: &Compartido, envio: &Envio, error: String) {
    tracing::warn!("{error}");
    c.transicion_sin_esperar(|estado| {
        estado.perder(&envio.esclavo, &error, Instant::now(), comun::ahora_ms())
    });
}

/// Checks heartbeats a few times per limit and declares silent esclavos lost; fails attempts
/// that ran past their time limit and its grace without an answer from their esclavo.
pub async fn vigilar_esclavos(c: Arc<Compartido>, mut parar: watch::Receiver<bool>) {
    let plazo = c.config.plazo_esclavo;
    let paso = plazo.min(c.config.plazo_memoria) / 4;
    let mut reloj = tokio::time::interval(paso.max(Duration::from_millis(50)));
    reloj.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = reloj.tick() => {}
            _ = parar.changed() => return,
        }
        if c.estado().caducar_memoria(Instant::now()) {
            c.despertar.notify_one();
        }
        let hay_perdidos = c
            .estado()
            .esclavos
            .values()
            .any(|e| e.vivo && e.ultimo_latido.elapsed() > plazo);
        if hay_perdidos {
            c.transicion_sin_esperar(|estado| {
                estado.revisar_perdidos(plazo, Instant::now(), comun::ahora_ms())
            });
        }
        if c.estado().hay_plazos_vencidos(Instant::now()) {
            c.transicion_sin_esperar(|estado| {
                estado.vencer_plazos(Instant::now(), comun::ahora_ms())
            });
        }
    }
}
