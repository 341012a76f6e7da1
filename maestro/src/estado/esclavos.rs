//! The esclavos as the maestro knows them: who registered, where each serves, how busy it is,
//! and whether its heartbeats are on time.
//!
//! The registry is keyed by name, and iterated in name order, which keeps scheduling
//! deterministic. An esclavo silent for longer than the limit (`--plazo-esclavo-ms`) is
//! **lost** ([`Esclavo::perdido`], the one rule): it gets nothing until its next heartbeat, and
//! what it ran runs again. A registration under a known name with a new instance is a restart.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use comun::api::{Carga, EsclavoInfo};
use comun::nodo::{Capacidades, Registro};

use super::nodos::{Nodos, Salud};
use crate::ids::EsclavoId;
use crate::planificador::Candidato;

/// A registered esclavo.
#[derive(Debug, Clone)]
pub struct Esclavo {
    /// The process that registered under this name.
    pub id: EsclavoId,
    /// Where it serves.
    pub url: String,
    /// The host it runs on: memoria reports of that node apply to it.
    pub nodo: String,
    /// Its job slots.
    pub capacidad: u32,
    /// Of those, how many may run `Cuda` jobs at once (its GPU slots); 0 without a GPU.
    pub capacidad_gpu: u32,
    pub capacidades: Capacidades,
    pub ultimo_latido: Instant,
    /// False once its heartbeats stop for longer than the limit; true again at the next one.
    pub vivo: bool,
    pub carga: Carga,
    /// Attempts we sent it that it has not reported back: each holds a slot.
    pub enviados: u32,
    /// Of those, the ones that run on a GPU: each holds a GPU slot too.
    pub enviados_gpu: u32,
    /// Jobs it says it runs that no attempt of ours there accounts for (left from before a
    /// maestro restart, or attempts superseded since): they hold slots too.
    pub huerfanos: u32,
    /// Jobs it completed since it first registered under this name.
    pub completados: u64,
    /// Draining (an operator asked, or it said so in a heartbeat as it stops): it gets no new
    /// job until a new process registers under its name.
    pub drenando: bool,
}

impl Esclavo {
    /// Whether it is alive by the last account but silent for longer than `plazo` at `ahora`.
    pub fn perdido(&self, ahora: Instant, plazo: Duration) -> bool {
        self.vivo && ahora.duration_since(self.ultimo_latido) > plazo
    }

    /// Its slots in use, ours or not.
    fn ocupados(&self) -> u32 {
        self.enviados + self.huerfanos
    }

    /// What the planner needs to know of it, on a node whose fresh alerts say `salud`.
    fn candidato(&self, salud: Salud) -> Candidato {
        let memoria =
            comun::memoria::porcentaje(self.carga.memoria_usada, self.carga.memoria_total);
        Candidato {
            libres: self.capacidad.saturating_sub(self.ocupados()),
            libres_gpu: self.capacidad_gpu.saturating_sub(self.enviados_gpu),
            ejecutando: self.ocupados(),
            gpu: self.capacidad_gpu > 0,
            vivo: self.vivo && !self.drenando,
            critico: salud.critico,
            avisos: salud.avisos,
            cpu: self.carga.cpu,
            memoria: memoria.unwrap_or(0.0) as f32,
        }
    }

    /// Its description for the API, at `ahora`.
    pub fn info(&self, ahora: Instant) -> EsclavoInfo {
        EsclavoInfo {
            nombre: self.id.nombre.clone(),
            url: self.url.clone(),
            nodo: self.nodo.clone(),
            capacidad: self.capacidad,
            ejecutando: self.ocupados(),
            capacidad_gpu: self.capacidad_gpu,
            ejecutando_gpu: self.enviados_gpu,
            vivo: self.vivo,
            ultimo_latido_hace_ms: ahora.duration_since(self.ultimo_latido).as_millis() as u64,
            carga: self.carga,
            capacidades: self.capacidades.clone(),
            completados: self.completados,
            drenando: self.drenando,
        }
    }
}

/// Every registered esclavo, by name.
#[derive(Debug)]
pub struct Esclavos {
    por_nombre: BTreeMap<String, Esclavo>,
    /// Silent for longer than this, an esclavo is lost.
    plazo: Duration,
    /// Esclavos declared lost since start (each time one alive was).
    perdidos: u64,
}

impl Esclavos {
    pub fn new(plazo: Duration) -> Self {
        Esclavos {
            por_nombre: BTreeMap::new(),
            plazo,
            perdidos: 0,
        }
    }

    /// Every esclavo, in name order.
    pub fn todos(&self) -> impl Iterator<Item = &Esclavo> {
        self.por_nombre.values()
    }

