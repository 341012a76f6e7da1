//! The life of a job through [`Estado`]'s transitions, without a network or a clock.

use comun::api::Carga;
use comun::nodo::Capacidades;
use comun::trabajo::ParamsEspera;
use comun::{Algoritmo, Estado as EstadoTrabajo, Parametros, Prioridad};

use super::*;
use crate::almacen::Recuperado;
use crate::cola::Pendiente;
use crate::estado::{Parada, Reglas};

fn estado() -> Estado {
    let recuperado = Recuperado {
        siguiente_id: 1,
        ..Recuperado::default()
    };
    Estado::new(
        recuperado,
        Reglas {
            reintento_base: Duration::ZERO,
            ..Reglas::new(2, Duration::from_secs(5))
        },
    )
}

fn registro(nombre: &str, instancia: u64, capacidad: u32) -> Registro {
    Registro {
        nombre: nombre.into(),
        instancia,
        url: format!("http://{nombre}"),
        nodo: "n".into(),
        capacidad,
        capacidad_gpu: 0,
        capacidades: Capacidades::default(),
    }
}

/// An esclavo with `gpus` GPUs of one slot each (described, not real: the maestro only counts).
fn registro_gpu(nombre: &str, capacidad: u32, gpus: u32) -> Registro {
    let gpu = |indice| comun::nodo::Gpu {
        indice,
        nombre: "H100".into(),
        memoria_bytes: 80 << 30,
        capacidad_computo: "9.0".into(),
        driver: "550".into(),
        pci: String::new(),
        limites: None,
    };
    Registro {
        capacidad_gpu: gpus,
        capacidades: Capacidades {
            gpus: (0..gpus).map(gpu).collect(),
            ..Capacidades::default()
        },
        ..registro(nombre, 1, capacidad)
    }
}

/// Jobs of `algoritmo`, queued.
fn con_trabajos_de(e: &mut Estado, algoritmo: Algoritmo, n: usize) -> Vec<TrabajoId> {
    let nuevos = (0..n)
        .map(|_| {
            let (mut t, origen, linea) = nuevo(Prioridad::MEDIA);
            t.algoritmo = algoritmo;
            (t, origen, linea)
        })
        .collect();
    let (filas, _) = e.admitir(nuevos, 0);
    let filas = filas.unwrap();
    e.encolar(&filas);
    filas.iter().map(|f| f.id).collect()
}

#[test]
fn an_esclavo_runs_one_cuda_job_per_gpu_and_a_result_frees_the_gpu_slot() {
    let mut e = estado();
    e.registrar(registro_gpu("g", 8, 2), Instant::now(), 0);
    let cuda = con_trabajos_de(&mut e, Algoritmo::Cuda, 3);
    let auto = con_trabajos_de(&mut e, Algoritmo::Auto, 1);
    let (envios, _) = e.planificar(Instant::now(), 0);
    let enviados: Vec<(TrabajoId, Algoritmo)> = envios[0]
        .trabajos
        .iter()
        .map(|a| (a.id, a.algoritmo))
        .collect();
    assert_eq!(
        enviados,
        [
            (cuda[0], Algoritmo::Cuda),
            (cuda[1], Algoritmo::Cuda),
            (auto[0], Algoritmo::Paralelo),
        ],
        "two GPUs: the third Cuda job waits, the Auto one runs on the CPU"
    );
    let g = e.esclavos.get("g").unwrap();
    assert_eq!((g.enviados, g.enviados_gpu), (3, 2));
    let info = &e.esclavos_info(Instant::now())[0];
    assert_eq!((info.capacidad_gpu, info.ejecutando_gpu), (2, 2));
    assert_eq!(
        resultado(&mut e, intento(cuda[0], 1), de("g", 1), 1),
        Registrado::Si
    );
    assert_eq!(e.esclavos.get("g").unwrap().enviados_gpu, 1);
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(
        envios[0].trabajos[0].id, cuda[2],
        "the freed GPU takes the waiting job"
    );
    assert_eq!(envios[0].trabajos[0].algoritmo, Algoritmo::Cuda);
}

fn nuevo(prioridad: Prioridad) -> (NuevoTrabajo, Origen, Option<LineaCargada>) {
    let t = NuevoTrabajo {
        parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
        algoritmo: Algoritmo::Secuencial,
        prioridad,
        plazo_s: None,
        etiquetas: comun::trabajo::Etiquetas::default(),
    };
    (t, Origen::Api, None)
}

