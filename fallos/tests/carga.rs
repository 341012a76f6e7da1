//! Load with chaos: 32 concurrent clients submit 100,000 small `espera` jobs (batches of 50–200
//! on `POST /trabajos`, every 20th request a single `POST /agregar_trabajo`; a probe adds single
//! jobs every 20 ms until the backlog is nearly done) to a maestro with 4 esclavos of 16 slots,
//! while a chaos task SIGKILLs a random esclavo every ~2 s and starts it again under the same
//! name shortly after. Every job must complete once within 240 s, and the maestro's resident
//! memory must stay under 400 MiB. Prints (and writes to target/fallos/carga.json) throughput,
//! submit latency and the faults injected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use comun::Prioridad;
use comun::api::PeticionTrabajo;
use fallos::informe::redondear;
use fallos::{Aceptados, Escenario, Esclavo, Informe, OpcionesEsclavo, OpcionesMaestro, verificar};

const TRABAJOS: u64 = 100_000;
const CLIENTES: u64 = 32;
const ESCLAVOS: usize = 4;
const CAPACIDAD: u32 = 16;
const LOTE_MIN: u64 = 50;
const LOTE_MAX: u64 = 200;
/// Every this many requests of a client, one is a single `POST /agregar_trabajo`.
const SOLO_CADA: u64 = 20;
const LIMITE: Duration = Duration::from_secs(240);
const RSS_LIMITE_MIB: u64 = 400;
const CAOS_CADA_MS: u64 = 2000;

/// A small generator for the scenario's random choices (xorshift64*).
struct Azar(u64);

