//! The maestro's live state and every transition of a job's life, without I/O.
//!
//! Each transition changes memory and returns the database [`Cambio`]s that make it durable; the
//! caller hands them to the writer while still holding the lock, so the database sees changes in
//! the order they were decided. Memory answers "what is pending, what runs where"; the database
//! answers everything else.
//!
//! Exactly once: a result is recorded only for a job that is still pending or running *in
//! memory*, and recording removes it from both; every later report for it is ignored.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use comun::api::{Carga, ColaPrioridad, EsclavoInfo, InformeArchivo, Origen, Resumen};
use comun::memoria::{Nivel, ReporteMemoria};
use comun::nodo::{Asignacion, Latido, Registro};
use comun::{Estado as EstadoTrabajo, NuevoTrabajo, Prioridad, TrabajoId};

use crate::cola::{Cola, Pendiente};
use crate::db::{Cambio, FilaNueva, LineaCargada, Recuperado};
use crate::planificador::{self, Hueco};

/// A job sent to an esclavo.
#[derive(Debug, Clone)]
pub struct EnCurso {
    /// The job as it waited, with `intentos` counting this attempt.
    pub trabajo: Pendiente,
    pub esclavo: String,
    /// The esclavo process it went to: a restart under the same name is a different one.
    pub instancia: u64,
    pub intento: u32,
    /// Cancelled by a user while it ran: its result will be ignored, its slot is still busy.
    pub cancelado: bool,
}

/// A registered esclavo.
#[derive(Debug, Clone)]
pub struct Esclavo {
    pub registro: Registro,
    pub ultimo_latido: Instant,
    /// False once its heartbeats stop for longer than the limit; true again at the next one.
    pub vivo: bool,
    pub carga: Carga,
    /// Jobs we sent it that it has not reported back.
    pub propios: u32,
    /// Jobs it says it runs that we did not send it (left from before a maestro restart, or
    /// superseded attempts): they take slots too.
    pub ajenos: u32,
    pub completados: u64,
}

impl Esclavo {
    fn hueco(&self, salud: Salud) -> Hueco {
        let ocupados = self.propios + self.ajenos;
        let memoria =
            comun::memoria::porcentaje(self.carga.memoria_usada, self.carga.memoria_total);
        Hueco {
            libres: self.registro.capacidad.saturating_sub(ocupados),
            ejecutando: ocupados,
            gpu: self.registro.capacidades.gpu.is_some(),
            vivo: self.vivo,
            critico: salud.critico,
            avisos: salud.avisos,
            cpu: self.carga.cpu,
            memoria: memoria.unwrap_or(0.0) as f32,
        }
    }
}

/// The latest report of a memoria node.
#[derive(Debug, Clone)]
pub struct NodoMemoria {
    pub reporte: ReporteMemoria,
    pub recibido: Instant,
    /// Set once the report is older than the limit (so its going stale is logged once).
    pub caducado: bool,
}

/// What a node's fresh alerts say about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Salud {
    pub critico: bool,
    pub avisos: u32,
}

/// Jobs to send to one esclavo in one request.
#[derive(Debug, Clone)]
pub struct Envio {
    pub esclavo: String,
    pub url: String,
    pub trabajos: Vec<Asignacion>,
}

/// What a result report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrado {
    /// The job is now completado or fallido (or pending again after a failed attempt).
    Si,
    /// The job had already finished (or the attempt was superseded): nothing changed.
    Ignorado,
}

/// How a report of a finished attempt ended.
pub enum Final {
    Completado {
        resultado: String,
        png: Option<Vec<u8>>,
    },
    Fallido(String),
}

/// Settings the transitions need.
#[derive(Debug, Clone, Copy)]
pub struct Reglas {
    /// Failed attempts after which a job is `fallido`.
    pub max_fallos: u32,
    /// A memoria report older than this is stale: shown, but it steers nothing.
    pub plazo_memoria: Duration,
}

/// The live state.
#[derive(Debug)]
pub struct Estado {
    pub cola: Cola,
    pub en_curso: HashMap<TrabajoId, EnCurso>,
    /// By name: iteration in name order keeps scheduling deterministic.
    pub esclavos: BTreeMap<String, Esclavo>,
    siguiente_id: u64,
    asignados: [u64; 3],
    completados: u64,
    fallidos: u64,
    cancelados: u64,
    /// Bumped by every change the summary shows.
    version: u64,
    /// What the watched jobs file looked like at its last reading.
    pub archivo: Option<InformeArchivo>,
    /// The latest report of each memoria node, by node.
    pub memoria: BTreeMap<String, NodoMemoria>,
    reglas: Reglas,
}