fn con_trabajos(e: &mut Estado, n: usize) -> Vec<TrabajoId> {
    let (filas, cambios) = e.admitir((0..n).map(|_| nuevo(Prioridad::MEDIA)).collect(), 0);
    let filas = filas.unwrap();
    assert_eq!(cambios.len(), n);
    e.encolar(&filas);
    filas.iter().map(|f| f.id).collect()
}

/// Attempt `numero` of job `id`.
fn intento(id: TrabajoId, numero: u32) -> IntentoId {
    IntentoId::new(id, numero)
}

/// Instance `instancia` of the esclavo `nombre`.
fn de(nombre: &str, instancia: u64) -> EsclavoId {
    EsclavoId::new(nombre, instancia)
}

/// A result of `intento` reported now by `esclavo`: what the report did.
fn resultado(e: &mut Estado, intento: IntentoId, esclavo: EsclavoId, ahora_ms: u64) -> Registrado {
    e.terminar(intento, esclavo, completado(), Instant::now(), ahora_ms)
        .0
}

fn completado() -> Final {
    Final::Completado {
        resultado: "{}".into(),
        png: None,
    }
}

#[test]
fn a_result_is_recorded_once_whatever_arrives_later() {
    let mut e = estado();
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    let ids = con_trabajos(&mut e, 1);
    let (envios, cambios) = e.planificar(Instant::now(), 0);
    assert_eq!((envios.len(), cambios.len()), (1, 1));
    let (r, c) = e.terminar(
        intento(ids[0], 1),
        de("a", 1),
        completado(),
        Instant::now(),
        5,
    );
    assert_eq!((r, c.len()), (Registrado::Si, 1));
    for _ in 0..3 {
        let (r, c) = e.terminar(
            intento(ids[0], 1),
            de("a", 1),
            completado(),
            Instant::now(),
            6,
        );
        assert_eq!((r, c.len()), (Registrado::Ignorado, 0));
    }
    let s = e.resumen();
    assert_eq!((s.completados, s.asignados, s.pendientes), (1, 0, 0));
    assert_eq!(e.esclavos.get("a").unwrap().enviados, 0);
}

#[test]
fn a_lost_esclavo_s_jobs_run_again_and_its_late_result_still_counts_once() {
    let mut e = con_reglas(Reglas {
        reintento_base: Duration::ZERO,
        plazo_esclavo: Duration::from_secs(1),
        ..Reglas::new(2, Duration::from_secs(5))
    });
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 1), t0, 0);
    let ids = con_trabajos(&mut e, 1);
    e.planificar(Instant::now(), 0);
    let cambios = e.revisar_perdidos(t0 + Duration::from_secs(2), 0);
    assert!(matches!(
        cambios[..],
        [Cambio::Fallar {
            definitivo: false,
            ..
        }]
    ));
    assert_eq!(
        e.trabajos.en_memoria(ids[0]),
        Some(EstadoTrabajo::Pendiente)
    );
    e.registrar(registro("b", 2, 1), t0, 0);
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].esclavo.nombre, "b");
    assert_eq!(envios[0].trabajos[0].intento, 2);
    // The lost esclavo's answer for attempt 1 arrives first: it wins.
    assert_eq!(
        resultado(&mut e, intento(ids[0], 1), de("a", 1), 1),
        Registrado::Si
    );
    assert_eq!(
        resultado(&mut e, intento(ids[0], 2), de("b", 2), 2),
        Registrado::Ignorado
    );
    assert_eq!(e.resumen().completados, 1);
}

#[test]
fn too_many_failures_fail_the_job_for_good() {
    let mut e = estado();
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    let ids = con_trabajos(&mut e, 1);
    e.planificar(Instant::now(), 0);
    e.terminar(
        intento(ids[0], 1),
        de("a", 1),
        Final::Fallido("boom".into()),
        Instant::now(),
        0,
    );
    assert_eq!(
        e.trabajos.en_memoria(ids[0]),
        Some(EstadoTrabajo::Pendiente)
    );
    e.planificar(Instant::now(), 0);
    let (_, c) = e.terminar(
        intento(ids[0], 2),
        de("a", 1),
        Final::Fallido("boom".into()),
        Instant::now(),
        0,
    );
    assert!(matches!(
        c[..],
        [Cambio::Fallar {
            definitivo: true,
            fallos: 2,
            ..
        }]
    ));
    assert_eq!(e.trabajos.en_memoria(ids[0]), None);
    assert_eq!(e.resumen().fallidos, 1);
}

