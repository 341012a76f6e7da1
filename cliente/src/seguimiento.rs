//! Following the queue of `cliente local` ([`Seguimiento`]) in rounds: a round starts when jobs
//! become active and ends when the queue drains, or when only jobs no esclavo can run are left
//! (algoritmo Cuda without a GPU esclavo: they would wait forever). Driven by the long-poll
//! `GET /resumen`; PNGs of completed Julia jobs are written as they complete; a summary closes
//! each round.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use comun::api::{MAX_ESPERA, MAX_LISTA, Resumen, Trabajo};
use comun::{Estado, Parametros, TrabajoId};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::api::Maestro;
use crate::consultas::escribir;
use crate::error::{Error, SALIDA_INCOMPLETO};
use crate::{progreso, salida};

/// Most rows of a summary table.
const MAX_FILAS: usize = 200;
/// Shortest time between two searches for newly completed jobs.
const MIN_ENTRE_BARRIDOS: Duration = Duration::from_millis(300);

/// Follows the queue of a local cluster and writes the PNGs of its Julia jobs.
pub struct Seguimiento {
    /// The local maestro.
    m: Maestro,
    /// Folder of the PNGs.
    salida: PathBuf,
    /// Whether progress bars are drawn.
    visibles: bool,
    /// Summaries as JSON on stdout.
    json: bool,
    /// PNGs written so far, by job.
    pngs: HashMap<TrabajoId, PathBuf>,
}

/// What the queue is doing.
enum Situacion {
    /// Jobs are running or about to.
    EnCurso,
    /// Nothing pending or running.
    Vacia,
    /// Only jobs no live esclavo can run are pending, and nothing runs.
    Atascada(Vec<Trabajo>),
    /// The counts changed while looking: look again at these.
    Cambio(Resumen),
}

/// One round: from jobs becoming active to the queue draining.
struct Ronda {
    /// Counts when the round started: what finished before is not this round's.
    base: Resumen,
    barra: ProgressBar,
    inicio: Instant,
    /// When completed jobs were last searched for PNGs, and how long that took.
    ultimo_barrido: Option<(Instant, Duration)>,
    /// `completados` at that search.
    completados_barridos: u64,
}

impl Ronda {
    fn new(base: Resumen, inicio: Instant, visible: bool) -> Self {
        Self {
            base,
            barra: progreso::barra(0, visible),
            inicio,
            ultimo_barrido: None,
            completados_barridos: base.completados,
        }
    }

    fn avanzar(&self, r: &Resumen) {
        self.barra
            .set_length(r.total().saturating_sub(finales(&self.base)));
        self.barra
            .set_position(finales(r).saturating_sub(finales(&self.base)));
    }

    /// Jobs of this round: those active at its start and those added since.
    fn trabajos(&self, r: &Resumen) -> u32 {
        let n = r.total().saturating_sub(finales(&self.base));
        u32::try_from(n).unwrap_or(u32::MAX).min(MAX_LISTA)
    }

    /// How long until the next search for PNGs may run (zero: now), if one is due.
    fn barrido_pendiente(&self, r: &Resumen) -> Option<Duration> {
        if r.completados <= self.completados_barridos {
            return None;
        }
        let Some((cuando, costo)) = self.ultimo_barrido else {
            return Some(Duration::ZERO);
        };
        // Searching costs the maestro a listing: keep it under a fifth of the time.
        let intervalo = MIN_ENTRE_BARRIDOS.max(costo * 4);
        Some(intervalo.saturating_sub(cuando.elapsed()))
    }
}

/// How long the next long poll may wait: until the next search for PNGs is due, at most
/// [`MAX_ESPERA`].
fn espera_siguiente(ronda: Option<&Ronda>, r: &Resumen) -> Duration {
    ronda
        .and_then(|x| x.barrido_pendiente(r))
        .unwrap_or(MAX_ESPERA)
        .max(Duration::from_millis(1))
}

/// Jobs that will not change again.
fn finales(r: &Resumen) -> u64 {
    r.completados + r.fallidos + r.cancelados
}

/// What `--json` prints at the end of a round.
#[derive(Serialize)]
struct InformeRonda<'a> {
    /// The maestro's counts at the end of the round (all runs on this data folder).
    resumen: Resumen,
    /// Jobs of the round, by id.
    trabajos: &'a [Trabajo],
    /// PNGs written.
    imagenes: Vec<Imagen>,
    /// Jobs left pending because no esclavo here can run them.
    atascados: &'a [Trabajo],
}

