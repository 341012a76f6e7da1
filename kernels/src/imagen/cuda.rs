//! `Cuda` for imagen: the host side of `kernels/cuda/imagen.cu`. The image's bytes go to the
//! GPU once, are split into three `f32` planes there, every filter of the chain runs as one or
//! more launches over the planes (a fourth plane is the scratch the blur's horizontal pass and
//! the 3 × 3 filters write to), and the planes are rounded back into the same bytes, which come
//! back once. The kernels compute `imagen.rs`'s expressions without fused multiply-adds, so the
//! bytes equal the CPU's.
//!
//! Stopping: a piece is one launch; a blur pass is cut into bands of rows of at most
//! [`TOMAS_POR_LANZAMIENTO`] taps (a few ms on a recent GPU), and the run's [`Control`] is checked
//! before each piece.

use comun::imagenes::Pixeles;
use comun::trabajo::Filtro;
use cust::function::Function;
use cust::launch;
use cust::memory::{DeviceBuffer, DevicePointer};
use cust::module::Module;

use super::{Cadena, Tiempos};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Llamada, bajar, fallo, reservar, subir};

/// The kernels as PTX (ISA 7.8, `compute_70`, no fused multiply-adds), generated from
/// `imagen.cu`; loaded once per GPU ([`Motor::modulo`](crate::cuda::Motor::modulo)).
const PTX: &str = include_str!("../../cuda/imagen.ptx");

/// Most blur taps (pixels × taps) one launch computes: about 4 ms at 10¹² taps/s.
const TOMAS_POR_LANZAMIENTO: u64 = 1 << 32;

/// The planes on the GPU: `planos[papel[c]]` holds channel `c` (0, 1, 2), `planos[papel[3]]` is
/// the scratch; a 3 × 3 filter writes the scratch and the two swap roles.
struct Planos {
    planos: [DevicePointer<f32>; 4],
    papel: [usize; 4],
}

impl Planos {
    fn canal(&self, c: usize) -> DevicePointer<f32> {
        self.planos[self.papel[c]]
    }

    fn tmp(&self) -> DevicePointer<f32> {
        self.planos[self.papel[3]]
    }

    /// The scratch becomes channel `c`, and `c`'s old plane the scratch.
    fn intercambiar(&mut self, c: usize) {
        self.papel.swap(c, 3);
    }
}

/// One launch of the chain.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lanzamiento {
    /// Bytes to planes.
    Separar,
    /// A blur pass over rows `fila0 .. fila0 + filas`: channel `c`'s horizontal one into the
    /// scratch, or the scratch's vertical one back into channel `c`.
    Desenfoque {
        c: usize,
        fila0: u32,
        filas: u32,
        vertical: bool,
    },
    /// Sobel or sharpening of channel `c` into the scratch, which becomes `c`.
    Vecindad { c: usize, filtro: Filtro },
    /// Luma to the three channels.
    Grises,
    /// Planes back to bytes.
    Juntar,
}

/// `cadena` over `imagen` on the GPU: the output bytes, and the times (kernels alone; with the
/// copies of the bytes and the taps).
pub(super) fn filtrar(
    imagen: &Pixeles,
    cadena: &Cadena,
    control: &Control,
) -> Result<(Vec<u8>, Tiempos), ErrorKernel> {
    let llamada = Llamada::new()?;
    let forma = imagen.forma;
    let n = forma.pixeles() as usize;
    let bytes = subir(&imagen.datos)?;
    let pesos = subir(&cadena.pesos)?;
    let buffers: [DeviceBuffer<f32>; 4] = [reservar(n)?, reservar(n)?, reservar(n)?, reservar(n)?];
    let mut lanzador = Lanzador {
        llamada: &llamada,
        modulo: llamada.motor.modulo(PTX, "imagen.ptx")?,
        bytes: bytes.as_device_ptr(),
        pesos: pesos.as_device_ptr(),
        radio: (cadena.pesos.len() / 2) as u32,
        planos: Planos {
            planos: buffers.each_ref().map(|b| b.as_device_ptr()),
            papel: [0, 1, 2, 3],
        },
        w: forma.width,
        h: forma.height,
        canales: u32::from(forma.canales),
    };
    let pasos = lanzamientos(cadena, forma.width, forma.height);
    let kernel = llamada.en_piezas(control, pasos, "running the imagen filters", |paso| {
        lanzador.lanzar(paso)
    })?;
    let salida = bajar(&bytes, "copying the image back")?;
    drop(buffers);
    let total = llamada.tiempos(kernel).total;
    Ok((
        salida,
        Tiempos {
            kernel,
            con_copias: Some(total),
        },
    ))
}

/// What every launch of one run needs: the call, the module, the buffers and the image's shape.
struct Lanzador<'a> {
    llamada: &'a Llamada,
    modulo: &'static Module,
    /// The image's interleaved bytes: the input, then the output.
    bytes: DevicePointer<u8>,
    /// The Gaussian's `2·radio + 1` taps.
    pesos: DevicePointer<f32>,
    radio: u32,
    planos: Planos,
    w: u32,
    h: u32,
    canales: u32,
}