#[test]
fn a_restarted_esclavo_s_jobs_run_again() {
    let mut e = estado();
    e.registrar(registro("a", 1, 2), Instant::now(), 0);
    con_trabajos(&mut e, 2);
    e.planificar(Instant::now(), 0);
    assert_eq!(e.resumen().asignados, 2);
    let cambios = e.registrar(registro("a", 2, 2), Instant::now(), 0);
    assert_eq!(cambios.len(), 2);
    assert_eq!(e.resumen().pendientes, 2);
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(
        envios[0].trabajos.len(),
        2,
        "the new instance has both slots free"
    );
}

#[test]
fn refused_jobs_keep_their_place_and_the_esclavo_counts_as_full() {
    let mut e = estado();
    e.registrar(registro("a", 1, 2), Instant::now(), 0);
    let ids = con_trabajos(&mut e, 3);
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].trabajos.len(), 2);
    e.devolver(intento(ids[0], 1));
    assert_eq!(
        e.trabajos.cola.primero(crate::cola::Clase::Cpu).unwrap().id,
        ids[0]
    );
    assert!(
        e.planificar(Instant::now(), 0).0.is_empty(),
        "full until its next heartbeat"
    );
    let latido = Latido {
        nombre: "a".into(),
        instancia: 1,
        carga: Carga::default(),
        ejecutando: vec![ids[1]],
        drenando: false,
    };
    assert_eq!(e.latido(&latido, Instant::now()), Some(vec![]));
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].trabajos[0].id, ids[0]);
    assert_eq!(
        envios[0].trabajos[0].intento, 1,
        "a refusal is not an attempt"
    );
}

#[test]
fn cancelling_a_running_job_ignores_its_result_and_frees_the_slot_when_it_ends() {
    let mut e = estado();
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    let ids = con_trabajos(&mut e, 2);
    e.planificar(Instant::now(), 0);
    assert!(e.cancelar(ids[0], 0).is_some());
    assert!(e.cancelar(ids[0], 0).is_none());
    assert!(
        e.planificar(Instant::now(), 0).0.is_empty(),
        "its slot is busy until it ends"
    );
    assert_eq!(
        resultado(&mut e, intento(ids[0], 1), de("a", 1), 0),
        Registrado::Ignorado
    );
    assert_eq!(e.planificar(Instant::now(), 0).0[0].trabajos[0].id, ids[1]);
    let s = e.resumen();
    assert_eq!((s.cancelados, s.completados, s.asignados), (1, 0, 1));
}

#[test]
fn heartbeats_of_unknown_instances_ask_for_registration() {
    let mut e = estado();
    let l = Latido {
        nombre: "a".into(),
        instancia: 1,
        carga: Carga::default(),
        ejecutando: vec![],
        drenando: false,
    };
    assert!(e.latido(&l, Instant::now()).is_none());
    e.registrar(registro("a", 2, 1), Instant::now(), 0);
    assert!(e.latido(&l, Instant::now()).is_none());
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    assert!(e.latido(&l, Instant::now()).is_some());
}

fn con_reglas(reglas: Reglas) -> Estado {
    let recuperado = Recuperado {
        siguiente_id: 1,
        ..Recuperado::default()
    };
    Estado::new(recuperado, reglas)
}

fn latido(nombre: &str, instancia: u64, ejecutando: &[TrabajoId]) -> Latido {
    Latido {
        nombre: nombre.into(),
        instancia,
        carga: Carga::default(),
        ejecutando: ejecutando.to_vec(),
        drenando: false,
    }
}

fn fallido(error: &str) -> Final {
    Final::Fallido(error.into())
}

