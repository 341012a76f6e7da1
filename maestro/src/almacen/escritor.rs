//! Group commit, whatever the backend: one writer thread owns the backend's writing half,
//! takes every order that piled up since its last commit, applies them in **one transaction**,
//! then answers the callers that wait and publishes the number of the last order handled.
//!
//! The slower a commit (a disk with slow fsync, a database across the network), the more
//! piles up during it and the larger the next batch: the cost of a commit is shared by every
//! change in it, and nobody pays a round trip of their own.
//!
//! The writer times each commit and counts its changes ([`MedidasEscritor`]: the maestro's
//! `hpc_maestro_store_commit_seconds` and `hpc_maestro_store_batch_changes`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use prometheus::{Histogram, HistogramOpts, exponential_buckets};
use tokio::sync::{oneshot, watch};

use super::{Cambio, Escritura};

/// Most orders in one transaction.
const MAX_LOTE: usize = 4096;

/// The number of an order: its place in the order the writer receives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct NumeroOrden(u64);

/// Changes handed to the writer together, and who waits for them.
struct Orden {
    numero: NumeroOrden,
    cambios: Vec<Cambio>,
    listo: Option<oneshot::Sender<Result<(), String>>>,
}

impl Orden {
    /// Whether it only brings something new in (jobs with their file marks, an uploaded
    /// image): the maestro takes those into memory only once they are stored, so refusing one
    /// leaves memory and store in agreement.
    fn es_admision(&self) -> bool {
        self.cambios.iter().all(|c| {
            matches!(
                c,
                Cambio::Insertar(_)
                    | Cambio::MarcarLinea(..)
                    | Cambio::MarcarArchivoTareas { .. }
                    | Cambio::GuardarEntrada(_)
            )
        })
    }
}

/// The sending end of the writer's channel, with the number of the last order sent: numbering
/// and sending happen together, so orders are numbered in the order the writer receives them.
struct Buzon {
    ultima: NumeroOrden,
    escritor: mpsc::Sender<Orden>,
}

/// What the writer measures of its transactions: Prometheus histograms, registered by the
/// maestro's metrics (they share their data with these).
#[derive(Clone)]
pub struct MedidasEscritor {
    /// Time to apply and commit one transaction (a failed group commit and its retries one
    /// by one count as one).
    pub commit: Histogram,
    /// Changes in one transaction.
    pub lote: Histogram,
}

impl MedidasEscritor {
    fn new() -> Self {
        let commit = HistogramOpts::new(
            "store_commit_seconds",
            "Time the store writer took to apply and commit one transaction (a group commit)",
        )
        .buckets(exponential_buckets(0.000_05, 2.0, 17).expect("valid buckets"));
        let lote = HistogramOpts::new(
            "store_batch_changes",
            "Changes applied in one transaction of the store writer",
        )
        .buckets(exponential_buckets(1.0, 2.0, 16).expect("valid buckets"));
        MedidasEscritor {
            commit: Histogram::with_opts(commit).expect("valid histogram"),
            lote: Histogram::with_opts(lote).expect("valid histogram"),
        }
    }
}

/// How the writer last found the store: what `GET /estado` shows of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Salud {
    /// Whether the last commit went through.
    pub sano: bool,
    /// Orders held until the store can be reached again.
    pub retenidos: u64,
    /// The last commit that went through (ms since the epoch).
    pub ultimo_commit_ms: Option<u64>,
    /// The last failed commit's error and when (ms since the epoch).
    pub error: Option<(String, u64)>,
}

/// The writer's [`Salud`], shared with the maestro's readers.
#[derive(Clone)]
struct Parte(Arc<Mutex<Salud>>);

