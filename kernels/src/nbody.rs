//! `nbody`: softened gravity between `particulas` bodies in `f32`, `pasos` steps.
//!
//! Model (G = 1): the acceleration of body `i` is `Σⱼ mⱼ·(rⱼ − rᵢ) / (|rⱼ − rᵢ|² + ε²)^{3/2}`
//! over every `j` (the `j = i` term is zero), with `ε² =` [`EPS2`]. Integrator: semi-implicit
//! (symplectic) Euler with `dt =` [`DT`]: all accelerations from the current positions, then
//! `v += a·dt`, then `r += v·dt`. Energy, in `f64` from the `f32` state: `Σ ½mv² − Σ_{i<j}
//! mᵢmⱼ / √(|rᵢ − rⱼ|² + ε²)` (the potential of the softened force); one body has no potential.
//!
//! Initial state from [`crate::azar`] under the job's seed: positions uniform in `[-1, 1)³`
//! (streams 6, 7, 8), velocities in `[-0.1, 0.1)³` (9, 10, 11), masses in `[0.5, 1.5) / n`
//! (12), so the total mass is about 1.
//!
//! - `Secuencial`: for each `i`, the `j` loop in order, one thread.
//! - `Paralelo`: rayon over groups of [`LANES`] bodies `i`, whose accelerations are summed in
//!   vector lanes over the same `j` order: each `i` sees the same operations in the same order
//!   (Rust never fuses a multiply-add; `sqrt` and `/` are correctly rounded), so `Paralelo`
//!   equals `Secuencial` bit for bit.
//! - `Cuda`: tiled all-pairs with shared memory (GPU Gems 3, ch. 31), `rsqrtf` and FMA:
//!   tolerance `|E_cuda − E_cpu| ≤ 1e-4 · |E_cpu|` on the final energy for the tested runs.
//!   Its host side is `nbody/cuda.rs`.
//!
//! Stopping ([`Control`]): the energies check before each body's row of pairs; `Secuencial`
//! checks every 2²² interactions (inside a step when `n` is large), `Paralelo` before each
//! group of 16 bodies, `Cuda` between pieces of a few steps (one launch per step).

#[cfg(feature = "cuda")]
mod cuda;

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::ParamsNbody;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::ErrorKernel;
use crate::azar;
use crate::control::{Contador, Control};

/// Softening length squared.
pub const EPS2: f32 = 0.01;

/// Time step.
pub const DT: f32 = 0.001;

/// Bodies whose accelerations `Paralelo` sums together in vector lanes.
const LANES: usize = 16;

/// Pair interactions `Secuencial` computes between two checks of its [`Control`] (about 10 ms).
const INTERACCIONES_ENTRE_COMPROBACIONES: u64 = 1 << 22;

/// The bodies, structure of arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Cuerpos {
    /// Positions.
    pub x: Vec<f32>,
    /// Positions.
    pub y: Vec<f32>,
    /// Positions.
    pub z: Vec<f32>,
    /// Velocities.
    pub vx: Vec<f32>,
    /// Velocities.
    pub vy: Vec<f32>,
    /// Velocities.
    pub vz: Vec<f32>,
    /// Masses.
    pub m: Vec<f32>,
}

impl Cuerpos {
    /// The initial state of `n` bodies under `semilla`.
    pub fn new(n: u32, semilla: u64) -> Self {
        let n = n as usize;
        let masa = 1.0 / n as f32;
        Cuerpos {
            x: azar::vector(semilla, 6, n, -1.0, 1.0),
            y: azar::vector(semilla, 7, n, -1.0, 1.0),
            z: azar::vector(semilla, 8, n, -1.0, 1.0),
            vx: azar::vector(semilla, 9, n, -0.1, 0.1),
            vy: azar::vector(semilla, 10, n, -0.1, 0.1),
            vz: azar::vector(semilla, 11, n, -0.1, 0.1),
            m: azar::vector(semilla, 12, n, 0.5 * masa, 1.5 * masa),
        }
    }