#[test]
fn a_failed_attempt_waits_for_its_retry_and_the_delay_doubles() {
    let s = Duration::from_secs;
    let mut e = con_reglas(Reglas::new(10, s(5)));
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 1), t0, 0);
    let id = con_trabajos(&mut e, 1)[0];
    assert_eq!(e.planificar(t0, 0).0.len(), 1);
    let (r, _) = e.terminar(intento(id, 1), de("a", 1), fallido("boom"), t0, 0);
    assert_eq!(r, Registrado::Si);
    assert_eq!(e.trabajos.en_memoria(id), Some(EstadoTrabajo::Pendiente));
    assert_eq!((e.resumen().pendientes, e.resumen().asignados), (1, 0));
    assert_eq!(e.cola_por_prioridad()[1].pendientes, 1);
    let motivo = e.explicar(id).unwrap();
    assert!(
        motivo.starts_with("retry 1 after an error, in ") && motivo.contains("boom"),
        "{motivo}"
    );
    assert_eq!(e.proximo_reintento(), Some(t0 + s(1)));
    assert!(
        e.planificar(t0 + s(1) - Duration::from_millis(1), 0)
            .0
            .is_empty()
    );
    let (envios, _) = e.planificar(t0 + s(1), 0);
    assert_eq!(envios[0].trabajos[0].intento, 2);
    assert!(e.proximo_reintento().is_none());
    // The second failure waits twice as long.
    let t1 = t0 + s(5);
    e.terminar(intento(id, 2), de("a", 1), fallido("boom"), t1, 0);
    assert_eq!(e.proximo_reintento(), Some(t1 + s(2)));
    assert!(
        e.planificar(t1 + s(2) - Duration::from_millis(1), 0)
            .0
            .is_empty()
    );
    assert_eq!(e.planificar(t1 + s(2), 0).0[0].trabajos[0].intento, 3);
}

#[test]
fn a_lost_or_restarted_esclavo_s_jobs_go_back_at_once_but_count_as_failed() {
    let mut e = con_reglas(Reglas::new(10, Duration::from_secs(5)));
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 1), t0, 0);
    e.registrar(registro("b", 1, 1), t0, 0);
    let ids = con_trabajos(&mut e, 2);
    e.planificar(t0, 0);
    let cambios = e.perder("a", "gone", t0, 0);
    assert!(matches!(cambios[..], [Cambio::Fallar { fallos: 1, .. }]));
    let cambios = e.registrar(registro("b", 2, 1), t0, 0);
    assert!(matches!(cambios[..], [Cambio::Fallar { fallos: 1, .. }]));
    assert!(
        e.trabajos.reintentos.is_empty(),
        "no delay for the esclavo's failures"
    );
    let (envios, _) = e.planificar(t0, 0);
    let enviados: Vec<TrabajoId> = envios[0].trabajos.iter().map(|a| a.id).collect();
    assert_eq!(
        (envios[0].esclavo.nombre.as_str(), enviados),
        ("b", vec![ids[0]])
    );
}

#[test]
fn a_job_waiting_for_its_retry_can_be_cancelled_cleared_or_finished_by_a_late_result() {
    let mut e = con_reglas(Reglas::new(10, Duration::from_secs(5)));
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 3), t0, 0);
    let ids = con_trabajos(&mut e, 3);
    e.planificar(t0, 0);
    for &id in &ids {
        e.terminar(intento(id, 1), de("a", 1), fallido("boom"), t0, 0);
    }
    assert_eq!(e.trabajos.reintentos.len(), 3);
    assert!(matches!(
        e.cancelar(ids[0], 0),
        Some(Cambio::Cancelar { .. })
    ));
    assert!(
        e.tomar_efectos().paradas.is_empty(),
        "nothing runs: nothing to stop"
    );
    assert_eq!(e.trabajos.en_memoria(ids[0]), None);
    // A result of the failed attempt (a time limit the esclavo overran) still counts.
    let (r, _) = e.terminar(intento(ids[1], 1), de("a", 1), completado(), t0, 0);
    assert_eq!(r, Registrado::Si);
    assert_eq!(e.limpiar(0).len(), 1);
    assert!(e.trabajos.reintentos.is_empty() && e.proximo_reintento().is_none());
    let s = e.resumen();
    assert_eq!((s.pendientes, s.cancelados, s.completados), (0, 2, 1));
}

