//! A memoria node dies. While it reports its node in `crítico`, jobs wait rather than run on
//! that node's esclavo (the healthy esclavo exists but is full). Once it is SIGKILLed its
//! report goes stale after `--plazo-memoria-ms`, `GET /memoria` shows it `obsoleto`, and the
//! waiting jobs run on the esclavo it was steering them from: nothing stays blocked.

use std::time::{Duration, Instant};

use comun::api::PeticionTrabajo;
use comun::memoria::Nivel;
use comun::{Estado, Prioridad};
use fallos::{
    Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, OpcionesMemoria,
    esperar_hasta, sostener, verificar,
};

const PLAZO: Duration = Duration::from_secs(40);
const PLAZO_MEMORIA_MS: u64 = 3000;
const LARGO_MS: u64 = 15_000;
const CORTO_MS: u64 = 300;
const CORTOS: usize = 4;
/// How long the short jobs must be seen waiting while the alert is fresh.
const RETENCION: Duration = Duration::from_secs(2);
const CRITICO: &str = "nodo-critico";
const SANO: &str = "nodo-sano";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_memoria_nodes_alerts_go_stale_and_nothing_stays_blocked() {
    let esc = Escenario::nuevo("memoria_caida");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_memoria_ms: PLAZO_MEMORIA_MS,
            plazo_esclavo_ms: 3000,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let mut memoria = esc
        .memoria(OpcionesMemoria::critica(m.url(), CRITICO))
        .await;
    esperar_hasta(
        Duration::from_secs(20),
        "the maestro sees the node in critico",
        || async {
            api.memoria().await.is_ok_and(|e| {
                e.alertas
                    .iter()
                    .any(|a| a.nodo == CRITICO && a.alerta.nivel == Nivel::Critico)
            })
        },
    )
    .await;
    let mut h = esc
        .esclavo(OpcionesEsclavo {
            nodo: SANO.into(),
            ..OpcionesEsclavo::new(m.url(), "h", 1)
        })
        .await;
    let mut c = esc
        .esclavo(OpcionesEsclavo {
            nodo: CRITICO.into(),
            ..OpcionesEsclavo::new(m.url(), "c", CORTOS as u32)
        })
        .await;

    let aceptados = Aceptados::default();
    let largo = api
        .agregar(&PeticionTrabajo::espera(LARGO_MS, Prioridad::ALTA))
        .await
        .expect("submitting the long job");
    aceptados.agregar([largo]);
    api.esperar_en(largo, "h", PLAZO).await;
    let cortos = api
        .esperas(
            &aceptados,
            CORTOS,
            CORTO_MS,
            Prioridad::MEDIA,
            "the short jobs",
        )
        .await;

    // h is full and c is on a node in critico: they wait.
    sostener(RETENCION, "the short jobs to wait", || async {
        for id in &cortos {
            let t = api.trabajo(*id).await.map_err(|e| e.to_string())?;
            if t.estado != Estado::Pendiente {
                return Err(format!("job {id} is {:?} on {:?}", t.estado, t.esclavo));
            }
        }
        Ok(())
    })
    .await;
    let t = api.trabajo(cortos[0]).await.unwrap();
    let motivo = t.motivo.unwrap_or_default();
    println!("[fallos] a waiting job's motivo: {motivo}");
    assert!(
        motivo.contains("critical"),
        "the wait should be explained by the critical node: {motivo}"
    );

    // How old the node's report is when the memoria dies: it goes stale PLAZO_MEMORIA_MS after
    // it arrived.
    let edad_ms = api
        .memoria()
        .await
        .expect("/memoria")
        .nodos
        .iter()
        .find(|n| n.nodo == CRITICO)
        .expect("the node reports")
        .hace_ms;
    memoria.matar().await;
    let muerte = Instant::now();
    let muerte_ms = comun::ahora_ms();
    let mut desbloqueo_ms = u64::MAX;
    for id in &cortos {
        let t = api
            .esperar_final(*id, Duration::from_millis(PLAZO_MEMORIA_MS) + PLAZO)
            .await;
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(t.esclavo.as_deref(), Some("c"), "{t:?}");
        desbloqueo_ms = desbloqueo_ms.min(t.intentos[0].inicio_ms.saturating_sub(muerte_ms));
    }
    let cortos_s = muerte.elapsed().as_secs_f64();
    println!("[fallos] the short jobs started {desbloqueo_ms} ms after the kill");
    assert!(
        edad_ms + desbloqueo_ms + 250 >= PLAZO_MEMORIA_MS,
        "the alert should steer until the report is stale ({PLAZO_MEMORIA_MS} ms after it \
         arrived), but the jobs started {desbloqueo_ms} ms after the kill, the report being \
         {edad_ms} ms old then"
    );
    let l = api.trabajo(largo).await.unwrap();
    assert_eq!(
        (l.estado, l.esclavo.as_deref()),
        (Estado::Asignado, Some("h")),
        "the short jobs should not have waited for h"
    );
    let e = api.memoria().await.expect("/memoria");
    let nodo = e
        .nodos
        .iter()
        .find(|n| n.nodo == CRITICO)
        .expect("the dead node is still listed");
    assert!(nodo.obsoleto, "{nodo:?}");
    assert!(
        e.alertas.iter().all(|a| a.nodo != CRITICO),
        "{:?}",
        e.alertas
    );

    h.proceso().exigir_vivo();
    c.proceso().exigir_vivo();
    let r = verificar(&mut m, &[&h, &c], &aceptados, PLAZO).await;
    Informe::new(&esc, &r, 1)
        .con("plazo_memoria_ms", PLAZO_MEMORIA_MS)
        .con("retenidos_con_alerta_s", RETENCION.as_secs())
        .con("desbloqueo_tras_sigkill_ms", desbloqueo_ms)
        .con(
            "cortos_completados_tras_sigkill_s",
            fallos::informe::redondear(cortos_s),
        )
        .escribir();
}
