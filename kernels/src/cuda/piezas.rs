//! Launching in pieces: work queued on one stream a piece at a time, the run's [`Control`]
//! checked before each, and never more than [`EN_VUELO`] pieces ahead of the GPU, so that a
//! stop waits for little.

use cust::event::{Event, EventFlags};
use cust::stream::Stream;

use super::fallo;
use crate::ErrorKernel;
use crate::control::Control;

/// Pieces of work queued ahead of the GPU at most (see [`Piezas`]): two, so that the GPU
/// always has the next piece while the host waits for the previous one.
const EN_VUELO: usize = 2;

/// Queues work on one stream in pieces: checks the run's [`Control`] before each piece, and
/// waits for the GPU to finish piece `i − EN_VUELO` before queuing piece `i`, so a stop never
/// has more than [`EN_VUELO`] pieces to wait for. The host thread sleeps while it waits (the
/// context prefers blocking synchronisation; the events ask for it too).
pub(super) struct Piezas<'a> {
    /// Where the pieces run.
    flujo: &'a Stream,
    /// Checked before each piece.
    control: &'a Control,
    /// Recorded after each piece, reused round-robin: `marcas[i % EN_VUELO]` marks piece `i`.
    marcas: Vec<Event>,
    /// Pieces queued so far.
    lanzadas: usize,
}

impl<'a> Piezas<'a> {
    pub(super) fn new(flujo: &'a Stream, control: &'a Control) -> Result<Self, ErrorKernel> {
        let marcas = (0..EN_VUELO)
            .map(|_| {
                Event::new(EventFlags::BLOCKING_SYNC | EventFlags::DISABLE_TIMING)
                    .map_err(fallo("creating an event"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            flujo,
            control,
            marcas,
            lanzadas: 0,
        })
    }

    /// Calls `lanzar`, which queues one piece of work on the stream, once the GPU is at most
    /// `EN_VUELO − 1` pieces behind and the control lets the run go on. When it must stop, the
    /// queued pieces are waited for (the caller then frees their buffers) and the control's
    /// error returned.
    pub(super) fn pieza(
        &mut self,
        lanzar: impl FnOnce() -> Result<(), ErrorKernel>,
    ) -> Result<(), ErrorKernel> {
        let marca = &self.marcas[self.lanzadas % EN_VUELO];
        if self.lanzadas >= EN_VUELO {
            marca.synchronize().map_err(fallo("waiting for the GPU"))?;
        }
        if let Err(parada) = self.control.comprobar() {
            self.flujo
                .synchronize()
                .map_err(fallo("finishing the queued work"))?;
            return Err(parada);
        }
        lanzar()?;
        marca
            .record(self.flujo)
            .map_err(fallo("recording an event"))?;
        self.lanzadas += 1;
        Ok(())
    }
}

/// `total` units of work cut into pieces of `por_pieza` (at least 1): the sizes, in order.
pub(crate) fn trozos(total: u64, por_pieza: u64) -> impl Iterator<Item = (u64, u64)> {
    let por_pieza = por_pieza.max(1);
    (0..total)
        .step_by(por_pieza as usize)
        .map(move |desde| (desde, por_pieza.min(total - desde)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_work_once_in_order() {
        for (total, por_pieza) in [(0, 5), (1, 5), (10, 5), (11, 5), (7, 0), (3, 100)] {
            let piezas: Vec<_> = trozos(total, por_pieza).collect();
            let mut siguiente = 0;
            for &(desde, cuantos) in &piezas {
                assert_eq!(desde, siguiente);
                assert!(cuantos >= 1 && cuantos <= por_pieza.max(1));
                siguiente += cuantos;
            }
            assert_eq!(siguiente, total, "{total} in pieces of {por_pieza}");
        }
    }
}