#[test]
fn attempts_carry_their_time_limit_and_the_watchdog_fails_them_past_the_grace() {
    let s = Duration::from_secs;
    let mut e = con_reglas(Reglas {
        plazo_trabajo: s(10),
        gracia_plazo: s(2),
        ..Reglas::new(3, s(5))
    });
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 2), t0, 0);
    let (mut con_plazo, sin_plazo) = (nuevo(Prioridad::ALTA), nuevo(Prioridad::MEDIA));
    con_plazo.0.plazo_s = Some(1);
    let (filas, _) = e.admitir(vec![con_plazo, sin_plazo], 0);
    let filas = filas.unwrap();
    e.encolar(&filas);
    let (envios, _) = e.planificar(t0, 0);
    let plazos: Vec<u64> = envios[0].trabajos.iter().map(|a| a.plazo_ms).collect();
    assert_eq!(plazos, vec![1_000, 10_000]);
    let id = filas[0].id;
    assert!(
        !e.trabajos
            .hay_plazos_vencidos(t0 + Duration::from_millis(2_900))
    );
    let tarde = t0 + Duration::from_millis(3_100);
    assert!(e.trabajos.hay_plazos_vencidos(tarde));
    let cambios = e.vencer_plazos(tarde, 0);
    match &cambios[..] {
        [
            Cambio::Fallar {
                intento:
                    IntentoId {
                        trabajo: i,
                        numero: 1,
                    },
                error,
                definitivo: false,
                ..
            },
        ] => {
            assert_eq!(*i, id);
            assert_eq!(
                error,
                "time limit of 1 s exceeded (no answer from esclavo a)"
            );
        }
        otro => panic!("{otro:?}"),
    }
    let paradas = e.tomar_efectos().paradas;
    assert_eq!(paradas.len(), 1);
    assert_eq!((paradas[0].id, paradas[0].url.as_str()), (id, "http://a"));
    assert_eq!(paradas[0].motivo, "time limit of 1 s exceeded");
    assert!(
        e.trabajos.reintentos.contiene(id),
        "retried after the backoff"
    );
    assert!(
        !e.trabajos.hay_plazos_vencidos(tarde),
        "the other job has 10 s"
    );
    // The esclavo's own late report of the stopped attempt changes nothing; a late result
    // of it would still win.
    let (r, _) = e.terminar(
        intento(id, 1),
        de("a", 1),
        fallido("time limit of 1 s exceeded"),
        tarde,
        0,
    );
    assert_eq!(r, Registrado::Ignorado);
    assert_eq!(
        e.terminar(intento(id, 1), de("a", 1), completado(), tarde, 0)
            .0,
        Registrado::Si
    );
}

#[test]
fn without_a_default_limit_a_job_without_its_own_runs_unlimited() {
    let mut e = con_reglas(Reglas {
        plazo_trabajo: Duration::ZERO,
        ..Reglas::new(3, Duration::from_secs(5))
    });
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 1), t0, 0);
    con_trabajos(&mut e, 1);
    let (envios, _) = e.planificar(t0, 0);
    assert_eq!(envios[0].trabajos[0].plazo_ms, 0);
    assert!(
        !e.trabajos
            .hay_plazos_vencidos(t0 + Duration::from_secs(1_000_000))
    );
}

#[test]
fn cancelling_a_running_job_tells_its_esclavo_and_its_heartbeat_answer() {
    let mut e = estado();
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 3), t0, 0);
    let ids = con_trabajos(&mut e, 4);
    e.planificar(t0, 0);
    assert!(e.cancelar(ids[0], 0).is_some());
    let paradas = e.tomar_efectos().paradas;
    assert_eq!(
        paradas,
        vec![Parada {
            esclavo: de("a", 1),
            url: "http://a".into(),
            id: ids[0],
            motivo: "cancelled by a user".into(),
        }]
    );
    e.terminar(intento(ids[1], 1), de("a", 1), completado(), t0, 0);
    let desconocido = TrabajoId(999);
    // ids[3] waits in the queue (3 slots): still wanted, like the running ids[2].
    let l = latido("a", 1, &[ids[0], ids[1], ids[2], ids[3], desconocido]);
    assert_eq!(e.latido(&l, t0), Some(vec![ids[0], ids[1], desconocido]));
    // The cancelled attempt frees its slot once the esclavo reports it stopped.
    let (r, _) = e.terminar(
        intento(ids[0], 1),
        de("a", 1),
        fallido("cancelled: by a user"),
        t0,
        0,
    );
    assert_eq!(r, Registrado::Ignorado);
    assert_eq!(e.esclavos.get("a").unwrap().enviados, 1);
}

