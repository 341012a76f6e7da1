//! The dispatcher: wakes whenever a job is queued or a slot frees, asks the planner what goes
//! where, and pushes each esclavo its jobs in one HTTP request. And the watchdog that declares
//! silent esclavos lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use comun::nodo::{PeticionEjecutar, RespuestaEjecutar};
use reqwest::StatusCode;
use tokio::sync::watch;

use crate::compartido::Compartido;
use crate::estado::Envio;

/// Runs until `parar` flips. No timer: it sleeps until notified.
pub async fn despachar(c: Arc<Compartido>, mut parar: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = c.despertar.notified() => {}
            _ = parar.changed() => return,
        }
        let envios = {
            let mut estado = c.estado();
            let (envios, cambios) = estado.planificar(Instant::now(), comun::ahora_ms());
            if !cambios.is_empty() {
                c.db.enviar(cambios);
                c.publicar(&estado);
            }
            envios
        };
        for envio in envios {
            tokio::spawn(enviar(c.clone(), envio));
        }
    }
}

/// Sends one esclavo its jobs and handles the answer: refused jobs wait again; if the esclavo
/// cannot be reached, it is marked lost and its jobs count a failed attempt.
async fn enviar(c: Arc<Compartido>, envio: Envio) {
    let mut peticion = c
        .http
        .post(format!("{}/ejecutar", envio.url))
        .json(&PeticionEjecutar {
            trabajos: envio.trabajos.clone(),
        });
    if let Some(token) = &c.config.token {
        peticion = peticion.bearer_auth(token);
    }
    let respuesta = match peticion.send().await {
        Ok(r) => r,
        Err(e) => {
            return inalcanzable(
                &c,
                &envio,
                format!("esclavo {} unreachable: {e}", envio.esclavo),
            );
        }
    };
    let status = respuesta.status();
    if status != StatusCode::OK && status != StatusCode::SERVICE_UNAVAILABLE {
        let cuerpo = respuesta.text().await.unwrap_or_default();
        let error = format!(
            "esclavo {} answered {status}: {}",
            envio.esclavo,
            cuerpo.trim()
        );
        if status.is_client_error() {
            // The esclavo is alive but refuses these jobs: each attempt fails, the esclavo stays.
            return rechazados_por_error(&c, &envio, error);
        }
        return inalcanzable(&c, &envio, error);
    }
    let respuesta: RespuestaEjecutar = match respuesta.json().await {
        Ok(r) => r,
        Err(e) => {
            let error = format!("esclavo {} sent an unreadable answer: {e}", envio.esclavo);
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

fn rechazados_por_error(c: &Compartido, envio: &Envio, error: String) {
    tracing::warn!("{error}");
    c.transicion_sin_esperar(|estado| {
        let ahora = comun::ahora_ms();
        envio
            .trabajos
            .iter()
            .flat_map(|a| estado.fallar(a.id, a.intento, error.clone(), ahora))
            .collect()
    });
}

fn inalcanzable(c: &Compartido, envio: &Envio, error: String) {
    tracing::warn!("{error}");
    c.transicion_sin_esperar(|estado| estado.perder(&envio.esclavo, &error, comun::ahora_ms()));
}

/// Checks heartbeats a few times per limit and declares silent esclavos lost.
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
    }
}