impl Parte {
    fn cambiar(&self, f: impl FnOnce(&mut Salud)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn bien(&self, retenidos: usize) {
        self.cambiar(|s| {
            s.sano = true;
            s.retenidos = retenidos as u64;
            s.ultimo_commit_ms = Some(comun::ahora_ms());
        });
    }

    /// A failed commit; `ausente`: the store could not be reached. Leaves the count of held
    /// orders as it was unless `retenidos` says.
    fn mal(&self, error: &anyhow::Error, ausente: bool, retenidos: Option<usize>) {
        self.cambiar(|s| {
            s.sano &= !ausente;
            if let Some(n) = retenidos {
                s.retenidos = n as u64;
            }
            s.error = Some((format!("{error:#}"), comun::ahora_ms()));
        });
    }
}

/// The callers' side of the writer.
pub struct Escritor {
    buzon: Mutex<Buzon>,
    /// The number of the last order the writer has handled (committed, or failed and logged).
    confirmado: watch::Receiver<NumeroOrden>,
    /// The writer's commit times and batch sizes.
    pub medidas: MedidasEscritor,
    salud: Parte,
}

impl Escritor {
    /// Starts the writer thread over `escritura`.
    pub fn arrancar(escritura: impl Escritura) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let (confirmado_tx, confirmado) = watch::channel(NumeroOrden::default());
        let medidas = MedidasEscritor::new();
        let m = medidas.clone();
        let salud = Parte(Arc::new(Mutex::new(Salud {
            sano: true,
            ..Salud::default()
        })));
        let parte = salud.clone();
        std::thread::Builder::new()
            .name("maestro-db".into())
            .spawn(move || escribir(escritura, rx, confirmado_tx, m, parte))
            .context("starting the database writer")?;
        let buzon = Buzon {
            ultima: NumeroOrden::default(),
            escritor: tx,
        };
        Ok(Escritor {
            buzon: Mutex::new(buzon),
            confirmado,
            medidas,
            salud,
        })
    }