impl Estado {
    pub fn new(recuperado: Recuperado, reglas: Reglas) -> Self {
        let mut cola = Cola::default();
        recuperado
            .pendientes
            .into_iter()
            .for_each(|p| cola.insertar(p));
        let contar = |e| recuperado.por_estado.get(&e).copied().unwrap_or(0);
        Estado {
            cola,
            en_curso: HashMap::new(),
            esclavos: BTreeMap::new(),
            siguiente_id: recuperado.siguiente_id,
            asignados: [0; 3],
            completados: contar(EstadoTrabajo::Completado),
            fallidos: contar(EstadoTrabajo::Fallido),
            cancelados: contar(EstadoTrabajo::Cancelado),
            version: 1,
            archivo: None,
            memoria: BTreeMap::new(),
            reglas,
        }
    }

    pub fn resumen(&self) -> Resumen {
        Resumen {
            version: self.version,
            pendientes: self.cola.len(),
            asignados: self.asignados.iter().sum(),
            completados: self.completados,
            fallidos: self.fallidos,
            cancelados: self.cancelados,
        }
    }

    pub fn cola_por_prioridad(&self) -> Vec<ColaPrioridad> {
        Prioridad::TODAS
            .into_iter()
            .map(|p| ColaPrioridad {
                prioridad: p,
                pendientes: self.cola.pendientes_de(p),
                asignados: self.asignados[p.indice()],
            })
            .collect()
    }

    fn cambiado(&mut self) {
        self.version += 1;
    }

    /// Gives new jobs their ids and rows; they join the queue with [`Estado::encolar`] once
    /// the rows are committed.
    pub fn admitir(
        &mut self,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
        ahora_ms: u64,
    ) -> (Vec<FilaNueva>, Vec<Cambio>) {
        let mut filas = Vec::with_capacity(nuevos.len());
        let mut cambios = Vec::with_capacity(nuevos.len());
        for (trabajo, origen, linea) in nuevos {
            let id = TrabajoId(self.siguiente_id);
            self.siguiente_id += 1;
            let fila = FilaNueva {
                id,
                trabajo,
                origen,
                creado_ms: ahora_ms,
            };
            cambios.push(Cambio::Insertar(fila.clone()));
            if let Some(l) = linea {
                cambios.push(Cambio::MarcarLinea(l, id));
            }
            filas.push(fila);
        }
        (filas, cambios)
    }

    pub fn encolar(&mut self, filas: &[FilaNueva]) {
        for f in filas {
            self.cola.insertar(Pendiente {
                id: f.id,
                parametros: f.trabajo.parametros,
                algoritmo: f.trabajo.algoritmo,
                prioridad: f.trabajo.prioridad,
                intentos: 0,
                fallos: 0,
            });
        }
        self.cambiado();
    }

    /// Decides which pending jobs go where now, and marks them running.
    pub fn planificar(&mut self, ahora: Instant, ahora_ms: u64) -> (Vec<Envio>, Vec<Cambio>) {
        let nombres: Vec<String> = self.esclavos.keys().cloned().collect();
        let mut huecos = self.huecos(ahora);
        let decisiones = planificador::planificar(&mut self.cola, &mut huecos);
        if decisiones.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut envios: BTreeMap<usize, Envio> = BTreeMap::new();
        let mut cambios = Vec::with_capacity(decisiones.len());
        for d in decisiones {
            let esclavo = self
                .esclavos
                .get_mut(&nombres[d.esclavo])
                .expect("planned esclavo");
            let mut trabajo = d.trabajo;
            trabajo.intentos += 1;
            let intento = trabajo.intentos;
            esclavo.propios += 1;
            self.asignados[trabajo.prioridad.indice()] += 1;
            self.en_curso.insert(
                trabajo.id,
                EnCurso {
                    trabajo,
                    esclavo: esclavo.registro.nombre.clone(),
                    instancia: esclavo.registro.instancia,
                    intento,
                    cancelado: false,
                },
            );
            cambios.push(Cambio::Asignar {
                id: trabajo.id,
                intento,
                esclavo: esclavo.registro.nombre.clone(),
                inicio_ms: ahora_ms,
            });
            envios
                .entry(d.esclavo)
                .or_insert_with(|| Envio {
                    esclavo: esclavo.registro.nombre.clone(),
                    url: esclavo.registro.url.clone(),
                    trabajos: Vec::new(),
                })
                .trabajos
                .push(Asignacion {
                    id: trabajo.id,
                    intento,
                    parametros: trabajo.parametros,
                    algoritmo: planificador::resolver(trabajo.algoritmo, huecos[d.esclavo].gpu),
                    plazo_ms: 0,
                });
        }
        self.cambiado();
        (envios.into_values().collect(), cambios)
    }

