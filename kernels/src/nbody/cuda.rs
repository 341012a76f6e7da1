//! `Cuda` for nbody: the host side of the shared-memory tiled kernel of
//! `kernels/cuda/calculo.cu`, one launch per step, positions double-buffered on the GPU.
//!
//! Stopping: a piece is as many steps as make about [`INTERACCIONES_POR_PIEZA`] pair
//! interactions (at least one), and the run's [`Control`] is checked before each.

use cust::launch;

use super::{Cuerpos, DT, EPS2};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Llamada, Tiempos, bajar_en, fallo, reservar, subir, trozos};

/// nbody pair interactions in one piece: about 30 ms on an H100 (8 steps of 65 536 bodies).
const INTERACCIONES_POR_PIEZA: f64 = (1u64 << 35) as f64;

/// `pasos` steps of nbody on the GPU, the bodies updated in place; the times (the time with
/// copies ends when the bodies are back on the host, before they are unpacked). `control` is
/// checked between pieces; a stopped run leaves the bodies as they were.
pub(super) fn nbody(
    c: &mut Cuerpos,
    pasos: u32,
    control: &Control,
) -> Result<Tiempos, ErrorKernel> {
    let llamada = Llamada::new()?;
    let funcion = llamada.funcion_calculo("nbody")?;
    let n = c.len();
    let (pos, vel) = empaquetar(c);
    let mut buffers = [subir(&pos)?, reservar(4 * n)?];
    let vel_gpu = subir(&vel)?;
    let grid = (n as u32).div_ceil(HILOS);
    let compartida = HILOS * 16;
    let por_pieza = (INTERACCIONES_POR_PIEZA / (n as f64 * n as f64)) as u64;
    let flujo = &llamada.flujo;
    let piezas = trozos(u64::from(pasos), por_pieza);
    let kernel = llamada.en_piezas(control, piezas, "running nbody", |(_, veces)| {
        for _ in 0..veces {
            // SAFETY: nbody(const float4*, float4*, float4*, int, float, float) in calculo.cu,
            // HILOS threads and HILOS float4s of shared memory a block; it reads and writes
            // body indices below n of the three 4·n-float buffers, which outlive the stream's
            // work.
            unsafe {
                launch!(funcion<<<grid, HILOS, compartida, flujo>>>(
                    buffers[0].as_device_ptr(),
                    buffers[1].as_device_ptr(),
                    vel_gpu.as_device_ptr(),
                    n as i32,
                    EPS2,
                    DT
                ))
            }
            .map_err(fallo("launching nbody"))?;
            buffers.swap(0, 1);
        }
        Ok(())
    })?;
    let (mut pos, mut vel) = (pos, vel);
    bajar_en(&buffers[0], &mut pos, "copying positions back")?;
    bajar_en(&vel_gpu, &mut vel, "copying velocities back")?;
    let tiempos = llamada.tiempos(kernel);
    desempaquetar(&pos, &vel, c);
    Ok(tiempos)
}

/// The bodies as the kernel reads them: `(x, y, z, m)` and `(vx, vy, vz, 0)` per body.
fn empaquetar(c: &Cuerpos) -> (Vec<f32>, Vec<f32>) {
    let n = c.len();
    let pos = (0..n)
        .flat_map(|i| [c.x[i], c.y[i], c.z[i], c.m[i]])
        .collect();
    let vel = (0..n)
        .flat_map(|i| [c.vx[i], c.vy[i], c.vz[i], 0.0])
        .collect();
    (pos, vel)
}

/// The positions and velocities of [`empaquetar`]'s layout written back into `c`.
fn desempaquetar(pos: &[f32], vel: &[f32], c: &mut Cuerpos) {
    for i in 0..c.len() {
        (c.x[i], c.y[i], c.z[i]) = (pos[4 * i], pos[4 * i + 1], pos[4 * i + 2]);
        (c.vx[i], c.vy[i], c.vz[i]) = (vel[4 * i], vel[4 * i + 1], vel[4 * i + 2]);
    }
}