#[test]
fn after_a_restart_jobs_an_esclavo_still_runs_are_wanted_while_pending() {
    let t0 = Instant::now();
    let p = Pendiente {
        id: TrabajoId(5),
        parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
        algoritmo: Algoritmo::Secuencial,
        prioridad: Prioridad::MEDIA,
        intentos: 1,
        fallos: 0,
        plazo_s: None,
    };
    let recuperado = Recuperado {
        pendientes: vec![p],
        siguiente_id: 6,
        ..Recuperado::default()
    };
    let mut e = Estado::new(recuperado, Reglas::new(3, Duration::from_secs(5)));
    e.registrar(registro("a", 1, 1), t0, 0);
    e.registrar(registro("b", 1, 1), t0, 0);
    let id = TrabajoId(5);
    let l = latido("a", 1, &[id]);
    assert_eq!(
        e.latido(&l, t0),
        Some(vec![]),
        "pending: its result is wanted"
    );
    let (envios, _) = e.planificar(t0, 0);
    assert_eq!(
        envios[0].esclavo.nombre, "b",
        "a's slot holds the old attempt"
    );
    assert_eq!(
        e.latido(&latido("b", 1, &[id]), t0),
        Some(vec![]),
        "b runs it now"
    );
    assert_eq!(
        e.latido(&l, t0),
        Some(vec![id]),
        "a's old attempt is superseded"
    );
    // Should a's old attempt still end first, it wins, and b is told to stop the other.
    let (r, _) = e.terminar(intento(id, 1), de("a", 1), completado(), t0, 0);
    assert_eq!(r, Registrado::Si);
    let paradas = e.tomar_efectos().paradas;
    assert_eq!(paradas.len(), 1);
    assert_eq!(
        (paradas[0].esclavo.nombre.as_str(), paradas[0].id),
        ("b", id)
    );
    assert_eq!(paradas[0].motivo, "attempt 1 finished the job first");
    assert_eq!(e.latido(&latido("b", 1, &[id]), t0), Some(vec![id]));
}

/// Job `id` as the store holds it: `estado`, with attempts numbered 1 to `intentos`.
fn guardado(id: TrabajoId, estado: EstadoTrabajo, intentos: u32) -> comun::api::Trabajo {
    comun::api::Trabajo {
        id,
        parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
        algoritmo: Algoritmo::Secuencial,
        prioridad: Prioridad::MEDIA,
        estado,
        intentos: (1..=intentos)
            .map(|numero| comun::api::Intento {
                numero,
                esclavo: "a".into(),
                inicio_ms: 0,
                fin_ms: Some(1),
                error: Some("boom".into()),
            })
            .collect(),
        esclavo: None,
        creado_ms: 0,
        iniciado_ms: None,
        terminado_ms: None,
        origen: Origen::Api,
        plazo_s: Some(7),
        resultado: None,
        motivo: None,
        task_id: None,
        descripcion: None,
        algoritmo_pedido: None,
    }
}

#[test]
fn a_failed_job_retried_runs_as_its_next_attempt_with_its_failures_forgotten() {
    let mut e = estado();
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    let id = con_trabajos(&mut e, 1)[0];
    for numero in 1..=2 {
        e.planificar(Instant::now(), 0);
        e.terminar(
            intento(id, numero),
            de("a", 1),
            fallido("boom"),
            Instant::now(),
            0,
        );
    }
    assert_eq!(e.resumen().fallidos, 1);
    let cambio = e.reintentar(&guardado(id, EstadoTrabajo::Fallido, 2));
    assert!(matches!(cambio, Ok(Cambio::Reintentar { id: i }) if i == id));
    let r = e.resumen();
    assert_eq!((r.fallidos, r.pendientes), (0, 1));
    assert_eq!(e.trabajos.en_memoria(id), Some(EstadoTrabajo::Pendiente));
    // A second retry of the same job finds it pending.
    assert_eq!(
        e.reintentar(&guardado(id, EstadoTrabajo::Fallido, 2))
            .unwrap_err(),
        Rechazo::Estado(EstadoTrabajo::Pendiente)
    );
    let (envios, _) = e.planificar(Instant::now(), 0);
    let a = &envios[0].trabajos[0];
    assert_eq!((a.intento, a.plazo_ms), (3, 7000));
    // Its failures were forgotten: one failure now is not its last (the limit is 2).
    let (_, c) = e.terminar(
        intento(id, 3),
        de("a", 1),
        fallido("boom"),
        Instant::now(),
        0,
    );
    assert!(matches!(
        c[..],
        [Cambio::Fallar {
            definitivo: false,
            fallos: 1,
            ..
        }]
    ));
}