#[derive(Serialize)]
struct Imagen {
    id: TrabajoId,
    ruta: PathBuf,
}

impl Seguimiento {
    /// A watcher of the maestro `m`, writing PNGs into `salida`.
    pub fn new(m: Maestro, salida: PathBuf, visibles: bool, json: bool) -> Self {
        Self {
            m,
            salida,
            visibles,
            json,
            pngs: HashMap::new(),
        }
    }

    /// Follows the queue round after round. `inicio` holds the counts from before any job of
    /// this run could finish, taken at `desde`. With `salir`, returns after the first round: 0
    /// if all its jobs completed (or were cancelled), [`SALIDA_INCOMPLETO`] if any failed or
    /// cannot run here.
    pub async fn seguir(
        &mut self,
        inicio: Resumen,
        desde: Instant,
        salir: bool,
    ) -> Result<u8, Error> {
        let mut r = self.m.resumen().await?;
        let mut base = inicio;
        // The first round started with the cluster; later ones when jobs show up.
        let mut reloj = Some(desde);
        let mut ronda: Option<Ronda> = None;
        let mut primera = true;
        loop {
            let atascados = match self.situacion(&r).await? {
                Situacion::Cambio(nuevo) => {
                    r = nuevo;
                    continue;
                }
                Situacion::EnCurso => None,
                Situacion::Vacia => Some(Vec::new()),
                Situacion::Atascada(v) => Some(v),
            };
            match atascados {
                None => {
                    let ronda = ronda.get_or_insert_with(|| {
                        let inicio = reloj.take().unwrap_or_else(Instant::now);
                        Ronda::new(base, inicio, self.visibles)
                    });
                    ronda.avanzar(&r);
                    if ronda.barrido_pendiente(&r) == Some(Duration::ZERO) {
                        self.barrer(ronda, &r).await?;
                    }
                }
                Some(atascados) if ronda.is_some() || primera => {
                    let codigo = self.cerrar(ronda.take(), base, &r, &atascados).await?;
                    if salir {
                        return Ok(codigo);
                    }
                    self.decir(&format!(
                        "still serving at {}: add lines to the jobs file or use `cliente` from \
                         another terminal; Ctrl-C stops",
                        self.m.base()
                    ));
                    base = r;
                    reloj = None;
                }
                Some(_) => {}
            }
            primera = false;
            let espera = espera_siguiente(ronda.as_ref(), &r);
            r = self.m.esperar_resumen(r.version, espera).await?;
        }
    }

    async fn situacion(&self, r: &Resumen) -> Result<Situacion, Error> {
        if r.activos() == 0 {
            return Ok(Situacion::Vacia);
        }
        if r.asignados > 0 {
            return Ok(Situacion::EnCurso);
        }
        let pendientes = self.m.trabajos(Some(Estado::Pendiente), MAX_LISTA).await?;
        let p = &pendientes.trabajos;
        if p.is_empty()
            || pendientes.total > p.len() as u64
            || p.iter().any(|t| !t.algoritmo.necesita_gpu())
        {
            return Ok(Situacion::EnCurso);
        }
        let e = self.m.estado().await?;
        if e.resumen.version != r.version {
            return Ok(Situacion::Cambio(e.resumen));
        }
        if e.esclavos.iter().any(|x| x.vivo && x.capacidad_gpu > 0) {
            return Ok(Situacion::EnCurso);
        }
        Ok(Situacion::Atascada(pendientes.trabajos))
    }

    /// Lists the round's jobs and writes the PNGs not written yet.
    async fn barrer(&mut self, ronda: &mut Ronda, r: &Resumen) -> Result<Vec<Trabajo>, Error> {
        let t0 = Instant::now();
        let mut lista = self.m.trabajos(None, ronda.trabajos(r)).await?.trabajos;
        lista.reverse();
        for t in &lista {
            let julia = matches!(t.parametros, Parametros::Julia(_));
            let con_imagen = t.resultado.as_ref().is_some_and(|x| x.imagen);
            if t.estado != Estado::Completado
                || !julia
                || !con_imagen
                || self.pngs.contains_key(&t.id)
            {
                continue;
            }
            let ruta = self.salida.join(format!("trabajo-{}.png", t.id));
            match self.m.imagen(t.id).await {
                Ok(png) => {
                    escribir(&ruta, &png)?;
                    ronda.barra.set_message(format!("{}", ruta.display()));
                    self.pngs.insert(t.id, ruta);
                }
                Err(e) => ronda.barra.println(format!("no PNG for job {}: {e}", t.id)),
            }
        }
        ronda.ultimo_barrido = Some((Instant::now(), t0.elapsed()));
        ronda.completados_barridos = r.completados;
        Ok(lista)
    }