    /// The esclavo registered under `nombre`, whichever process it is.
    pub fn get(&self, nombre: &str) -> Option<&Esclavo> {
        self.por_nombre.get(nombre)
    }

    /// The esclavo `id`, if that process is the one registered under its name.
    pub fn vigente(&self, id: &EsclavoId) -> Option<&Esclavo> {
        self.por_nombre.get(&id.nombre).filter(|e| e.id == *id)
    }

    fn vigente_mut(&mut self, id: &EsclavoId) -> Option<&mut Esclavo> {
        self.por_nombre.get_mut(&id.nombre).filter(|e| e.id == *id)
    }

    /// Every esclavo's identity, in name order: the order of [`Esclavos::candidatos`].
    pub fn ids(&self) -> Vec<EsclavoId> {
        self.por_nombre.values().map(|e| e.id.clone()).collect()
    }

    /// Whether `r` is a new process under the name of a registered one.
    pub fn es_reinicio(&self, r: &Registro) -> bool {
        self.get(&r.nombre)
            .is_some_and(|e| e.id.instancia != r.instancia)
    }

    /// Registers an esclavo, alive now. The same process registering again keeps its count of
    /// attempts sent; a new one starts with none. Completed jobs count on under the name.
    pub fn registrar(&mut self, r: Registro, ahora: Instant) {
        let id = EsclavoId::de_registro(&r);
        let viejo = self.por_nombre.get(&r.nombre);
        let completados = viejo.map_or(0, |e| e.completados);
        let mismo = viejo.filter(|e| e.id == id);
        let enviados = mismo.map_or(0, |e| e.enviados);
        let enviados_gpu = mismo.map_or(0, |e| e.enviados_gpu);
        let drenando = mismo.is_some_and(|e| e.drenando);
        let esclavo = Esclavo {
            id,
            url: r.url,
            nodo: r.nodo,
            capacidad: r.capacidad,
            capacidad_gpu: r.capacidad_gpu,
            capacidades: r.capacidades,
            ultimo_latido: ahora,
            vivo: true,
            carga: Carga::default(),
            enviados,
            enviados_gpu,
            huerfanos: 0,
            completados,
            drenando,
        };
        self.por_nombre.insert(r.nombre, esclavo);
    }

    /// A heartbeat of `id`, running `huerfanos` jobs no attempt of ours there accounts for,
    /// and draining if it says so (`drenando`; a drain once started lasts). False if that
    /// process is not the one registered: it must register.
    pub fn latido(
        &mut self,
        id: &EsclavoId,
        carga: Carga,
        huerfanos: u32,
        drenando: bool,
        ahora: Instant,
    ) -> bool {
        let Some(esclavo) = self.vigente_mut(id) else {
            return false;
        };
        if drenando && !esclavo.drenando {
            tracing::info!(esclavo = %id.nombre, "esclavo draining: it stops; no new job goes to it");
        }
        esclavo.drenando |= drenando;
        if !esclavo.vivo {
            tracing::info!(esclavo = %id.nombre, "esclavo is back");
        }
        esclavo.vivo = true;
        esclavo.ultimo_latido = ahora;
        esclavo.carga = carga;
        esclavo.huerfanos = huerfanos;
        true
    }

    /// Takes a slot of the esclavo `nombre` for an attempt sent to it, and a GPU slot for one
    /// that runs on a GPU (`gpu`).
    pub fn ocupar(&mut self, nombre: &str, gpu: bool) -> &Esclavo {
        let esclavo = self.por_nombre.get_mut(nombre).expect("planned esclavo");
        esclavo.enviados += 1;
        esclavo.enviados_gpu += u32::from(gpu);
        esclavo
    }

    /// An attempt sent to `id` ended: its slot (and its GPU slot, `gpu`) is free (nothing if
    /// that process is gone).
    pub fn liberar(&mut self, id: &EsclavoId, gpu: bool) {
        if let Some(e) = self.vigente_mut(id) {
            e.enviados = e.enviados.saturating_sub(1);
            e.enviados_gpu = e.enviados_gpu.saturating_sub(u32::from(gpu));
        }
    }

    /// The esclavo `nombre` refused a job as busy: it counts as full until its next heartbeat.
    pub fn llenar(&mut self, nombre: &str) {
        if let Some(e) = self.por_nombre.get_mut(nombre) {
            e.huerfanos = e.capacidad.saturating_sub(e.enviados);
        }
    }

    /// Drains the esclavo `nombre`: it gets no new job (its running ones finish there) until a
    /// new process registers under its name. `None` if no esclavo has that name.
    pub fn drenar(&mut self, nombre: &str) -> Option<&Esclavo> {
        let e = self.por_nombre.get_mut(nombre)?;
        if !e.drenando {
            tracing::info!(esclavo = %nombre, "esclavo draining by request: no new job goes to it");
        }
        e.drenando = true;
        Some(e)
    }