    /// Takes a job off the running set if it runs as `intento` (any attempt if `None`),
    /// freeing its esclavo's slot.
    fn sacar_en_curso(&mut self, id: TrabajoId, intento: Option<u32>) -> Option<EnCurso> {
        let actual = self.en_curso.get(&id)?;
        if intento.is_some_and(|i| i != actual.intento) {
            return None;
        }
        let e = self.en_curso.remove(&id)?;
        if let Some(esclavo) = self.esclavos.get_mut(&e.esclavo)
            && esclavo.registro.instancia == e.instancia
        {
            esclavo.propios = esclavo.propios.saturating_sub(1);
        }
        if !e.cancelado {
            self.asignados[e.trabajo.prioridad.indice()] -= 1;
        }
        self.cambiado();
        Some(e)
    }

    /// The esclavo refused the job (no free slot): it waits again in its place, and the
    /// esclavo counts as full until its next heartbeat.
    pub fn devolver(&mut self, id: TrabajoId, intento: u32) -> Vec<Cambio> {
        let Some(e) = self.sacar_en_curso(id, Some(intento)) else {
            return Vec::new();
        };
        if let Some(esclavo) = self.esclavos.get_mut(&e.esclavo) {
            esclavo.ajenos = esclavo.registro.capacidad.saturating_sub(esclavo.propios);
        }
        if e.cancelado {
            return vec![];
        }
        let mut trabajo = e.trabajo;
        trabajo.intentos -= 1;
        self.cola.insertar(trabajo);
        vec![Cambio::Devolver { id, intento }]
    }

    /// An attempt failed: the job waits again, or fails for good after too many failures.
    pub fn fallar(
        &mut self,
        id: TrabajoId,
        intento: u32,
        error: String,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let Some(e) = self.sacar_en_curso(id, Some(intento)) else {
            return Vec::new();
        };
        if e.cancelado {
            return Vec::new();
        }
        let mut trabajo = e.trabajo;
        trabajo.fallos += 1;
        let definitivo = trabajo.fallos >= self.reglas.max_fallos;
        if definitivo {
            self.fallidos += 1;
            tracing::warn!(%id, fallos = trabajo.fallos, "job failed for good: {error}");
        } else {
            tracing::info!(%id, intento, "attempt failed, job queued again: {error}");
            self.cola.insertar(trabajo);
        }
        vec![Cambio::Fallar {
            id,
            intento,
            fin_ms: ahora_ms,
            error,
            fallos: trabajo.fallos,
            definitivo,
        }]
    }

    /// A finished attempt's report. Records a result only if the job is still pending or
    /// running: the first result wins, from whichever attempt.
    pub fn terminar(
        &mut self,
        id: TrabajoId,
        intento: u32,
        esclavo: &str,
        final_: Final,
        ahora_ms: u64,
    ) -> (Registrado, Vec<Cambio>) {
        match final_ {
            Final::Fallido(error) => {
                let cambios = self.fallar(id, intento, error, ahora_ms);
                let r = if cambios.is_empty() {
                    Registrado::Ignorado
                } else {
                    Registrado::Si
                };
                (r, cambios)
            }
            Final::Completado { resultado, png } => {
                let vigente = match self.sacar_en_curso(id, None) {
                    Some(e) => !e.cancelado,
                    None => self.cola.quitar(id).is_some(),
                };
                if !vigente {
                    return (Registrado::Ignorado, Vec::new());
                }
                self.completados += 1;
                self.cambiado();
                if let Some(e) = self.esclavos.get_mut(esclavo) {
                    e.completados += 1;
                }
                let cambio = Cambio::Completar {
                    id,
                    intento,
                    esclavo: esclavo.to_string(),
                    fin_ms: ahora_ms,
                    resultado,
                    png,
                };
                (Registrado::Si, vec![cambio])
            }
        }
    }

