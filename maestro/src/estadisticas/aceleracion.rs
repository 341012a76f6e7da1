//! [`Aceleraciones`]: mean kernel time per (tipo, size, backend), to compare the GPU with the
//! CPU on equal work. Bounded: at most [`MAX_TAMANOS`] (tipo, size) entries, the least recently
//! fed one dropped first.
//!
//! The speedup of a tipo over a CPU backend is the geometric mean, over the sizes both ran, of
//! mean CPU kernel time / mean GPU kernel time (see [`comun::estadisticas::Aceleracion`]).

use std::collections::HashMap;

use comun::estadisticas::Aceleracion;
use comun::{Algoritmo, Parametros, Tipo};

/// Most (tipo, size) entries kept.
pub const MAX_TAMANOS: usize = 256;

/// What sets a job's work, as one comparable key (the seed does not). Parameters beyond three
/// are packed in mixed radix, each below its documented limit, so distinct sizes stay distinct.
pub fn tamano(p: &Parametros) -> (u64, u64, u64) {
    let u = u64::from;
    match p {
        Parametros::Julia(j) => (u(j.width), u(j.height), u(j.iteraciones)),
        Parametros::Espera(e) => (e.ms, 0, 0),
        Parametros::Matmul(m) => (u(m.n), u(m.iteraciones), 0),
        Parametros::VectorAdd(v) => (v.n, u(v.iteraciones), 0),
        Parametros::Montecarlo(m) => (m.muestras, 0, 0),
        Parametros::Nbody(n) => (u(n.particulas), u(n.pasos), 0),
        Parametros::RedNeuronal(r) => (
            u(r.muestras) * 1025 + u(r.dimensiones),
            (u(r.epocas) * 101 + u(r.clases)) * 1_000_001 + u(r.lote),
            r.capas.iter().fold(0, |c, &n| c * 4097 + u(n)),
        ),
        Parametros::Imagen(i) => match i.entrada {
            Some(id) => (0, id, i.filtros.len() as u64),
            None => (u(i.width), u(i.height), i.filtros.len() as u64),
        },
        Parametros::Fft(f) => (u(f.n), u(f.m), 0),
        Parametros::Autovalores(a) => (u(a.n), 0, 0),
        Parametros::Kmeans(k) => (
            u(k.muestras),
            u(k.dimensiones) * 4097 + u(k.k),
            u(k.iteraciones),
        ),
    }
}

type Clave = (Tipo, (u64, u64, u64));

/// Kernel times of one size on each backend.
#[derive(Debug, Default, Clone, Copy)]
struct Medias {
    /// `(jobs, sum of kernel seconds)` for Secuencial, Paralelo, Cuda.
    por_backend: [(u64, f64); 3],
    /// When it was last fed (a counter), to drop the stalest entry first.
    uso: u64,
}

fn indice(a: Algoritmo) -> Option<usize> {
    match a {
        Algoritmo::Secuencial => Some(0),
        Algoritmo::Paralelo => Some(1),
        Algoritmo::Cuda => Some(2),
        Algoritmo::Auto => None,
    }
}

/// Mean kernel times by tipo, size and backend.
#[derive(Debug, Default)]
pub struct Aceleraciones {
    medias: HashMap<Clave, Medias>,
    usos: u64,
}

impl Aceleraciones {
    /// A completed job of `parametros` that ran `kernel_s` on `algoritmo` (resolved).
    pub fn agregar(&mut self, parametros: &Parametros, algoritmo: Algoritmo, kernel_s: f64) {
        let Some(i) = indice(algoritmo) else { return };
        if !kernel_s.is_finite() || kernel_s < 0.0 {
            return;
        }
        let clave = (parametros.tipo(), tamano(parametros));
        if !self.medias.contains_key(&clave) && self.medias.len() >= MAX_TAMANOS {
            let viejo = self
                .medias
                .iter()
                .min_by_key(|(_, m)| m.uso)
                .map(|(k, _)| *k);
            if let Some(k) = viejo {
                self.medias.remove(&k);
            }
        }
        self.usos += 1;
        let m = self.medias.entry(clave).or_default();
        m.uso = self.usos;
        m.por_backend[i].0 += 1;
        m.por_backend[i].1 += kernel_s;
    }