    /// The esclavo process `id` left the cluster: it is forgotten (false if that process is
    /// not the one registered under its name).
    pub fn dar_de_baja(&mut self, id: &EsclavoId) -> bool {
        if self.vigente(id).is_none() {
            return false;
        }
        self.por_nombre.remove(&id.nombre);
        true
    }

    /// The esclavo `nombre` is lost: nothing goes to it until its next heartbeat.
    pub fn perder(&mut self, nombre: &str) {
        if let Some(e) = self.por_nombre.get_mut(nombre) {
            self.perdidos += u64::from(e.vivo);
            e.vivo = false;
            e.huerfanos = 0;
        }
    }

    /// Esclavos declared lost since start (`hpc_maestro_esclavos_lost_total`).
    pub fn perdidos_total(&self) -> u64 {
        self.perdidos
    }

    /// One more job completed by the esclavo `nombre`.
    pub fn contar_completado(&mut self, nombre: &str) {
        if let Some(e) = self.por_nombre.get_mut(nombre) {
            e.completados += 1;
        }
    }

    /// The names of the esclavos lost at `ahora`.
    pub fn perdidos(&self, ahora: Instant) -> Vec<String> {
        self.por_nombre
            .values()
            .filter(|e| e.perdido(ahora, self.plazo))
            .map(|e| e.id.nombre.clone())
            .collect()
    }

    /// How long an esclavo may be silent before it is lost.
    pub fn plazo(&self) -> Duration {
        self.plazo
    }

    /// The planner's view of every esclavo, in name order.
    pub fn candidatos(&self, nodos: &Nodos, ahora: Instant) -> Vec<Candidato> {
        self.por_nombre
            .values()
            .map(|e| e.candidato(nodos.salud(&e.nodo, ahora)))
            .collect()
    }

    /// `GET /esclavos`: every esclavo, in name order.
    pub fn info(&self, ahora: Instant) -> Vec<EsclavoInfo> {
        self.por_nombre.values().map(|e| e.info(ahora)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registro(nombre: &str, instancia: u64) -> Registro {
        Registro {
            nombre: nombre.into(),
            instancia,
            url: format!("http://{nombre}"),
            nodo: "n".into(),
            capacidad: 2,
            capacidad_gpu: 0,
            capacidades: Capacidades::default(),
        }
    }

    #[test]
    fn silence_past_the_limit_loses_an_esclavo_until_its_next_heartbeat() {
        let s = Duration::from_secs;
        let mut esclavos = Esclavos::new(s(1));
        let t0 = Instant::now();
        esclavos.registrar(registro("a", 1), t0);
        esclavos.registrar(registro("b", 1), t0 + s(1));
        assert!(
            esclavos.perdidos(t0 + s(1)).is_empty(),
            "at the limit: not yet"
        );
        assert_eq!(esclavos.perdidos(t0 + s(2)), vec!["a".to_string()]);
        esclavos.perder("a");
        assert!(esclavos.perdidos(t0 + s(2)).is_empty(), "lost once");
        let a = EsclavoId::new("a", 1);
        assert!(esclavos.latido(&a, Carga::default(), 0, false, t0 + s(2)));
        assert!(esclavos.get("a").unwrap().vivo);
        assert!(!esclavos.latido(
            &EsclavoId::new("a", 2),
            Carga::default(),
            0,
            false,
            t0 + s(2)
        ));
    }

    #[test]
    fn a_restart_is_a_new_esclavo_with_no_attempts_and_the_same_completed_count() {
        let t0 = Instant::now();
        let mut esclavos = Esclavos::new(Duration::from_secs(1));
        esclavos.registrar(registro("a", 1), t0);
        esclavos.ocupar("a", false);
        esclavos.contar_completado("a");
        esclavos.registrar(registro("a", 1), t0);
        assert_eq!(
            esclavos.get("a").unwrap().enviados,
            1,
            "the same process again"
        );
        assert!(esclavos.es_reinicio(&registro("a", 2)));
        esclavos.registrar(registro("a", 2), t0);
        let a = esclavos.get("a").unwrap();
        assert_eq!((a.enviados, a.completados), (0, 1));
        assert!(esclavos.vigente(&EsclavoId::new("a", 1)).is_none());
        esclavos.liberar(&EsclavoId::new("a", 1), false);
        assert_eq!(
            esclavos.get("a").unwrap().enviados,
            0,
            "the old process's slot is gone"
        );
    }
}