    /// How the writer last found the store.
    pub fn salud(&self) -> Salud {
        self.salud
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Numbers and sends an order; false if the writer is gone.
    fn mandar(
        &self,
        cambios: Vec<Cambio>,
        listo: Option<oneshot::Sender<Result<(), String>>>,
    ) -> bool {
        let mut buzon = self.buzon.lock().unwrap_or_else(|e| e.into_inner());
        buzon.ultima.0 += 1;
        let orden = Orden {
            numero: buzon.ultima,
            cambios,
            listo,
        };
        buzon.escritor.send(orden).is_ok()
    }

    /// Hands changes to the writer; the answer resolves once they are committed. Without
    /// changes nothing is sent, and the answer resolves once every order sent before is handled.
    pub fn guardar(&self, cambios: Vec<Cambio>) -> Confirmacion {
        if cambios.is_empty() {
            let ultima = self.ultima_orden();
            return Confirmacion(Espera::Orden(ultima, self.confirmado.clone()));
        }
        let (tx, rx) = oneshot::channel();
        if self.mandar(cambios, Some(tx)) {
            Confirmacion(Espera::Respuesta(rx))
        } else {
            Confirmacion(Espera::Perdida)
        }
    }

    /// Hands changes to the writer without waiting for them (they are still applied in order).
    pub fn guardar_sin_esperar(&self, cambios: Vec<Cambio>) {
        if !self.mandar(cambios, None) {
            tracing::error!("database writer is gone: changes dropped");
        }
    }

    /// The number of the last order sent.
    pub fn ultima_orden(&self) -> NumeroOrden {
        self.buzon.lock().unwrap_or_else(|e| e.into_inner()).ultima
    }

    /// Waits until the writer has handled order `numero` and every one before it.
    pub async fn esperar_orden(&self, numero: NumeroOrden) {
        let mut rx = self.confirmado.clone();
        let _ = rx.wait_for(|c| *c >= numero).await;
    }
}

/// A commit to await ([`Confirmacion::esperar`]): resolves once the changes handed with it
/// are in the store.
#[must_use = "a commit not awaited promises nothing"]
pub struct Confirmacion(Espera);

enum Espera {
    /// The writer answers this order.
    Respuesta(oneshot::Receiver<Result<(), String>>),
    /// No order of its own: done once the writer has handled this one.
    Orden(NumeroOrden, watch::Receiver<NumeroOrden>),
    /// The writer is gone: nothing was sent.
    Perdida,
}

impl Confirmacion {
    /// Waits for the commit.
    pub async fn esperar(self) -> anyhow::Result<()> {
        let perdido = || anyhow::anyhow!("database writer is gone");
        match self.0 {
            Espera::Respuesta(rx) => rx
                .await
                .map_err(|_| perdido())?
                .map_err(|e| anyhow::anyhow!("database write failed: {e}")),
            Espera::Orden(numero, mut rx) => {
                rx.wait_for(|c| *c >= numero).await.map_err(|_| perdido())?;
                Ok(())
            }
            Espera::Perdida => Err(perdido()),
        }
    }
}

/// Longest pause between two tries of a change held while the store is unreachable.
const ESPERA_MAX: Duration = Duration::from_secs(2);

/// The writer thread: runs until every sender is gone.
fn escribir(
    mut escritura: impl Escritura,
    rx: mpsc::Receiver<Orden>,
    confirmado: watch::Sender<NumeroOrden>,
    medidas: MedidasEscritor,
    salud: Parte,
) {
    while let Ok(primera) = rx.recv() {
        let mut lote = vec![primera];
        while lote.len() < MAX_LOTE {
            match rx.try_recv() {
                Ok(o) => lote.push(o),
                Err(_) => break,
            }
        }
        let ultima = lote.last().map_or_else(NumeroOrden::default, |o| o.numero);
        let inicio = Instant::now();
        let cambios: usize = lote.iter().map(|o| o.cambios.len()).sum();
        match escritura.confirmar(lote.iter().flat_map(|o| &o.cambios)) {
            Ok(()) => {
                salud.bien(0);
                lote.into_iter().for_each(|o| responder(o, Ok(())));
            }
            Err(e) => {
                tracing::error!("group commit failed ({e:#}); retrying each change on its own");
                salud.mal(&e, escritura.pasajero(&e), None);
                let mut retenidas = VecDeque::new();
                for o in lote {
                    if !retenidas.is_empty() {
                        retener_o_rechazar(o, &mut retenidas);
                        continue;
                    }
                    match escritura.confirmar(o.cambios.iter()) {
                        Ok(()) => {
                            salud.bien(0);
                            responder(o, Ok(()));
                        }
                        Err(e) if escritura.pasajero(&e) && !o.es_admision() => {
                            salud.mal(&e, true, Some(retenidas.len() + 1));
                            tracing::error!(
                                "store unreachable ({e:#}): holding the changes already decided until it is back"
                            );
                            retenidas.push_back(o);
                        }
                        Err(e) => fallar(o, &e, escritura.pasajero(&e), &salud),
                    }
                }
                reintentar(&mut escritura, retenidas, &rx, &salud);
            }
        }
        medidas.commit.observe(inicio.elapsed().as_secs_f64());
        medidas.lote.observe(cambios as f64);
        confirmado.send_replace(ultima);
    }
}

/// While the store is unreachable: a change the maestro already made in memory (a dispatch, a
/// result, a cancel…) is held, in order, to be written once it is back, so memory and store
/// agree again; a new job or image, which memory takes only once it is stored, is refused at
/// once, and its submitter hears so.
fn retener_o_rechazar(o: Orden, retenidas: &mut VecDeque<Orden>) {
    if o.es_admision() {
        responder(
            o,
            Err("the store is unreachable; nothing was stored".into()),
        );
    } else {
        retenidas.push_back(o);
    }
}

/// Writes the held orders in order, each once the store takes it, pausing longer between
/// tries (up to [`ESPERA_MAX`]); orders arriving meanwhile are held or refused
/// ([`retener_o_rechazar`]). An error that is not the store's absence (a change it refuses)
/// fails that order alone, as outside an outage.
fn reintentar(
    escritura: &mut impl Escritura,
    mut retenidas: VecDeque<Orden>,
    rx: &mpsc::Receiver<Orden>,
    salud: &Parte,
) {
    let mut espera = Duration::from_millis(50);
    while let Some(o) = retenidas.pop_front() {
        match escritura.confirmar(o.cambios.iter()) {
            Ok(()) => {
                responder(o, Ok(()));
                salud.bien(retenidas.len());
                espera = Duration::from_millis(50);
            }
            Err(e) if escritura.pasajero(&e) => {
                retenidas.push_front(o);
                salud.mal(&e, true, Some(retenidas.len()));
                std::thread::sleep(espera);
                espera = (espera * 2).min(ESPERA_MAX);
                loop {
                    match rx.try_recv() {
                        Ok(nueva) => retener_o_rechazar(nueva, &mut retenidas),
                        Err(mpsc::TryRecvError::Empty) => break,
                        // The maestro is gone: nobody waits for these any more, and its next
                        // start recovers from what the store holds (jobs still `asignado` run
                        // again; nothing acknowledged was held here).
                        Err(mpsc::TryRecvError::Disconnected) => {
                            tracing::error!(
                                "maestro stopped with the store unreachable: {} held changes not written",
                                retenidas.len()
                            );
                            return;
                        }
                    }
                }
            }
            Err(e) => fallar(o, &e, false, salud),
        }
    }
    tracing::info!("store reachable again: held changes written");
}

/// An order the store refused: it fails alone, and its caller hears why.
fn fallar(o: Orden, e: &anyhow::Error, ausente: bool, salud: &Parte) {
    tracing::error!("database change failed: {e:#}");
    salud.mal(e, ausente, None);
    responder(o, Err(format!("{e:#}")));
}

fn responder(o: Orden, r: Result<(), String>) {
    if let Some(listo) = o.listo {
        let _ = listo.send(r);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc::Receiver;

    use comun::TrabajoId;

    use super::*;

    /// A backend that records each transaction's size, refuses any that holds a cancel with
    /// the reason "malo", and holds its first transaction (saying so) until the test lets it go.
    struct Falsa {
        lotes: Arc<Mutex<Vec<usize>>>,
        primera: Option<(mpsc::Sender<()>, Receiver<()>)>,
    }

    impl Escritura for Falsa {
        fn confirmar<'a>(
            &mut self,
            cambios: impl Iterator<Item = &'a Cambio>,
        ) -> anyhow::Result<()> {
            if let Some((dentro, soltar)) = self.primera.take() {
                dentro.send(()).unwrap();
                soltar.recv().unwrap();
            }
            let cambios: Vec<&Cambio> = cambios.collect();
            self.lotes.lock().unwrap().push(cambios.len());
            let malo =
                |c: &&Cambio| matches!(c, Cambio::Cancelar { motivo, .. } if motivo == "malo");
            anyhow::ensure!(!cambios.iter().any(malo), "refused");
            Ok(())
        }
    }

    /// A store that can be taken down: while `caida` is set every commit fails as an
    /// unreachable store does; it records the ids of the cancels it committed, in order.
    struct Intermitente {
        caida: Arc<std::sync::atomic::AtomicBool>,
        escritos: Arc<Mutex<Vec<u64>>>,
    }

    impl Escritura for Intermitente {
        fn confirmar<'a>(
            &mut self,
            cambios: impl Iterator<Item = &'a Cambio>,
        ) -> anyhow::Result<()> {
            anyhow::ensure!(
                !self.caida.load(std::sync::atomic::Ordering::SeqCst),
                "unreachable"
            );
            let mut escritos = self.escritos.lock().unwrap();
            for c in cambios {
                if let Cambio::Cancelar { id, .. } = c {
                    escritos.push(id.0);
                }
            }
            Ok(())
        }

        fn pasajero(&self, error: &anyhow::Error) -> bool {
            error.to_string() == "unreachable"
        }
    }

