//! `Secuencial` for kmeans: the reference. One thread, every point against every centroid
//! with the exact lattice distance ([`distancia_exacta`]), the first nearest wins; the
//! [`Control`] is checked every [`OPERACIONES_ENTRE_COMPROBACIONES`] coordinate differences.

use super::datos::{Datos, mas_cercano};
use super::lloyd::{Paso, Suma};
use crate::ErrorKernel;
use crate::control::{Contador, Control};
#[cfg(doc)]
use crate::kmeans::datos::distancia_exacta;

/// Coordinate differences between two checks of the [`Control`] (a few ms).
const OPERACIONES_ENTRE_COMPROBACIONES: u64 = 1 << 22;

/// The reference assignment step over `datos`.
pub(super) struct Secuencial<'a> {
    /// The points.
    datos: &'a Datos,
    /// Each point's cluster in the last step (`u32::MAX` before the first).
    etiquetas: Vec<u32>,
}

impl<'a> Secuencial<'a> {
    /// No step run yet.
    pub(super) fn new(datos: &'a Datos) -> Self {
        Secuencial {
            datos,
            etiquetas: vec![u32::MAX; datos.muestras],
        }
    }
}

impl Paso for Secuencial<'_> {
    fn asignar(&mut self, centroides: &[f32], control: &Control) -> Result<Suma, ErrorKernel> {
        let d = self.datos.dimensiones;
        let mut suma = Suma::new(centroides.len() / d, d);
        let mut contador = Contador::new(control, OPERACIONES_ENTRE_COMPROBACIONES);
        for (x, etiqueta) in self.datos.x.chunks_exact(d).zip(&mut self.etiquetas) {
            contador.avanzar(centroides.len() as u64)?;
            let j = mas_cercano(x, centroides);
            suma.sumar(j, x);
            if *etiqueta != j as u32 {
                *etiqueta = j as u32;
                suma.cambios += 1;
            }
        }
        Ok(suma)
    }

    fn etiquetas(&mut self) -> Result<Vec<u32>, ErrorKernel> {
        Ok(self.etiquetas.clone())
    }
}