    /// Cancels a pending or running job; `None` if it is neither (finished, or unknown).
    pub fn cancelar(&mut self, id: TrabajoId, ahora_ms: u64) -> Option<Cambio> {
        if self.cola.quitar(id).is_none() {
            let e = self.en_curso.get_mut(&id).filter(|e| !e.cancelado)?;
            e.cancelado = true;
            let prioridad = e.trabajo.prioridad;
            self.asignados[prioridad.indice()] -= 1;
        }
        self.cancelados += 1;
        self.cambiado();
        Some(Cambio::Cancelar {
            id,
            fin_ms: ahora_ms,
            motivo: "cancelled by a user".into(),
        })
    }

    /// Cancels every pending job.
    pub fn limpiar(&mut self, ahora_ms: u64) -> Vec<Cambio> {
        let todos = self.cola.vaciar();
        self.cancelados += todos.len() as u64;
        self.cambiado();
        todos
            .into_iter()
            .map(|p| Cambio::Cancelar {
                id: p.id,
                fin_ms: ahora_ms,
                motivo: "dropped by limpiar_cola".into(),
            })
            .collect()
    }

    /// Registers an esclavo. A new instance under a known name means the old process died: what
    /// it was running is queued again.
    pub fn registrar(&mut self, registro: Registro, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        let mut cambios = Vec::new();
        if let Some(viejo) = self.esclavos.get(&registro.nombre)
            && viejo.registro.instancia != registro.instancia
        {
            let error = format!("esclavo {} restarted while it ran", registro.nombre);
            cambios = self.fallar_los_de(&registro.nombre, &error, ahora_ms);
        }
        let completados = self
            .esclavos
            .get(&registro.nombre)
            .map_or(0, |e| e.completados);
        let mismo = self
            .esclavos
            .get(&registro.nombre)
            .filter(|e| e.registro.instancia == registro.instancia);
        let propios = mismo.map_or(0, |e| e.propios);
        self.esclavos.insert(
            registro.nombre.clone(),
            Esclavo {
                registro,
                ultimo_latido: ahora,
                vivo: true,
                carga: Carga::default(),
                propios,
                ajenos: 0,
                completados,
            },
        );
        self.cambiado();
        cambios
    }

    /// A heartbeat; false if the esclavo (this instance of it) is unknown and must register.
    pub fn latido(&mut self, l: &Latido, ahora: Instant) -> bool {
        let Some(esclavo) = self.esclavos.get_mut(&l.nombre) else {
            return false;
        };
        if esclavo.registro.instancia != l.instancia {
            return false;
        }
        if !esclavo.vivo {
            tracing::info!(esclavo = %l.nombre, "esclavo is back");
        }
        esclavo.vivo = true;
        esclavo.ultimo_latido = ahora;
        esclavo.carga = l.carga;
        let nombre = &esclavo.registro.nombre;
        let ajenos = l
            .ejecutando
            .iter()
            .filter(|id| {
                !self
                    .en_curso
                    .get(id)
                    .is_some_and(|e| &e.esclavo == nombre && e.instancia == l.instancia)
            })
            .count() as u32;
        let esclavo = self.esclavos.get_mut(&l.nombre).expect("checked above");
        esclavo.ajenos = ajenos;
        true
    }

    /// Declares lost every esclavo silent for longer than `plazo`, and queues its jobs again.
    pub fn revisar_perdidos(
        &mut self,
        plazo: Duration,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let perdidos: Vec<String> = self
            .esclavos
            .values()
            .filter(|e| e.vivo && ahora.duration_since(e.ultimo_latido) > plazo)
            .map(|e| e.registro.nombre.clone())
            .collect();
        let mut cambios = Vec::new();
        for nombre in perdidos {
            tracing::warn!(esclavo = %nombre, "esclavo lost: no heartbeat for {plazo:?}");
            let error = format!(
                "esclavo {nombre} lost: no heartbeat for {} s",
                plazo.as_secs_f32()
            );
            cambios.extend(self.perder(&nombre, &error, ahora_ms));
        }
        cambios
    }

