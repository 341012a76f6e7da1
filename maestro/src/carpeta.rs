//! The orchestrator's task folder (`task_queues/`): JSON task files dropped into it are queued
//! whole and moved to `processed/<timestamp>_<name>.json`, or refused whole and moved to
//! `rechazados/<timestamp>_<name>.json` beside `<timestamp>_<name>.error.json`, which names
//! every bad task by index, `task_id`, field and reason ([`comun::tareas`] reads them).
//!
//! **A file is taken only once it is complete.** With file notification (inotify through the
//! `notify` crate) a file is taken when the writer closes it or renames it into the folder; the
//! poll never takes a file that appeared after the watch began, so one not yet closed is left
//! alone however long the writer pauses, and however late the notification comes. The files
//! already there when it began (and every file, without notification or after it lost events)
//! are the slow poll's: it takes one once its size and modification time stood still for one
//! whole poll period, unless a write to it was heard meanwhile (then its close takes it). The
//! `processed/` and `rechazados/` folders are made once the watch is in place: a script that
//! waits for them knows that what it writes next is watched.
//!
//! **Exactly once.** A file's jobs are committed in one transaction together with its name
//! and SHA-256 (`archivos_tareas`); the move comes after. A maestro killed between the two
//! finds the file again at start, sees it in the store, and only moves it.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use comun::api::Origen;
use comun::tareas::ErrorTarea;
use notify::Watcher;
use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind, RenameMode};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::almacen::Cambio;
use crate::servicio::Servicio;

/// Where queued files go, inside the task folder.
pub const PROCESADOS: &str = "processed";
/// Where refused files go, with their `.error.json`.
pub const RECHAZADOS: &str = "rechazados";
/// Test hook: with this variable set to `1`, the maestro aborts right after committing a
/// file's tasks, before moving it (the crash the exactly-once rule is about).
pub const PRUEBA_ABORTAR_TRAS_COMMIT: &str = "HPC_PRUEBA_ABORTAR_TRAS_COMMIT_TAREAS";

/// What the watcher hears.
enum Aviso {
    /// Written to: not complete until closed.
    Escribiendose(OsString),
    /// A file closed after writing, or renamed into the folder: complete.
    Completo(OsString),
    /// Notification failed or lost events: from now on the poll alone decides.
    Perdida(String),
}

/// Watches `carpeta` until `parar` flips.
pub async fn vigilar(s: Arc<Servicio>, carpeta: PathBuf, mut parar: watch::Receiver<bool>) {
    let crear = |ruta: &Path| {
        std::fs::create_dir_all(ruta).map_err(|e| {
            tracing::error!(
                "cannot create {}: {e}; not watching the task folder",
                ruta.display()
            )
        })
    };
    if crear(&carpeta).is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let observador = observar(&carpeta, tx);
    // Listed once the watch is in place: whatever appears later has its events coming.
    let sondeables = observador.as_ref().map(|_| {
        std::fs::read_dir(&carpeta)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default()
    });
    for sub in [PROCESADOS, RECHAZADOS] {
        if crear(&carpeta.join(sub)).is_err() {
            return;
        }
    }
    let mut v = Vigilante {
        servicio: s,
        carpeta,
        sondeables,
        firmas: HashMap::new(),
    };
    tracing::info!("watching the task folder {}", v.carpeta.display());
    let mut sondeo = tokio::time::interval(v.servicio.config.sondeo_archivo);
    sondeo.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // What notification said comes first: a poll must not act on older news.
            biased;
            Some(aviso) = rx.recv() => match aviso {
                Aviso::Escribiendose(n) => {
                    if let Some(s) = &mut v.sondeables {
                        s.remove(&n);
                    }
                }
                Aviso::Perdida(por_que) => {
                    if v.sondeables.take().is_some() {
                        tracing::warn!(
                            "file notification failed ({por_que}); polling the task folder \
                             instead: a file is taken once it stood still for a poll period"
                        );
                    }
                }
                Aviso::Completo(n) => {
                    v.firmas.remove(&n);
                    // Complete: should taking it fail now, the poll tries it again.
                    if let Some(s) = &mut v.sondeables {
                        s.insert(n.clone());
                    }
                    let ruta = v.carpeta.join(&n);
                    if es_tarea(&ruta) {
                        v.tomar(&ruta).await;
                    }
                }
            },
            _ = sondeo.tick() => v.sondear().await,
            _ = parar.changed() => return,
        }
    }
}