    /// Number of bodies.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Total energy in `f64`: kinetic plus softened potential, summed in a fixed order.
    pub fn energia(&self) -> f64 {
        // A control that nobody else holds never stops the sum.
        self.energia_con(&Control::ninguno()).unwrap_or(f64::NAN)
    }

    /// [`Cuerpos::energia`], checking `control` before each body's pairs.
    fn energia_con(&self, control: &Control) -> Result<f64, ErrorKernel> {
        let n = self.len();
        let por_cuerpo: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| {
                control.comprobar()?;
                let m = f64::from(self.m[i]);
                let v2 = [&self.vx, &self.vy, &self.vz]
                    .iter()
                    .map(|v| f64::from(v[i]) * f64::from(v[i]))
                    .sum::<f64>();
                let (xi, yi, zi) = (
                    f64::from(self.x[i]),
                    f64::from(self.y[i]),
                    f64::from(self.z[i]),
                );
                let mut potencial = 0.0;
                for j in i + 1..n {
                    let dx = f64::from(self.x[j]) - xi;
                    let dy = f64::from(self.y[j]) - yi;
                    let dz = f64::from(self.z[j]) - zi;
                    let d2 = dx * dx + dy * dy + dz * dz + f64::from(EPS2);
                    potencial += f64::from(self.m[j]) / d2.sqrt();
                }
                Ok(0.5 * m * v2 - m * potencial)
            })
            .collect::<Result<_, ErrorKernel>>()?;
        Ok(por_cuerpo.iter().sum())
    }
}

/// A simulation's energies and time.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulacion {
    /// The state after the last step.
    pub cuerpos: Cuerpos,
    /// Total energy before the first step.
    pub energia_inicial: f64,
    /// Total energy after the last step.
    pub energia_final: f64,
    /// Kernel time of all steps (GPU clock for `Cuda`, without copies or energies).
    pub duracion: Duration,
    /// With the GPU's allocations and copies, without energies (equal to `duracion` on the
    /// CPU).
    pub total: Duration,
}

/// Runs `p` on `algoritmo`.
pub fn nbody(p: &ParamsNbody, algoritmo: Algoritmo) -> Result<Simulacion, ErrorKernel> {
    nbody_con(p, algoritmo, &Control::ninguno())
}

/// [`nbody`] under `control`, checked as the module's documentation says.
pub fn nbody_con(
    p: &ParamsNbody,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Simulacion, ErrorKernel> {
    ParamsNbody::new(p.particulas, p.pasos, p.semilla)?;
    control.comprobar()?;
    #[cfg(not(feature = "cuda"))]
    if algoritmo == Algoritmo::Cuda {
        return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()));
    }
    #[cfg(feature = "cuda")]
    if algoritmo == Algoritmo::Cuda {
        crate::cuda::motor()?;
    }
    let mut cuerpos = Cuerpos::new(p.particulas, p.semilla);
    let energia_inicial = cuerpos.energia_con(control)?;
    let (duracion, total) = match algoritmo {
        #[cfg(feature = "cuda")]
        Algoritmo::Cuda => {
            let t = cuda::nbody(&mut cuerpos, p.pasos, control)?;
            (t.kernel, t.total)
        }
        Algoritmo::Secuencial => {
            let t = secuencial(&mut cuerpos, p.pasos, control)?;
            (t, t)
        }
        _ => {
            let t = paralelo(&mut cuerpos, p.pasos, control)?;
            (t, t)
        }
    };
    let energia_final = cuerpos.energia_con(control)?;
    Ok(Simulacion {
        cuerpos,
        energia_inicial,
        energia_final,
        duracion,
        total,
    })
}