impl Azar {
    fn new(semilla: u64) -> Self {
        Azar(semilla.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn siguiente(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `min..=max`.
    fn entre(&mut self, min: u64, max: u64) -> u64 {
        min + self.siguiente() % (max - min + 1)
    }

    fn trabajo(&mut self) -> PeticionTrabajo {
        let prioridad = Prioridad::TODAS[self.entre(0, 2) as usize];
        PeticionTrabajo::espera(self.entre(0, 2), prioridad)
    }
}

/// Submit latencies of one kind of request.
#[derive(Default)]
struct Latencias(Vec<Duration>);

impl Latencias {
    fn percentil_ms(&mut self, p: f64) -> f64 {
        self.0.sort();
        let i = ((self.0.len() as f64 * p).ceil() as usize).clamp(1, self.0.len()) - 1;
        redondear(self.0[i].as_secs_f64() * 1000.0)
    }
}

/// One client: takes jobs from the shared budget until it is spent.
async fn cliente(
    api: fallos::Api,
    k: u64,
    emitidos: Arc<AtomicU64>,
    aceptados: Aceptados,
) -> (Latencias, Latencias) {
    let mut azar = Azar::new(k + 1);
    let (mut lotes, mut solos) = (Latencias::default(), Latencias::default());
    for peticion in 0.. {
        let solo = peticion % SOLO_CADA == SOLO_CADA - 1;
        let quiero = if solo {
            1
        } else {
            azar.entre(LOTE_MIN, LOTE_MAX)
        };
        let desde = emitidos.fetch_add(quiero, Ordering::Relaxed);
        if desde >= TRABAJOS {
            break;
        }
        let n = quiero.min(TRABAJOS - desde);
        let inicio = Instant::now();
        if n == 1 {
            let id = api
                .agregar(&azar.trabajo())
                .await
                .unwrap_or_else(|e| panic!("client {k}: POST /agregar_trabajo failed: {e:#}"));
            aceptados.agregar([id]);
            solos.0.push(inicio.elapsed());
        } else {
            let lote = (0..n).map(|_| azar.trabajo()).collect();
            let ids = api
                .lote(lote)
                .await
                .unwrap_or_else(|e| panic!("client {k}: POST /trabajos failed: {e:#}"));
            aceptados.agregar(ids);
            lotes.0.push(inicio.elapsed());
        }
    }
    (lotes, solos)
}

/// Submits single jobs one after another, 20 ms apart, until `parar`: the latency of
/// `POST /agregar_trabajo` while the maestro is busy with the load and the chaos.
async fn sondear(api: fallos::Api, parar: Arc<AtomicBool>, aceptados: Aceptados) -> Latencias {
    let mut azar = Azar::new(0x50DA);
    let mut solos = Latencias::default();
    while !parar.load(Ordering::Relaxed) {
        let inicio = Instant::now();
        let id = api
            .agregar(&azar.trabajo())
            .await
            .unwrap_or_else(|e| panic!("probe: POST /agregar_trabajo failed: {e:#}"));
        aceptados.agregar([id]);
        solos.0.push(inicio.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    solos
}

/// Kills a random esclavo every ~2 s and starts it again under the same name, until `parar`.
async fn sembrar_caos(
    esc: Arc<Escenario>,
    mut esclavos: Vec<Esclavo>,
    parar: Arc<AtomicBool>,
) -> (Vec<Esclavo>, u64) {
    let mut azar = Azar::new(0xCA05);
    let mut muertes = 0;
    while !parar.load(Ordering::Relaxed) {
        // The first one early: a release build drains the load in under ten seconds.
        let pausa = if muertes == 0 {
            CAOS_CADA_MS / 4
        } else {
            azar.entre(CAOS_CADA_MS * 3 / 4, CAOS_CADA_MS * 5 / 4)
        };
        tokio::time::sleep(Duration::from_millis(pausa)).await;
        if parar.load(Ordering::Relaxed) {
            break;
        }
        let e = &mut esclavos[azar.entre(0, ESCLAVOS as u64 - 1) as usize];
        e.matar().await;
        muertes += 1;
        tokio::time::sleep(Duration::from_millis(azar.entre(200, 500))).await;
        e.reiniciar(&esc).await;
    }
    (esclavos, muertes)
}

/// Samples a process's RSS every 250 ms until `parar`; returns the largest, in KiB.
async fn medir_rss(pid: i32, parar: Arc<AtomicBool>) -> u64 {
    let mut max = 0;
    while !parar.load(Ordering::Relaxed) {
        max = max.max(fallos::proceso::rss_kib(pid).unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    max
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_jobs_from_32_clients_with_esclavos_killed_every_two_seconds() {
    let esc = Arc::new(Escenario::nuevo("carga"));
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: 1500,
            // Each SIGKILL fails the attempts running on that esclavo; a job unlucky enough to
            // be hit three times would end fallido by the default limit, which is the rule
            // working, not a lost job. The limit is raised so every job must complete.
            max_intentos: 20,
            rust_log: "warn",
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let mut esclavos = Vec::new();
    for i in 0..ESCLAVOS {
        let o = OpcionesEsclavo {
            rust_log: "warn".into(),
            ..OpcionesEsclavo::new(m.url(), &format!("e{i}"), CAPACIDAD)
        };
        esclavos.push(esc.esclavo(o).await);
    }

    let parar_rss = Arc::new(AtomicBool::new(false));
    let rss = tokio::spawn(medir_rss(m.proceso().pid, parar_rss.clone()));
    let parar_caos = Arc::new(AtomicBool::new(false));
    let caos = tokio::spawn(sembrar_caos(esc.clone(), esclavos, parar_caos.clone()));

    let inicio = Instant::now();
    let aceptados = Aceptados::default();
    let parar_sonda = Arc::new(AtomicBool::new(false));
    let sonda = tokio::spawn(sondear(api.clone(), parar_sonda.clone(), aceptados.clone()));
    let emitidos = Arc::new(AtomicU64::new(0));
    let clientes: Vec<_> = (0..CLIENTES)
        .map(|k| tokio::spawn(cliente(api.clone(), k, emitidos.clone(), aceptados.clone())))
        .collect();
    let (mut lotes, mut solos) = (Latencias::default(), Latencias::default());
    let envio = async {
        for c in clientes {
            let (l, s) = c.await.expect("a client panicked");
            lotes.0.extend(l.0);
            solos.0.extend(s.0);
        }
    };
    if tokio::time::timeout(LIMITE, envio).await.is_err() {
        panic!(
            "the load was not even submitted within {LIMITE:?}: {} of {TRABAJOS} jobs \
             acknowledged",
            aceptados.len()
        );
    }
    let envio_s = inicio.elapsed().as_secs_f64();
    println!("[fallos] the clients' {TRABAJOS} jobs acknowledged in {envio_s:.1} s");
    // The probe keeps measuring while the backlog runs, and stops near its end.
    fallos::esperar_hasta(
        LIMITE.saturating_sub(inicio.elapsed()),
        "the backlog is nearly done",
        || async { api.resumen().await.is_ok_and(|r| r.pendientes < 100) },
    )
    .await;
    parar_sonda.store(true, Ordering::Relaxed);
    solos.0.extend(sonda.await.expect("the probe panicked").0);
    let aceptados_n = aceptados.len();
    assert!(aceptados_n > TRABAJOS, "{aceptados_n}");
    let r = api
        .esperar_vacia(LIMITE.saturating_sub(inicio.elapsed()))
        .await;
    let total_s = inicio.elapsed().as_secs_f64();
    println!("[fallos] drained in {total_s:.1} s: {r:?}");

    parar_caos.store(true, Ordering::Relaxed);
    let (mut esclavos, muertes) = caos.await.expect("the chaos task panicked");
    parar_rss.store(true, Ordering::Relaxed);
    let rss_kib = rss.await.expect("the RSS sampler panicked");
    let rss_mib = rss_kib / 1024;
    println!("[fallos] {muertes} esclavos killed; the maestro's RSS peaked at {rss_mib} MiB");
    for e in &mut esclavos {
        e.proceso().exigir_vivo();
    }
    let c = verificar(
        &mut m,
        &esclavos.iter().collect::<Vec<_>>(),
        &aceptados,
        Duration::from_secs(30),
    )
    .await;

    assert!(
        muertes >= 2,
        "the chaos task should have killed an esclavo every ~{CAOS_CADA_MS} ms: {muertes} in \
         {total_s:.1} s"
    );
    assert!(
        rss_mib < RSS_LIMITE_MIB,
        "the maestro's RSS peaked at {rss_mib} MiB, over the {RSS_LIMITE_MIB} MiB bound"
    );
    let trabajos_por_s = aceptados_n as f64 / total_s;
    Informe::new(&esc, &c, muertes)
        .con("clientes", CLIENTES)
        .con("esclavos", ESCLAVOS as u64)
        .con("capacidad_por_esclavo", CAPACIDAD)
        .con("envio_s", redondear(envio_s))
        .con("total_s", redondear(total_s))
        .con("trabajos_por_s", redondear(trabajos_por_s))
        .con("peticiones_lote", lotes.0.len() as u64)
        .con("peticiones_solas", solos.0.len() as u64)
        .con("latencia_lote_p50_ms", lotes.percentil_ms(0.50))
        .con("latencia_lote_p99_ms", lotes.percentil_ms(0.99))
        .con("latencia_lote_max_ms", lotes.percentil_ms(1.0))
        .con("latencia_sola_p50_ms", solos.percentil_ms(0.50))
        .con("latencia_sola_p99_ms", solos.percentil_ms(0.99))
        .con("latencia_sola_max_ms", solos.percentil_ms(1.0))
        .con("rss_max_mib", rss_mib)
        .con("rss_limite_mib", RSS_LIMITE_MIB)
        .con("sincronizacion", "full")
        .escribir();
}