    fn insertar(id: u64) -> Vec<Cambio> {
        use comun::api::Origen;
        use comun::{Algoritmo, NuevoTrabajo, Parametros, Prioridad};
        vec![Cambio::Insertar(super::super::FilaNueva {
            id: TrabajoId(id),
            trabajo: NuevoTrabajo {
                parametros: Parametros::Espera(comun::trabajo::ParamsEspera { ms: 1 }),
                algoritmo: Algoritmo::Secuencial,
                prioridad: Prioridad::MEDIA,
                plazo_s: None,
                etiquetas: comun::trabajo::Etiquetas::default(),
            },
            origen: Origen::Api,
            creado_ms: 0,
        })]
    }

    /// While the store is unreachable, changes already made in memory are held and written in
    /// order once it is back; new jobs are refused at once, naming the cause.
    #[test]
    fn an_unreachable_store_holds_decided_changes_in_order_and_refuses_new_jobs() {
        let caida = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let escritos = Arc::new(Mutex::new(Vec::new()));
        let escritor = Escritor::arrancar(Intermitente {
            caida: caida.clone(),
            escritos: escritos.clone(),
        })
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let primera = escritor.guardar(cancelar(1, "x"));
        let nuevo = escritor.guardar(insertar(7));
        let segunda = escritor.guardar(cancelar(2, "x"));
        let error = format!("{:#}", rt.block_on(nuevo.esperar()).unwrap_err());
        assert!(error.contains("unreachable"), "{error}");
        // The held ones wait for the store, whatever came after them.
        let tarde = escritor.guardar(insertar(8));
        let error = format!("{:#}", rt.block_on(tarde.esperar()).unwrap_err());
        assert!(error.contains("unreachable"), "{error}");
        assert!(escritos.lock().unwrap().is_empty());
        caida.store(false, std::sync::atomic::Ordering::SeqCst);
        rt.block_on(primera.esperar()).unwrap();
        rt.block_on(segunda.esperar()).unwrap();
        assert_eq!(*escritos.lock().unwrap(), vec![1, 2]);
        // And the writer goes on as before.
        rt.block_on(escritor.guardar(cancelar(3, "x")).esperar())
            .unwrap();
        assert_eq!(*escritos.lock().unwrap(), vec![1, 2, 3]);
    }