/// `Secuencial`: `pasos` steps, one body's accelerations after another; checks `control` every
/// [`INTERACCIONES_ENTRE_COMPROBACIONES`]. The time the steps took.
fn secuencial(
    cuerpos: &mut Cuerpos,
    pasos: u32,
    control: &Control,
) -> Result<Duration, ErrorKernel> {
    let inicio = Instant::now();
    let mut a = vec![[0.0f32; 3]; cuerpos.len()];
    let mut contador = Contador::new(control, INTERACCIONES_ENTRE_COMPROBACIONES);
    for _ in 0..pasos {
        for (i, ai) in a.iter_mut().enumerate() {
            contador.avanzar(cuerpos.len() as u64)?;
            *ai = aceleracion(cuerpos, i);
        }
        integrar(cuerpos, &a);
    }
    Ok(inicio.elapsed())
}

/// `Paralelo`: `pasos` steps, the accelerations of groups of [`LANES`] bodies on every core;
/// checks `control` before each group. The time the steps took.
fn paralelo(cuerpos: &mut Cuerpos, pasos: u32, control: &Control) -> Result<Duration, ErrorKernel> {
    let inicio = Instant::now();
    let mut a = vec![[0.0f32; 3]; cuerpos.len()];
    for _ in 0..pasos {
        a.par_chunks_mut(LANES)
            .enumerate()
            .try_for_each(|(g, trozo)| {
                control.comprobar()?;
                aceleraciones(cuerpos, g * LANES, trozo);
                Ok::<_, ErrorKernel>(())
            })?;
        integrar(cuerpos, &a);
    }
    Ok(inicio.elapsed())
}

/// The acceleration of body `i`, the reference arithmetic.
fn aceleracion(c: &Cuerpos, i: usize) -> [f32; 3] {
    let (xi, yi, zi) = (c.x[i], c.y[i], c.z[i]);
    let (mut ax, mut ay, mut az) = (0.0f32, 0.0f32, 0.0f32);
    for j in 0..c.len() {
        let dx = c.x[j] - xi;
        let dy = c.y[j] - yi;
        let dz = c.z[j] - zi;
        let d2 = dx * dx + dy * dy + dz * dz + EPS2;
        let inv = 1.0 / d2.sqrt();
        let s = c.m[j] * (inv * inv * inv);
        ax += dx * s;
        ay += dy * s;
        az += dz * s;
    }
    [ax, ay, az]
}

/// The accelerations of bodies `primero ..` (as many as `salida` holds), [`LANES`] at once,
/// with [`aceleracion`]'s arithmetic in each lane. A short last group repeats its last body.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn aceleraciones(c: &Cuerpos, primero: usize, salida: &mut [[f32; 3]]) {
    let ultimo = salida.len() - 1;
    let idx: [usize; LANES] = std::array::from_fn(|l| primero + l.min(ultimo));
    let xi = idx.map(|i| c.x[i]);
    let yi = idx.map(|i| c.y[i]);
    let zi = idx.map(|i| c.z[i]);
    let mut ax = [0.0f32; LANES];
    let mut ay = [0.0f32; LANES];
    let mut az = [0.0f32; LANES];
    for j in 0..c.len() {
        let (xj, yj, zj, mj) = (c.x[j], c.y[j], c.z[j], c.m[j]);
        for l in 0..LANES {
            let dx = xj - xi[l];
            let dy = yj - yi[l];
            let dz = zj - zi[l];
            let d2 = dx * dx + dy * dy + dz * dz + EPS2;
            let inv = 1.0 / d2.sqrt();
            let s = mj * (inv * inv * inv);
            ax[l] += dx * s;
            ay[l] += dy * s;
            az[l] += dz * s;
        }
    }
    for (l, a) in salida.iter_mut().enumerate() {
        *a = [ax[l], ay[l], az[l]];
    }
}

/// `v += a·dt`, then `r += v·dt`, for every body.
fn integrar(c: &mut Cuerpos, a: &[[f32; 3]]) {
    for (i, ai) in a.iter().enumerate() {
        c.vx[i] += ai[0] * DT;
        c.vy[i] += ai[1] * DT;
        c.vz[i] += ai[2] * DT;
        c.x[i] += c.vx[i] * DT;
        c.y[i] += c.vy[i] * DT;
        c.z[i] += c.vz[i] * DT;
    }
}