/// Whether `ruta` is a task file: a regular `*.json` (not `.error.json`) right in the folder.
fn es_tarea(ruta: &Path) -> bool {
    let nombre = ruta.file_name().and_then(|n| n.to_str()).unwrap_or("");
    nombre.ends_with(".json")
        && !nombre.ends_with(".error.json")
        && !nombre.starts_with('.')
        && ruta.is_file()
}

/// Starts a file-system watcher on the folder. Without one the poll still works.
fn observar(
    carpeta: &Path,
    tx: mpsc::UnboundedSender<Aviso>,
) -> Option<notify::RecommendedWatcher> {
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        let ev = match ev {
            Ok(ev) if ev.need_rescan() => {
                let _ = tx.send(Aviso::Perdida("the kernel's event queue overflowed".into()));
                return;
            }
            Ok(ev) => ev,
            Err(e) => {
                let _ = tx.send(Aviso::Perdida(e.to_string()));
                return;
            }
        };
        let completo = matches!(
            ev.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
        );
        let escribiendo = matches!(
            ev.kind,
            EventKind::Create(CreateKind::File | CreateKind::Any)
                | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any)
        );
        // A rename with both ends names the new one last.
        let Some(nombre) = ev.paths.last().and_then(|p| p.file_name()) else {
            return;
        };
        let nombre = nombre.to_os_string();
        let _ = tx.send(if completo {
            Aviso::Completo(nombre)
        } else if escribiendo {
            Aviso::Escribiendose(nombre)
        } else {
            return;
        });
    })
    .map_err(|e| tracing::warn!("no file watcher ({e}); polling the task folder instead"))
    .ok()?;
    w.watch(carpeta, notify::RecursiveMode::NonRecursive)
        .map_err(|e| {
            tracing::warn!(
                "cannot watch {} ({e}); polling the task folder instead",
                carpeta.display()
            )
        })
        .ok()?;
    Some(w)
}

struct Vigilante {
    servicio: Arc<Servicio>,
    carpeta: PathBuf,
    /// While file notification works, the files the poll may take: those there when the watch
    /// began, none heard written to since. Every other file is taken when its writer closes
    /// it (or renames it in). `None`: no notification, the poll takes every file.
    sondeables: Option<HashSet<OsString>>,
    /// Size and mtime of each file at the previous poll.
    firmas: HashMap<OsString, (u64, SystemTime)>,
}

impl Vigilante {
    /// Takes the files whose size and mtime stood still since the previous poll and that
    /// notification does not answer for.
    async fn sondear(&mut self) {
        let Ok(entradas) = std::fs::read_dir(&self.carpeta) else {
            return;
        };
        let mut vistas = HashMap::new();
        let mut listos = Vec::new();
        let mut presentes = HashSet::new();
        for e in entradas.flatten() {
            presentes.insert(e.file_name());
            let ruta = e.path();
            if !es_tarea(&ruta) {
                continue;
            }
            let Some(firma) = e
                .metadata()
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
            else {
                continue;
            };
            let nombre = e.file_name();
            let quieto = self.firmas.get(&nombre) == Some(&firma);
            let sondeable = self.sondeables.as_ref().is_none_or(|s| s.contains(&nombre));
            if quieto && sondeable {
                listos.push(ruta);
            } else {
                vistas.insert(nombre, firma);
            }
        }
        self.firmas = vistas;
        // A name gone from the folder: a new file under it is not one of the first ones.
        if let Some(s) = &mut self.sondeables {
            s.retain(|n| presentes.contains(n));
        }
        listos.sort();
        for ruta in listos {
            self.tomar(&ruta).await;
        }
    }