    /// The esclavo could not be reached: it gets nothing until its next heartbeat, and what it
    /// was given is queued again.
    pub fn perder(&mut self, nombre: &str, error: &str, ahora_ms: u64) -> Vec<Cambio> {
        if let Some(e) = self.esclavos.get_mut(nombre) {
            e.vivo = false;
            e.ajenos = 0;
        }
        self.cambiado();
        self.fallar_los_de(nombre, error, ahora_ms)
    }

    fn fallar_los_de(&mut self, nombre: &str, error: &str, ahora_ms: u64) -> Vec<Cambio> {
        let suyos: Vec<(TrabajoId, u32)> = self
            .en_curso
            .values()
            .filter(|e| e.esclavo == nombre)
            .map(|e| (e.trabajo.id, e.intento))
            .collect();
        let mut cambios = Vec::new();
        for (id, intento) in suyos {
            cambios.extend(self.fallar(id, intento, error.to_string(), ahora_ms));
        }
        cambios
    }

    /// Where a job is in memory: pending, running, or neither (finished or unknown).
    pub fn donde(&self, id: TrabajoId) -> Option<EstadoTrabajo> {
        if self.cola.buscar(id).is_some() {
            Some(EstadoTrabajo::Pendiente)
        } else if self.en_curso.get(&id).is_some_and(|e| !e.cancelado) {
            Some(EstadoTrabajo::Asignado)
        } else {
            None
        }
    }

    /// Why a pending job is not running yet.
    pub fn explicar(&self, id: TrabajoId) -> Option<String> {
        let p = self.cola.buscar(id)?;
        let huecos = self.huecos(Instant::now());
        Some(planificador::explicar(p, self.cola.delante_de(p), &huecos))
    }

    /// The planner's view of every esclavo, in name order.
    fn huecos(&self, ahora: Instant) -> Vec<Hueco> {
        self.esclavos
            .values()
            .map(|e| e.hueco(self.salud(&e.registro.nodo, ahora)))
            .collect()
    }

    /// What the fresh alerts of a node say; a node without a fresh report is healthy.
    pub fn salud(&self, nodo: &str, ahora: Instant) -> Salud {
        let Some(n) = self.memoria.get(nodo) else {
            return Salud::default();
        };
        if ahora.duration_since(n.recibido) > self.reglas.plazo_memoria {
            return Salud::default();
        }
        let alertas = &n.reporte.alertas;
        Salud {
            critico: alertas.iter().any(|a| a.nivel == Nivel::Critico),
            avisos: alertas.iter().filter(|a| a.nivel == Nivel::Aviso).count() as u32,
        }
    }

    /// Keeps a memoria node's latest report; true if what it says about the node changed.
    pub fn reportar_memoria(&mut self, reporte: ReporteMemoria, ahora: Instant) -> bool {
        let nodo = reporte.nodo.clone();
        let antes = self.salud(&nodo, ahora);
        let era_caducado = self.memoria.get(&nodo).is_some_and(|n| n.caducado);
        if era_caducado {
            tracing::info!(nodo = %nodo, "memoria node reports again");
        }
        self.memoria.insert(
            nodo.clone(),
            NodoMemoria {
                reporte,
                recibido: ahora,
                caducado: false,
            },
        );
        era_caducado || self.salud(&nodo, ahora) != antes
    }

    /// Marks reports that went stale since the last call; true if any did (its alerts no longer
    /// steer, so the dispatcher should look again).
    pub fn caducar_memoria(&mut self, ahora: Instant) -> bool {
        let plazo = self.reglas.plazo_memoria;
        let mut alguno = false;
        for (nodo, n) in &mut self.memoria {
            if !n.caducado && ahora.duration_since(n.recibido) > plazo {
                n.caducado = true;
                alguno = true;
                tracing::warn!(nodo = %nodo, "memoria node silent for {plazo:?}: its alerts are stale and steer nothing");
            }
        }
        alguno
    }