impl Lanzador<'_> {
    /// Queues `paso` on the call's stream.
    fn lanzar(&mut self, paso: Lanzamiento) -> Result<(), ErrorKernel> {
        let (w, h, n) = (self.w, self.h, self.w * self.h);
        let flujo = &self.llamada.flujo;
        let p = &self.planos;
        let grid = self.llamada.motor.bloques(u64::from(n));
        // SAFETY (every launch below): the arguments match the kernel's parameters in imagen.cu,
        // in order and type; every plane holds w·h f32, `bytes` w·h·canales bytes and `pesos`
        // 2·radio + 1 f32; the kernels touch only those indices (rows fila0 .. fila0 + filas
        // ≤ h for a blur pass), and every buffer outlives the stream's work (`en_piezas`
        // synchronises, also when the run stops).
        let lanzado = match paso {
            Lanzamiento::Separar => {
                let f = self.funcion("imagen_separar")?;
                let (r, g, b) = (p.canal(0), p.canal(1), p.canal(2));
                unsafe {
                    launch!(f<<<grid, HILOS, 0, flujo>>>(self.bytes, self.canales, n, r, g, b))
                }
            }
            Lanzamiento::Desenfoque {
                c,
                fila0,
                filas,
                vertical,
            } => {
                let f = self.funcion("imagen_desenfoque")?;
                let g = self.llamada.motor.bloques(u64::from(w) * u64::from(filas));
                let (origen, destino) = if vertical {
                    (p.tmp(), p.canal(c))
                } else {
                    (p.canal(c), p.tmp())
                };
                let (pesos, radio, vertical) = (self.pesos, self.radio, u32::from(vertical));
                unsafe {
                    launch!(f<<<g, HILOS, 0, flujo>>>(
                        origen, destino, w, h, fila0, filas, pesos, radio, vertical
                    ))
                }
            }
            Lanzamiento::Vecindad { c, filtro } => {
                let f = self.funcion(if filtro == Filtro::Sobel {
                    "imagen_sobel"
                } else {
                    "imagen_enfocar"
                })?;
                let (origen, destino) = (p.canal(c), p.tmp());
                self.planos.intercambiar(c);
                unsafe { launch!(f<<<grid, HILOS, 0, flujo>>>(origen, destino, w, h)) }
            }
            Lanzamiento::Grises => {
                let f = self.funcion("imagen_grises")?;
                let (r, g, b) = (p.canal(0), p.canal(1), p.canal(2));
                unsafe { launch!(f<<<grid, HILOS, 0, flujo>>>(r, g, b, n)) }
            }
            Lanzamiento::Juntar => {
                let f = self.funcion("imagen_juntar")?;
                let (r, g, b) = (p.canal(0), p.canal(1), p.canal(2));
                unsafe {
                    launch!(f<<<grid, HILOS, 0, flujo>>>(r, g, b, self.canales, n, self.bytes))
                }
            }
        };
        lanzado.map_err(fallo("launching an imagen kernel"))
    }

    /// The entry point `nombre` of imagen.ptx.
    fn funcion(&self, nombre: &str) -> Result<Function<'static>, ErrorKernel> {
        self.modulo
            .get_function(nombre)
            .map_err(fallo(&format!("finding the {nombre} kernel")))
    }
}

/// The launches of `cadena` over a `w × h` image, in order.
fn lanzamientos(cadena: &Cadena, w: u32, h: u32) -> Vec<Lanzamiento> {
    let taps = cadena.pesos.len() as u64;
    let filas = (TOMAS_POR_LANZAMIENTO / (u64::from(w) * taps)).clamp(1, u64::from(h)) as u32;
    let bandas = move || {
        (0..h)
            .step_by(filas as usize)
            .map(move |f| (f, filas.min(h - f)))
    };
    let mut pasos = vec![Lanzamiento::Separar];
    for &filtro in &cadena.filtros {
        match filtro {
            Filtro::Grises => pasos.push(Lanzamiento::Grises),
            Filtro::Desenfoque => {
                for c in 0..3 {
                    for vertical in [false, true] {
                        pasos.extend(bandas().map(|(fila0, filas)| Lanzamiento::Desenfoque {
                            c,
                            fila0,
                            filas,
                            vertical,
                        }));
                    }
                }
            }
            Filtro::Sobel | Filtro::Enfocar => {
                pasos.extend((0..3).map(|c| Lanzamiento::Vecindad { c, filtro }));
            }
        }
    }
    pasos.push(Lanzamiento::Juntar);
    pasos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_passes_cover_every_row_once_per_channel_in_bounded_bands() {
        let cadena = Cadena::new(&[Filtro::Desenfoque, Filtro::Sobel, Filtro::Grises], 64.0);
        for (w, h) in [(1, 1), (16_384, 4096), (8192, 8192), (3, 7)] {
            let pasos = lanzamientos(&cadena, w, h);
            assert_eq!(pasos.first(), Some(&Lanzamiento::Separar));
            assert_eq!(pasos.last(), Some(&Lanzamiento::Juntar));
            for c in 0..3 {
                let mut siguiente = 0;
                for p in &pasos {
                    if let Lanzamiento::Desenfoque {
                        c: k,
                        fila0,
                        filas,
                        vertical: false,
                    } = *p
                        && k == c
                    {
                        assert_eq!(fila0, siguiente);
                        assert!(
                            filas == 1
                                || u64::from(filas) * u64::from(w) * 385 <= TOMAS_POR_LANZAMIENTO
                        );
                        siguiente += filas;
                    }
                }
                assert_eq!(siguiente, h, "{w}x{h} channel {c}");
            }
            let vecindades = pasos
                .iter()
                .filter(|p| matches!(p, Lanzamiento::Vecindad { .. }))
                .count();
            assert_eq!(vecindades, 3);
        }
    }
}
