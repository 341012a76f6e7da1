//! The maestro dies while its disk stalls. The database's write lock is held from outside (as a
//! disk that takes seconds to fsync would hold the writer) and an esclavo's slot frees: the
//! maestro picks a waiting job for it but must not send it before that assignment is durable
//! (write-ahead). It is then SIGKILLed. Started again, it must not lose track of what ran:
//! every job completes once, each attempt number of a job is run by one esclavo only, and
//! every attempt row names the esclavo that really ran it.

use std::collections::BTreeMap;
use std::time::Duration;

use comun::api::PeticionTrabajo;
use comun::{Estado, Prioridad, TrabajoId};
use fallos::verificacion::historial_inconsistente;
use fallos::{
    Aceptados, Escenario, Esclavo, Informe, OpcionesEsclavo, OpcionesMaestro, esperar_hasta,
    sostener, verificar,
};

const PLAZO: Duration = Duration::from_secs(40);
const CORTO_MS: u64 = 1500;
const LARGO_MS: u64 = 8000;
const ENVIADO_MS: u64 = 4000;

/// Every (job, attempt) an esclavo ran or runs, with its name.
async fn intentos_de(e: &Esclavo, vistos: &mut BTreeMap<(TrabajoId, u32), Vec<String>>) {
    let v = e.estado().await.expect("an esclavo's /estado");
    let pares = v
        .historial
        .iter()
        .map(|t| (t.id, t.intento))
        .chain(v.ejecutando.iter().map(|t| (t.id, t.intento)));
    for par in pares {
        let quien = vistos.entry(par).or_default();
        if !quien.contains(&v.nombre) {
            quien.push(v.nombre.clone());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_sent_while_the_disk_stalls_keeps_a_true_history_across_a_crash() {
    let esc = Escenario::nuevo("disco_lento");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: 60_000,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let e1 = esc.esclavo(OpcionesEsclavo::new(m.url(), "e1", 2)).await;
    let aceptados = Aceptados::default();
    let mut ids = Vec::new();
    for ms in [CORTO_MS, LARGO_MS, ENVIADO_MS] {
        let id = api
            .agregar(&PeticionTrabajo::espera(ms, Prioridad::MEDIA))
            .await
            .expect("submitting a job");
        ids.push(id);
    }
    aceptados.agregar(ids.clone());
    let (corto, largo, enviado) = (ids[0], ids[1], ids[2]);
    api.esperar_en(corto, "e1", PLAZO).await;
    api.esperar_en(largo, "e1", PLAZO).await;

    // The disk stalls: another connection holds the write lock of the maestro's database.
    let bloqueo = rusqlite::Connection::open(m.base_de_datos()).expect("opening the database");
    bloqueo
        .execute_batch("BEGIN IMMEDIATE")
        .expect("taking the write lock");
    println!("[fallos] the database's write lock is held: commits stall");
    // The short job ends and its slot frees in memory, so the dispatcher picks the waiting
    // job for e1; but an esclavo hears of an attempt only once the database holds it
    // (write-ahead), so while the disk stalls the job must not reach e1.
    esperar_hasta(PLAZO, "e1 finishes the short job", || async {
        e1.estado()
            .await
            .is_ok_and(|v| v.historial.iter().any(|t| t.id == corto))
    })
    .await;
    sostener(
        Duration::from_secs(3),
        "the waiting job not to reach e1 while its assignment is not durable",
        || async {
            let v = e1.estado().await.map_err(|e| e.to_string())?;
            match v.ejecutando.iter().find(|t| t.id == enviado) {
                Some(t) => Err(format!("e1 runs it as attempt {}", t.intento)),
                None => Ok(()),
            }
        },
    )
    .await;
    m.matar().await;
    bloqueo
        .execute_batch("ROLLBACK")
        .expect("releasing the lock");
    drop(bloqueo);
    println!("[fallos] the maestro died with job {enviado}'s assignment not durable and not sent");

    // Started again; a second esclavo gives the redispatch somewhere to go.
    m.reiniciar(&esc).await;
    let e2 = esc.esclavo(OpcionesEsclavo::new(m.url(), "e2", 4)).await;
    let t = api.esperar_final(enviado, PLAZO).await;
    assert_eq!(t.estado, Estado::Completado, "{t:?}");
    esperar_hasta(PLAZO, "every job is final", || async {
        api.resumen().await.is_ok_and(|r| r.activos() == 0)
    })
    .await;

    let mut vistos = BTreeMap::new();
    intentos_de(&e1, &mut vistos).await;
    intentos_de(&e2, &mut vistos).await;
    println!("[fallos] attempts run, by esclavo: {vistos:?}");
    let t = api.trabajo(enviado).await.unwrap();
    let repetidos: Vec<_> = vistos.iter().filter(|(_, quien)| quien.len() > 1).collect();
    let mut historial_ok = true;
    if !repetidos.is_empty() {
        historial_ok = false;
        historial_inconsistente(format!(
            "one attempt number of a job was run by two esclavos: {repetidos:?}; job \
             {enviado}'s attempts as the maestro records them: {:?}",
            t.intentos
        ));
    }
    for i in &t.intentos {
        if let Some(quien) = vistos.get(&(enviado, i.numero))
            && quien.as_slice() != std::slice::from_ref(&i.esclavo)
        {
            historial_ok = false;
            historial_inconsistente(format!(
                "attempt {} of job {enviado} ran on {quien:?}; the maestro records {:?}",
                i.numero, t.intentos
            ));
        }
    }

    let c = verificar(&mut m, &[&e1, &e2], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 2)
        .con("historial_del_enviado_coherente", historial_ok)
        .escribir();
}