    fn cancelar(id: u64, motivo: &str) -> Vec<Cambio> {
        vec![Cambio::Cancelar {
            id: TrabajoId(id),
            fin_ms: 0,
            motivo: motivo.into(),
        }]
    }

    #[test]
    fn what_piles_up_during_a_commit_goes_in_one_and_a_bad_order_fails_alone() {
        let lotes = Arc::new(Mutex::new(Vec::new()));
        let (soltar, soltada) = mpsc::channel();
        let (entra, dentro) = mpsc::channel();
        let falsa = Falsa {
            lotes: lotes.clone(),
            primera: Some((entra, soltada)),
        };
        let escritor = Escritor::arrancar(falsa).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let primera = escritor.guardar(cancelar(1, "bien"));
        dentro.recv().unwrap();
        let demas = [
            escritor.guardar(cancelar(2, "bien")),
            escritor.guardar(cancelar(3, "malo")),
            escritor.guardar(cancelar(4, "bien")),
        ];
        let sin_cambios = escritor.guardar(Vec::new());
        assert_eq!(
            escritor.ultima_orden(),
            NumeroOrden(4),
            "no order of its own"
        );
        soltar.send(()).unwrap();
        rt.block_on(primera.esperar()).unwrap();
        let [dos, tres, cuatro] = demas.map(|c| rt.block_on(c.esperar()));
        assert!(dos.is_ok() && cuatro.is_ok());
        let error = format!("{:#}", tres.unwrap_err());
        assert!(
            error.starts_with("database write failed: refused"),
            "{error}"
        );
        rt.block_on(sin_cambios.esperar()).unwrap();
        rt.block_on(escritor.esperar_orden(NumeroOrden(4)));
        // The three orders sent during the first commit went together, then one by one.
        assert_eq!(*lotes.lock().unwrap(), vec![1, 3, 1, 1, 1]);
        // Two transactions as the writer counts them (a failed group and its retries are
        // one), of 1 and 3 changes.
        assert_eq!(escritor.medidas.commit.get_sample_count(), 2);
        assert_eq!(escritor.medidas.lote.get_sample_sum(), 4.0);
    }
}
