//! The watched jobs file (`trabajos.txt`).
//!
//! Loaded at start, then again whenever the file system says it changed (inotify through the
//! `notify` crate, on its folder, so editors that replace the file are seen too), with a slow
//! poll of its size and modification time as a fallback.
//!
//! Each line is identified by its text and by which occurrence of that text it is (the second
//! `Secuencial,800,600,100,1` is a different job from the first). Identities already queued are
//! stored in the database in the same transaction as their jobs, so appending or editing lines
//! queues exactly the new ones, once, across restarts too. Removing a line cancels nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use comun::api::{InformeArchivo, Origen};
use comun::archivo::parsear;
use notify::Watcher;
use tokio::sync::{mpsc, watch};

use crate::almacen::LineaCargada;
use crate::servicio::Servicio;

/// Watches `ruta` until `parar` flips.
pub async fn vigilar(s: Arc<Servicio>, ruta: PathBuf, mut parar: watch::Receiver<bool>) {
    let clave = clave(&ruta);
    let nombre = ruta.display().to_string();
    let mut cargadas = match s.almacen.lineas_cargadas(&clave).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(
                "cannot read which lines of {nombre} were loaded: {e:#}; not watching it"
            );
            return;
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _observador = observar(&ruta, tx);
    let mut vigilante = Vigilante {
        servicio: s,
        ruta,
        clave,
        nombre,
        firma: None,
        rechazos_vistos: HashSet::new(),
    };
    vigilante.cargar(&mut cargadas).await;
    let mut sondeo = tokio::time::interval(vigilante.servicio.config.sondeo_archivo);
    sondeo.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            Some(()) = rx.recv() => {
                while rx.try_recv().is_ok() {}
                vigilante.cargar(&mut cargadas).await;
            }
            _ = sondeo.tick() => {
                if vigilante.firma != firma(&vigilante.ruta) {
                    vigilante.cargar(&mut cargadas).await;
                }
            }
            _ = parar.changed() => return,
        }
    }
}

/// How the database names a watched file: its absolute path.
fn clave(ruta: &Path) -> String {
    std::path::absolute(ruta)
        .unwrap_or_else(|_| ruta.to_path_buf())
        .display()
        .to_string()
}

/// Size and modification time: what the fallback poll compares.
fn firma(ruta: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(ruta).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Starts a file-system watcher on the file's folder; events for the file wake the loop.
/// Without one (no inotify, folder missing) the slow poll still works.
fn observar(ruta: &Path, tx: mpsc::UnboundedSender<()>) -> Option<notify::RecommendedWatcher> {
    let carpeta = std::path::absolute(ruta)
        .ok()?
        .parent()
        .map(Path::to_path_buf)?;
    let nombre = ruta.file_name()?.to_os_string();
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev
            && ev.paths.iter().any(|p| p.file_name() == Some(&nombre))
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| tracing::warn!("no file watcher ({e}); polling the jobs file instead"))
    .ok()?;
    w.watch(&carpeta, notify::RecursiveMode::NonRecursive)
        .map_err(|e| {
            tracing::warn!(
                "cannot watch {} ({e}); polling the jobs file instead",
                carpeta.display()
            )
        })
        .ok()?;
    Some(w)
}

struct Vigilante {
    servicio: Arc<Servicio>,
    ruta: PathBuf,
    clave: String,
    nombre: String,
    /// Size and mtime at the last reading.
    firma: Option<(u64, SystemTime)>,
    /// Malformed lines already logged, so a reload does not log them again.
    rechazos_vistos: HashSet<(usize, String)>,
}

impl Vigilante {
    /// Reads the file and queues the lines not queued before.
    async fn cargar(&mut self, cargadas: &mut HashSet<(String, u32)>) {
        self.firma = firma(&self.ruta);
        let texto = match tokio::fs::read_to_string(&self.ruta).await {
            Ok(t) => t,
            Err(e) => {
                let error = format!("cannot read {}: {e}", self.nombre);
                self.informar(|i| i.error = Some(error));
                return;
            }
        };
        let mut archivo = parsear(&texto);
        if let Err(e) = crate::entradas::rechazar_lineas(&self.servicio.almacen, &mut archivo).await
        {
            let error = format!("cannot check the uploaded images its lines name: {e:#}");
            self.informar(|i| i.error = Some(error));
            return;
        }
        for r in &archivo.rechazadas {
            if self.rechazos_vistos.insert((r.linea, r.texto.clone())) {
                tracing::warn!(
                    "{}:{}: line not loaded: {} ({})",
                    self.nombre,
                    r.linea,
                    r.motivo,
                    r.texto
                );
            }
        }
        let mut ocurrencias: HashMap<&str, u32> = HashMap::new();
        let mut nuevos = Vec::new();
        for l in &archivo.trabajos {
            let n = ocurrencias.entry(l.texto.as_str()).or_insert(0);
            *n += 1;
            if cargadas.contains(&(l.texto.clone(), *n)) {
                continue;
            }
            let linea = LineaCargada {
                archivo: self.clave.clone(),
                texto: l.texto.clone(),
                ocurrencia: *n,
            };
            let origen = Origen::Archivo {
                archivo: self.nombre.clone(),
                linea: l.linea,
            };
            nuevos.push((l.trabajo.clone(), origen, Some(linea)));
        }
        let claves: Vec<(String, u32)> = nuevos
            .iter()
            .filter_map(|(_, _, l)| l.as_ref().map(|l| (l.texto.clone(), l.ocurrencia)))
            .collect();
        let n = nuevos.len();
        match self.servicio.admitir(nuevos).await {
            Ok(_) => {
                cargadas.extend(claves);
                if n > 0 {
                    tracing::info!("{}: {n} new jobs queued", self.nombre);
                }
                let rechazadas = archivo.rechazadas;
                self.informar(|i| {
                    i.cargados += n as u64;
                    i.rechazadas = rechazadas;
                    i.error = None;
                });
            }
            Err(e) => {
                tracing::error!("{}: new lines not queued: {e:#}", self.nombre);
                let error = format!("new lines not queued: {e:#}");
                self.informar(|i| i.error = Some(error));
            }
        }
    }

    /// Updates the watched file's report (`/estado` shows it), as read now.
    fn informar(&self, f: impl FnOnce(&mut InformeArchivo)) {
        self.servicio.informe_archivo.send_modify(|informe| {
            let informe = informe.get_or_insert_with(|| InformeArchivo {
                archivo: self.nombre.clone(),
                leido_ms: None,
                cargados: 0,
                rechazadas: Vec::new(),
                error: None,
            });
            informe.leido_ms = Some(comun::ahora_ms());
            f(informe);
        });
    }
}
