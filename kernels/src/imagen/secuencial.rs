//! `Secuencial`: the filters on one thread, one pixel at a time, every neighbour index clamped
//! at the edges. The reference the other backends must match.
//!
//! Checks its [`Control`] every [`PIXELES_ENTRE_COMPROBACIONES`] pixels' worth of work (a blur
//! pixel counts its taps).

use comun::imagenes::{FormaPng, Pixeles};
use comun::trabajo::Filtro;

use super::planos::{Planos, juntar_fila, separar_fila};
use super::{Backend, convolucion, enfocar_de, luma, pinzar, sobel_de};
use crate::ErrorKernel;
use crate::control::{Contador, Control};

/// Work between two checks of the control: about 10 ms on one core.
const PIXELES_ENTRE_COMPROBACIONES: u64 = 1 << 22;

/// The one-thread reference.
pub(super) struct Secuencial;

impl Backend for Secuencial {
    fn separar(&self, imagen: &Pixeles, control: &Control) -> Result<Planos, ErrorKernel> {
        let forma = imagen.forma;
        let (w, c) = (forma.width as usize, usize::from(forma.canales));
        let mut planos = Planos::vacios(forma);
        let mut contador = Contador::new(control, PIXELES_ENTRE_COMPROBACIONES);
        for (y, fila) in imagen.datos.chunks_exact(w * c).enumerate() {
            let [r, g, b] = &mut planos.color;
            let filas = [r, g, b].map(|p| &mut p[y * w..(y + 1) * w]);
            let alfa = planos.alfa.as_mut().map(|a| &mut a[y * w..(y + 1) * w]);
            separar_fila(fila, c, filas, alfa);
            contador.avanzar(w as u64)?;
        }
        Ok(planos)
    }

    fn desenfocar(
        &self,
        plano: &mut [f32],
        tmp: &mut [f32],
        forma: FormaPng,
        pesos: &[f32],
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let (w, h) = (forma.width as usize, forma.height as usize);
        let radio = (pesos.len() / 2) as isize;
        let mut contador = Contador::new(control, PIXELES_ENTRE_COMPROBACIONES);
        // One pass: `destino` at (x, y) = the taps over `origen[muestra(x, y, k)]`, k = −r ..= r.
        let mut pasada = |origen: &[f32],
                          destino: &mut [f32],
                          muestra: &dyn Fn(usize, usize, isize) -> usize| {
            for y in 0..h {
                for x in 0..w {
                    let muestras = (-radio..=radio).map(|k| origen[muestra(x, y, k)]);
                    destino[y * w + x] = convolucion(pesos, muestras);
                }
                contador.avanzar((w * pesos.len()) as u64)?;
            }
            Ok(())
        };
        pasada(plano, tmp, &|x, y, k| y * w + pinzar(x, k, w))?;
        pasada(tmp, plano, &|x, y, k| pinzar(y, k, h) * w + x)
    }

    fn vecindad(
        &self,
        filtro: Filtro,
        plano: &[f32],
        destino: &mut [f32],
        forma: FormaPng,
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let f = if filtro == Filtro::Sobel {
            sobel_de
        } else {
            enfocar_de
        };
        let (w, h) = (forma.width as usize, forma.height as usize);
        let mut contador = Contador::new(control, PIXELES_ENTRE_COMPROBACIONES);
        for y in 0..h {
            for x in 0..w {
                let v = [-1, 0, 1].map(|dy| {
                    let fila = pinzar(y, dy, h) * w;
                    [-1, 0, 1].map(|dx| plano[fila + pinzar(x, dx, w)])
                });
                destino[y * w + x] = f(v);
            }
            contador.avanzar(w as u64)?;
        }
        Ok(())
    }

    fn grises(&self, planos: &mut Planos, control: &Control) -> Result<(), ErrorKernel> {
        let [r, g, b] = &mut planos.color;
        let mut contador = Contador::new(control, PIXELES_ENTRE_COMPROBACIONES);
        for i in 0..r.len() {
            let y = luma(r[i], g[i], b[i]);
            (r[i], g[i], b[i]) = (y, y, y);
            contador.avanzar(1)?;
        }
        Ok(())
    }

    fn juntar(&self, planos: &Planos, control: &Control) -> Result<Vec<u8>, ErrorKernel> {
        let forma = planos.forma;
        let (w, c) = (forma.width as usize, usize::from(forma.canales));
        let mut bytes = vec![0; forma.pixeles() as usize * c];
        let mut contador = Contador::new(control, PIXELES_ENTRE_COMPROBACIONES);
        for (y, fila) in bytes.chunks_exact_mut(w * c).enumerate() {
            let filas = planos.color.each_ref().map(|p| &p[y * w..(y + 1) * w]);
            let alfa = planos.alfa.as_ref().map(|a| &a[y * w..(y + 1) * w]);
            juntar_fila(filas, alfa, c, fila);
            contador.avanzar(w as u64)?;
        }
        Ok(bytes)
    }
}