    pub fn esclavos_info(&self, ahora: Instant) -> Vec<EsclavoInfo> {
        self.esclavos
            .values()
            .map(|e| EsclavoInfo {
                nombre: e.registro.nombre.clone(),
                url: e.registro.url.clone(),
                nodo: e.registro.nodo.clone(),
                capacidad: e.registro.capacidad,
                ejecutando: e.propios + e.ajenos,
                vivo: e.vivo,
                ultimo_latido_hace_ms: ahora.duration_since(e.ultimo_latido).as_millis() as u64,
                carga: e.carga,
                capacidades: e.registro.capacidades.clone(),
                completados: e.completados,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::nodo::Capacidades;
    use comun::trabajo::ParamsEspera;
    use comun::{Algoritmo, Parametros};

    fn estado() -> Estado {
        let recuperado = Recuperado {
            siguiente_id: 1,
            ..Recuperado::default()
        };
        Estado::new(
            recuperado,
            Reglas {
                max_fallos: 2,
                plazo_memoria: Duration::from_secs(5),
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
            capacidades: Capacidades::default(),
        }
    }

    fn nuevo(prioridad: Prioridad) -> (NuevoTrabajo, Origen, Option<LineaCargada>) {
        let t = NuevoTrabajo {
            parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
            algoritmo: Algoritmo::Secuencial,
            prioridad,
            plazo_s: None,
        };
        (t, Origen::Api, None)
    }

    fn con_trabajos(e: &mut Estado, n: usize) -> Vec<TrabajoId> {
        let (filas, cambios) = e.admitir((0..n).map(|_| nuevo(Prioridad::MEDIA)).collect(), 0);
        assert_eq!(cambios.len(), n);
        e.encolar(&filas);
        filas.iter().map(|f| f.id).collect()
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
        let (r, c) = e.terminar(ids[0], 1, "a", completado(), 5);
        assert_eq!((r, c.len()), (Registrado::Si, 1));
        for _ in 0..3 {
            let (r, c) = e.terminar(ids[0], 1, "a", completado(), 6);
            assert_eq!((r, c.len()), (Registrado::Ignorado, 0));
        }
        let s = e.resumen();
        assert_eq!((s.completados, s.asignados, s.pendientes), (1, 0, 0));
        assert_eq!(e.esclavos["a"].propios, 0);
    }

    #[test]
    fn a_lost_esclavo_s_jobs_run_again_and_its_late_result_still_counts_once() {
        let mut e = estado();
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 1), t0, 0);
        let ids = con_trabajos(&mut e, 1);
        e.planificar(Instant::now(), 0);
        let cambios = e.revisar_perdidos(Duration::from_secs(1), t0 + Duration::from_secs(2), 0);
        assert!(matches!(
            cambios[..],
            [Cambio::Fallar {
                definitivo: false,
                ..
            }]
        ));
        assert_eq!(e.donde(ids[0]), Some(EstadoTrabajo::Pendiente));
        e.registrar(registro("b", 2, 1), t0, 0);
        let (envios, _) = e.planificar(Instant::now(), 0);
        assert_eq!(envios[0].esclavo, "b");
        assert_eq!(envios[0].trabajos[0].intento, 2);
        // The lost esclavo's answer for attempt 1 arrives first: it wins.
        assert_eq!(
            e.terminar(ids[0], 1, "a", completado(), 1).0,
            Registrado::Si
        );
        assert_eq!(
            e.terminar(ids[0], 2, "b", completado(), 2).0,
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
        e.terminar(ids[0], 1, "a", Final::Fallido("boom".into()), 0);
        assert_eq!(e.donde(ids[0]), Some(EstadoTrabajo::Pendiente));
        e.planificar(Instant::now(), 0);
        let (_, c) = e.terminar(ids[0], 2, "a", Final::Fallido("boom".into()), 0);
        assert!(matches!(
            c[..],
            [Cambio::Fallar {
                definitivo: true,
                fallos: 2,
                ..
            }]
        ));
        assert_eq!(e.donde(ids[0]), None);
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
        e.devolver(ids[0], 1);
        assert_eq!(e.cola.primero(crate::cola::Clase::Cpu).unwrap().id, ids[0]);
        assert!(
            e.planificar(Instant::now(), 0).0.is_empty(),
            "full until its next heartbeat"
        );
        let latido = Latido {
            nombre: "a".into(),
            instancia: 1,
            carga: Carga::default(),
            ejecutando: vec![ids[1]],
        };
        assert!(e.latido(&latido, Instant::now()));
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
            e.terminar(ids[0], 1, "a", completado(), 0).0,
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
        };
        assert!(!e.latido(&l, Instant::now()));
        e.registrar(registro("a", 2, 1), Instant::now(), 0);
        assert!(!e.latido(&l, Instant::now()));
        e.registrar(registro("a", 1, 1), Instant::now(), 0);
        assert!(e.latido(&l, Instant::now()));
    }
}