    /// Queues a complete file whole and moves it, or refuses it whole.
    async fn tomar(&mut self, ruta: &Path) {
        let Some(nombre) = ruta
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            return;
        };
        let bytes = match tokio::fs::read(ruta).await {
            Ok(b) => b,
            Err(e) => {
                // Gone already (moved by another maestro or a person): nothing to do.
                tracing::debug!("cannot read {}: {e}", ruta.display());
                return;
            }
        };
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        match self
            .servicio
            .almacen
            .archivo_tareas_cargado(&nombre, &sha256)
            .await
        {
            Ok(Some(ms)) => {
                tracing::warn!(
                    "{nombre}: its tasks were queued at {} but the file was not moved (the \
                     maestro stopped in between); moving it now, queueing nothing again",
                    comun::fecha::iso8601(ms)
                );
                self.mover(ruta, PROCESADOS, &nombre, None);
                return;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!("{nombre}: cannot check whether it was queued before: {e:#}");
                return;
            }
        }
        let texto = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let error = ErrorTarea {
                    index: None,
                    task_id: None,
                    field: "(file)".into(),
                    reason: format!("not UTF-8 text: {e}"),
                };
                return self.rechazar(ruta, &nombre, vec![error]);
            }
        };
        let trabajos = match comun::tareas::leer_archivo(&texto) {
            Ok(t) => t,
            Err(errores) => return self.rechazar(ruta, &nombre, errores),
        };
        match crate::entradas::tareas_sin_entrada(&self.servicio.almacen, &trabajos).await {
            Ok(malas) if malas.is_empty() => {}
            Ok(malas) => {
                let errores = malas
                    .into_iter()
                    .map(|(i, motivo)| ErrorTarea {
                        index: Some(i),
                        task_id: trabajos[i].etiquetas.task_id.clone(),
                        field: format!("tasks[{i}].parameters.entrada"),
                        reason: motivo,
                    })
                    .collect();
                return self.rechazar(ruta, &nombre, errores);
            }
            Err(e) => {
                tracing::error!("{nombre}: cannot check its images: {e:#}; will try again");
                return;
            }
        }
        let n = trabajos.len();
        let nuevos = trabajos
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let origen = Origen::Carpeta {
                    archivo: nombre.clone(),
                    tarea: i,
                };
                (t, origen, None)
            })
            .collect();
        let marca = Cambio::MarcarArchivoTareas {
            nombre: nombre.clone(),
            sha256,
        };
        match self.servicio.admitir_con(nuevos, vec![marca]).await {
            Ok(ids) => {
                if std::env::var(PRUEBA_ABORTAR_TRAS_COMMIT).as_deref() == Ok("1") {
                    tracing::error!("{PRUEBA_ABORTAR_TRAS_COMMIT}=1: aborting before the move");
                    std::process::abort();
                }
                tracing::info!(
                    "{nombre}: {n} tasks queued (jobs {}..={})",
                    ids[0],
                    ids[ids.len() - 1]
                );
                self.mover(ruta, PROCESADOS, &nombre, None);
            }
            Err(e) => match e.downcast_ref::<crate::estado::TaskIdsRepetidos>() {
                Some(r) => {
                    let errores =
                        r.0.iter()
                            .map(|(task_id, id)| ErrorTarea {
                                index: None,
                                task_id: Some(task_id.clone()),
                                field: "task_id".into(),
                                reason: format!("'{task_id}' is already the task_id of job {id}"),
                            })
                            .collect();
                    self.rechazar(ruta, &nombre, errores);
                }
                // The store failed: leave the file where it is, to be tried at the next poll.
                None => tracing::error!("{nombre}: tasks not queued: {e:#}; will try again"),
            },
        }
    }

    /// Moves a refused file to `rechazados/` with its `.error.json` beside it.
    fn rechazar(&mut self, ruta: &Path, nombre: &str, errores: Vec<ErrorTarea>) {
        let lista: Vec<String> = errores.iter().map(ToString::to_string).collect();
        tracing::warn!(
            "{nombre}: refused whole, nothing queued: {}",
            lista.join("; ")
        );
        let informe = serde_json::json!({
            "file": nombre,
            "refused_at": comun::fecha::iso8601(comun::ahora_ms()),
            "error": format!("{}; no task of this file was queued", comun::tareas::fallos(errores.len())),
            "errors": errores,
        });
        self.mover(ruta, RECHAZADOS, nombre, Some(informe));
    }

    /// Moves the file into `sub/` under a name that starts with the time, and writes its
    /// error report beside it, if any.
    fn mover(&mut self, ruta: &Path, sub: &str, nombre: &str, informe: Option<serde_json::Value>) {
        let destino = self.carpeta.join(sub);
        let base = format!("{}_{nombre}", comun::fecha::para_archivo(comun::ahora_ms()));
        if let Some(informe) = informe {
            let error = destino.join(format!("{}.error.json", base.trim_end_matches(".json")));
            let texto = serde_json::to_string_pretty(&informe).unwrap_or_default();
            if let Err(e) = std::fs::write(&error, texto + "\n") {
                tracing::error!("cannot write {}: {e}", error.display());
            }
        }
        if let Err(e) = std::fs::rename(ruta, destino.join(&base)) {
            tracing::error!("cannot move {} to {sub}/: {e}", ruta.display());
        }
        self.firmas.remove(&OsString::from(nombre));
    }
}