    /// Ends a round: last PNGs, the summary, and the exit status it deserves.
    async fn cerrar(
        &mut self,
        ronda: Option<Ronda>,
        base: Resumen,
        r: &Resumen,
        atascados: &[Trabajo],
    ) -> Result<u8, Error> {
        let mut ronda = ronda.unwrap_or_else(|| Ronda::new(base, Instant::now(), false));
        ronda.avanzar(r);
        let trabajos = self.barrer(&mut ronda, r).await?;
        ronda.barra.finish_and_clear();
        let fallidos = r.fallidos.saturating_sub(base.fallidos);
        let codigo = if fallidos > 0 || !atascados.is_empty() {
            SALIDA_INCOMPLETO
        } else {
            0
        };
        if self.json {
            self.informar_json(r, &trabajos, atascados);
            return Ok(codigo);
        }
        if trabajos.is_empty() {
            println!("no jobs to run: the queue is empty");
            return Ok(codigo);
        }
        self.resumir(&trabajos, r, &base, ronda.inicio.elapsed());
        imprimir_atascados(atascados);
        Ok(codigo)
    }

    /// The end of a round as `--json` prints it ([`InformeRonda`]).
    fn informar_json(&self, r: &Resumen, trabajos: &[Trabajo], atascados: &[Trabajo]) {
        let mut imagenes: Vec<Imagen> = self
            .pngs
            .iter()
            .map(|(id, ruta)| Imagen {
                id: *id,
                ruta: ruta.clone(),
            })
            .collect();
        imagenes.sort_by_key(|i| i.id);
        salida::json(&InformeRonda {
            resumen: *r,
            trabajos,
            imagenes,
            atascados,
        });
    }

    fn resumir(&self, trabajos: &[Trabajo], r: &Resumen, base: &Resumen, tiempo: Duration) {
        let mut t = salida::tabla_de_trabajos(&["rendimiento", "png"]);
        for x in trabajos.iter().take(MAX_FILAS) {
            let mut fila = salida::fila_de_trabajo(x);
            fila.push(salida::iteraciones_por_segundo(x.resultado.as_ref()));
            fila.push(
                self.pngs
                    .get(&x.id)
                    .map_or("-".into(), |p| p.display().to_string()),
            );
            t.add_row(fila);
        }
        salida::alinear_derecha(&mut t, &[0, 6, 7]);
        println!("\n{t}");
        if trabajos.len() > MAX_FILAS {
            println!(
                "… and {} more (cliente trabajos --limite {})",
                trabajos.len() - MAX_FILAS,
                trabajos.len()
            );
        }
        println!(
            "{} completados, {} fallidos, {} cancelados in {}",
            r.completados.saturating_sub(base.completados),
            r.fallidos.saturating_sub(base.fallidos),
            r.cancelados.saturating_sub(base.cancelados),
            salida::segundos(tiempo.as_secs_f64())
        );
        for x in trabajos.iter().filter(|x| x.estado == Estado::Fallido) {
            let error = x.intentos.iter().rev().find_map(|i| i.error.clone());
            println!(
                "  job {} fallido: {}",
                x.id,
                x.motivo.clone().or(error).unwrap_or_default()
            );
        }
    }

    fn decir(&self, texto: &str) {
        if self.json {
            eprintln!("{texto}");
        } else {
            println!("{texto}");
        }
    }
}

/// The jobs left pending because no esclavo here can run them, and why.
fn imprimir_atascados(atascados: &[Trabajo]) {
    if atascados.is_empty() {
        return;
    }
    println!(
        "\n{} run on this cluster and stay queued:",
        salida::cuenta(atascados.len() as u64, "job cannot", "jobs cannot")
    );
    for t in atascados {
        println!(
            "  job {} {} ({}): {}",
            t.id,
            t.parametros.descripcion(),
            t.algoritmo,
            t.motivo.as_deref().unwrap_or("no esclavo can run it")
        );
    }
}
