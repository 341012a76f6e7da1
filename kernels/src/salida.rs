//! [`Salida`]: what one kernel run hands back to [`ejecutar`](crate::ejecutar()), the same shape
//! for every kernel: its times, its wire [`Detalle`], and the PNG of the kernels that draw one.

use std::time::Duration;

use comun::api::{Detalle, Resultado};

/// What a kernel computed, before it becomes the wire [`Resultado`].
#[derive(Debug, Clone, PartialEq)]
pub struct Salida {
    /// Kernel time (on a GPU: the kernels alone, without host↔device copies).
    pub duracion: Duration,
    /// On a GPU, kernel time plus the host↔device copies; `None` on a CPU.
    pub duracion_con_copias: Option<Duration>,
    /// The kernel's own figures, as the wire carries them.
    pub detalle: Detalle,
    /// The image, for kernels that draw one (julia, imagen).
    pub imagen_png: Option<Vec<u8>>,
}

impl Salida {
    /// A CPU run's output without an image.
    pub fn cpu(duracion: Duration, detalle: Detalle) -> Self {
        Salida {
            duracion,
            duracion_con_copias: None,
            detalle,
            imagen_png: None,
        }
    }

    /// The wire result, naming the device that ran it; `resultado.imagen` says whether the PNG
    /// (returned beside it) exists.
    pub fn resultado(self, dispositivo: String) -> (Resultado, Option<Vec<u8>>) {
        let resultado = Resultado::nuevo(
            self.duracion.as_secs_f64(),
            self.duracion_con_copias.map(|d| d.as_secs_f64()),
            dispositivo,
            self.detalle,
            self.imagen_png.is_some(),
        );
        (resultado, self.imagen_png)
    }
}

/// `cantidad / t` in seconds, or 0 for a time too short to measure: the rates every
/// [`Detalle`] carries.
pub fn por_segundo(cantidad: f64, t: Duration) -> f64 {
    let t = t.as_secs_f64();
    if t > 0.0 { cantidad / t } else { 0.0 }
}