    /// (tipo, size) entries kept.
    pub fn tamanos(&self) -> usize {
        self.medias.len()
    }

    /// The speedup of `Cuda` over each CPU backend, per tipo, where both ran a size.
    pub fn informe(&self) -> Vec<Aceleracion> {
        let mut salida = Vec::new();
        for tipo in Tipo::TODOS {
            for cpu in [Algoritmo::Paralelo, Algoritmo::Secuencial] {
                if let Some(a) = self.comparar(tipo, cpu) {
                    salida.push(a);
                }
            }
        }
        salida
    }

    fn comparar(&self, tipo: Tipo, cpu: Algoritmo) -> Option<Aceleracion> {
        let c = indice(cpu)?;
        let (mut tamanos, mut log_suma, mut n_gpu, mut n_cpu) = (0u32, 0.0, 0, 0);
        for ((t, _), m) in &self.medias {
            let ((ng, sg), (nc, sc)) = (m.por_backend[2], m.por_backend[c]);
            if *t != tipo || ng == 0 || nc == 0 || sg <= 0.0 || sc <= 0.0 {
                continue;
            }
            let razon = (sc / nc as f64) / (sg / ng as f64);
            log_suma += razon.ln();
            tamanos += 1;
            n_gpu += ng;
            n_cpu += nc;
        }
        (tamanos > 0).then(|| Aceleracion {
            tipo,
            cpu,
            tamanos,
            trabajos_gpu: n_gpu,
            trabajos_cpu: n_cpu,
            factor: (log_suma / f64::from(tamanos)).exp(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::trabajo::parametros::{ParamsMatmul, ParamsMontecarlo};

    fn matmul(n: u32) -> Parametros {
        Parametros::Matmul(ParamsMatmul::new(n, 1).unwrap())
    }

    #[test]
    fn the_factor_is_the_geometric_mean_over_sizes_both_ran() {
        let mut a = Aceleraciones::default();
        // n = 256: CPU 0.4 s (mean of 0.3 and 0.5), GPU 0.1 s: 4×.
        a.agregar(&matmul(256), Algoritmo::Paralelo, 0.3);
        a.agregar(&matmul(256), Algoritmo::Paralelo, 0.5);
        a.agregar(&matmul(256), Algoritmo::Cuda, 0.1);
        // n = 512: CPU 1.6 s, GPU 0.1 s: 16×.
        a.agregar(&matmul(512), Algoritmo::Paralelo, 1.6);
        a.agregar(&matmul(512), Algoritmo::Cuda, 0.1);
        // n = 1024 only on the GPU: not compared.
        a.agregar(&matmul(1024), Algoritmo::Cuda, 0.2);
        let informe = a.informe();
        assert_eq!(informe.len(), 1, "{informe:?}");
        let x = &informe[0];
        assert_eq!(
            (x.tipo, x.cpu, x.tamanos),
            (Tipo::Matmul, Algoritmo::Paralelo, 2)
        );
        assert_eq!((x.trabajos_gpu, x.trabajos_cpu), (2, 3));
        assert!(
            (x.factor - 8.0).abs() < 1e-9,
            "sqrt(4 · 16) = 8, got {}",
            x.factor
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut a = Aceleraciones::default();
        for semilla in 0..(3 * MAX_TAMANOS as u64) {
            let p = Parametros::Montecarlo(ParamsMontecarlo::new(1000 + semilla, 1).unwrap());
            a.agregar(&p, Algoritmo::Paralelo, 0.1);
        }
        assert_eq!(a.tamanos(), MAX_TAMANOS);
    }
}