#[test]
fn only_failed_or_cancelled_jobs_are_retried_and_a_cancelled_one_once_its_attempt_stopped() {
    let mut e = estado();
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    let ids = con_trabajos(&mut e, 2);
    e.planificar(Instant::now(), 0);
    let rechazo = |e: &mut Estado, id, estado| e.reintentar(&guardado(id, estado, 1)).unwrap_err();
    assert_eq!(
        rechazo(&mut e, ids[0], EstadoTrabajo::Asignado),
        Rechazo::Estado(EstadoTrabajo::Asignado)
    );
    assert_eq!(
        rechazo(&mut e, ids[1], EstadoTrabajo::Pendiente),
        Rechazo::Estado(EstadoTrabajo::Pendiente)
    );
    let desconocido = TrabajoId(99);
    assert_eq!(
        rechazo(&mut e, desconocido, EstadoTrabajo::Completado),
        Rechazo::Estado(EstadoTrabajo::Completado)
    );
    // Cancelled while it runs: refused until its esclavo reports the attempt.
    e.cancelar(ids[0], 0).unwrap();
    let parando = rechazo(&mut e, ids[0], EstadoTrabajo::Cancelado);
    assert_eq!(
        parando,
        Rechazo::Parando {
            esclavo: "a".into(),
            intento: 1
        }
    );
    assert!(
        parando
            .to_string()
            .contains("has not stopped its attempt 1")
    );
    e.terminar(
        intento(ids[0], 1),
        de("a", 1),
        fallido("stopped"),
        Instant::now(),
        0,
    );
    assert_eq!(e.resumen().cancelados, 1);
    assert!(
        e.reintentar(&guardado(ids[0], EstadoTrabajo::Cancelado, 1))
            .is_ok()
    );
    assert_eq!(e.resumen().cancelados, 0);
    // It waits behind the job queued before it, by id.
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].trabajos[0].id, ids[0]);
    assert_eq!(envios[0].trabajos[0].intento, 2);
}

#[test]
fn a_new_priority_gives_a_pending_job_its_new_place_and_a_running_one_is_refused() {
    let mut e = estado();
    let ids = con_trabajos(&mut e, 3);
    let c = e.priorizar(ids[2], Prioridad::ALTA);
    assert!(
        matches!(c, Some(Cambio::Priorizar { id, prioridad: Prioridad::ALTA }) if id == ids[2])
    );
    let cola = e.cola_por_prioridad();
    assert_eq!((cola[0].pendientes, cola[1].pendientes), (1, 2));
    e.registrar(registro("a", 1, 1), Instant::now(), 0);
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].trabajos[0].id, ids[2]);
    assert!(e.priorizar(ids[2], Prioridad::BAJA).is_none());
    assert!(e.priorizar(TrabajoId(99), Prioridad::BAJA).is_none());
    // Down to baja, the oldest job goes after the other one.
    assert!(e.priorizar(ids[0], Prioridad::BAJA).is_some());
    e.terminar(
        intento(ids[2], 1),
        de("a", 1),
        completado(),
        Instant::now(),
        0,
    );
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].trabajos[0].id, ids[1]);
}

#[test]
fn a_job_waiting_for_its_retry_takes_a_new_priority_and_keeps_its_delay() {
    let s = Duration::from_secs;
    let mut e = con_reglas(Reglas::new(10, s(5)));
    let t0 = Instant::now();
    e.registrar(registro("a", 1, 1), t0, 0);
    let id = con_trabajos(&mut e, 1)[0];
    e.planificar(t0, 0);
    e.terminar(intento(id, 1), de("a", 1), fallido("boom"), t0, 0);
    assert!(e.priorizar(id, Prioridad::ALTA).is_some());
    let cola = e.cola_por_prioridad();
    assert_eq!((cola[0].pendientes, cola[1].pendientes), (1, 0));
    assert_eq!(e.proximo_reintento(), Some(t0 + s(1)));
    let (envios, _) = e.planificar(t0 + s(1), 0);
    assert_eq!(envios[0].trabajos[0].intento, 2);
    assert_eq!(e.cola_por_prioridad()[0].asignados, 1);
}

#[test]
fn a_draining_esclavo_gets_nothing_new_and_its_hand_back_burns_no_attempt() {
    // One failure allowed: a hand-back counted as a failure would fail the job for good.
    let mut e = con_reglas(Reglas {
        reintento_base: Duration::ZERO,
        ..Reglas::new(1, Duration::from_secs(5))
    });
    e.registrar(registro("a", 1, 2), Instant::now(), 0);
    let ids = con_trabajos(&mut e, 2);
    let (envios, _) = e.planificar(Instant::now(), 0);
    assert_eq!(envios[0].trabajos.len(), 2);

    // It says it drains: nothing more goes to it, though it has no free slot anyway; then a
    // third job waits with a free slot there.
    let mut l = latido("a", 1, &ids);
    l.drenando = true;
    assert_eq!(e.latido(&l, Instant::now()), Some(vec![]));
    assert!(e.esclavos_info(Instant::now())[0].drenando);
    assert_eq!(
        resultado(&mut e, intento(ids[0], 1), de("a", 1), 1),
        Registrado::Si,
        "a draining esclavo's results count"
    );
    let tercero = con_trabajos(&mut e, 1)[0];
    assert!(e.planificar(Instant::now(), 0).0.is_empty(), "draining");
    l.drenando = false;
    e.latido(&l, Instant::now());
    assert!(
        e.planificar(Instant::now(), 0).0.is_empty(),
        "a drain lasts while the same process runs"
    );

    // Another process of it cannot make it leave; it leaves, handing back what it runs.
    assert!(e.baja(&de("a", 2), "stopped", 7).is_none());
    let (devueltos, cambios) = e.baja(&de("a", 1), "grace period over", 7).unwrap();
    assert_eq!(devueltos, vec![ids[1]]);
    match &cambios[..] {
        [
            Cambio::Ceder {
                intento: i,
                fin_ms: 7,
                motivo,
            },
        ] => {
            assert_eq!(*i, intento(ids[1], 1));
            assert_eq!(motivo, "handed back by esclavo a: grace period over");
        }
        otro => panic!("{otro:?}"),
    }
    assert!(e.esclavos.get("a").is_none(), "forgotten");
    assert_eq!(
        e.trabajos.en_memoria(ids[1]),
        Some(EstadoTrabajo::Pendiente)
    );

    // Both waiting jobs run on b; the handed-back one as its next attempt, and it can still
    // fail once before it fails for good (max one failure: it has none).
    e.registrar(registro("b", 1, 2), Instant::now(), 0);
    let (envios, _) = e.planificar(Instant::now(), 0);
    let mut enviados: Vec<(TrabajoId, u32)> = envios[0]
        .trabajos
        .iter()
        .map(|a| (a.id, a.intento))
        .collect();
    enviados.sort();
    assert_eq!(enviados, vec![(ids[1], 2), (tercero, 1)]);
    let (_, c) = e.terminar(
        intento(ids[1], 2),
        de("b", 1),
        Final::Fallido("boom".into()),
        Instant::now(),
        8,
    );
    assert!(
        matches!(
            c[..],
            [Cambio::Fallar {
                fallos: 1,
                definitivo: true,
                ..
            }]
        ),
        "{c:?}"
    );
}

#[test]
fn an_operator_drains_an_esclavo_by_name_until_a_new_process_registers() {
    let mut e = estado();
    e.registrar(registro("a", 1, 2), Instant::now(), 0);
    assert!(e.drenar("nadie", Instant::now()).is_none());
    let info = e.drenar("a", Instant::now()).unwrap();
    assert!(info.drenando && info.vivo);
    con_trabajos(&mut e, 1);
    assert!(e.planificar(Instant::now(), 0).0.is_empty());
    e.registrar(registro("a", 1, 2), Instant::now(), 0);
    assert!(
        e.planificar(Instant::now(), 0).0.is_empty(),
        "the same process registering again stays drained"
    );
    e.registrar(registro("a", 2, 2), Instant::now(), 0);
    assert_eq!(e.planificar(Instant::now(), 0).0.len(), 1, "a new process");
}
