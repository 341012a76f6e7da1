//! Which GPU a thread's `Cuda` work runs on ([`en_gpu`]: the caller picks, the esclavo one free
//! device per job), and the GPUs this process can use ([`gpus`], [`gpu`]).
//!
//! The choice is per thread because a job's GPU host code runs on the thread that called the
//! kernel (the context is made current there): every `Cuda` call on that thread, inside
//! [`en_gpu`], goes to that device. Without a choice, GPU 0.

use std::cell::Cell;

use comun::nodo::Gpu;

thread_local! {
    /// The device `Cuda` calls on this thread go to.
    static ELEGIDA: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` with this thread's `Cuda` work on GPU `indice` (the driver's ordinal, as
/// [`Gpu::indice`]), then goes back to the previous choice, also when `f` panics.
pub fn en_gpu<T>(indice: u32, f: impl FnOnce() -> T) -> T {
    /// Puts the previous choice back when dropped.
    struct Restaurar(u32);
    impl Drop for Restaurar {
        fn drop(&mut self) {
            ELEGIDA.with(|c| c.set(self.0));
        }
    }
    let _restaurar = Restaurar(ELEGIDA.with(|c| c.replace(indice)));
    f()
}

/// The GPU this thread's `Cuda` work goes to: [`en_gpu`]'s choice, or 0.
pub fn gpu_elegida() -> u32 {
    ELEGIDA.with(Cell::get)
}

/// What the `Cuda` backend found on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gpus {
    /// Every device the kernels run on, each set up (context, PTX loaded), by index.
    pub usables: Vec<Gpu>,
    /// Every device the driver lists that they cannot run on, in a sentence that names it and
    /// says why (`GPU 1 (Tesla P4) has compute capability 6.1; ...`).
    pub descartadas: Vec<String>,
}

/// Every GPU this process can run `Cuda` jobs on, each set up now if it was not (once per
/// process and device); `Err` says, in words, why there is none at all: built without the
/// `cuda` feature, no driver, a driver too old for the kernels' PTX, no device.
pub fn gpus() -> Result<Gpus, String> {
    #[cfg(feature = "cuda")]
    {
        let cuantos = crate::cuda::dispositivos().map_err(motivo)?;
        let mut gpus = Gpus::default();
        for indice in 0..cuantos {
            match crate::cuda::motor_en(indice) {
                Ok(motor) => gpus.usables.push(motor.gpu().clone()),
                Err(e) => gpus.descartadas.push(motivo(e)),
            }
        }
        Ok(gpus)
    }
    #[cfg(not(feature = "cuda"))]
    Err(crate::SIN_CUDA.into())
}

/// The GPU this thread's `Cuda` work runs on ([`gpu_elegida`]), set up on first use; `Err` says
/// why it cannot be used.
pub fn gpu() -> Result<Gpu, String> {
    #[cfg(feature = "cuda")]
    return crate::cuda::motor()
        .map(|motor| motor.gpu().clone())
        .map_err(motivo);
    #[cfg(not(feature = "cuda"))]
    Err(crate::SIN_CUDA.into())
}

/// The reason of a [`NoDisponible`](crate::ErrorKernel::NoDisponible), or the error in words.
#[cfg(feature = "cuda")]
fn motivo(e: crate::ErrorKernel) -> String {
    match e {
        crate::ErrorKernel::NoDisponible(motivo) => motivo,
        otro => otro.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_per_thread_nested_and_restored() {
        assert_eq!(gpu_elegida(), 0);
        en_gpu(2, || {
            assert_eq!(gpu_elegida(), 2);
            en_gpu(5, || assert_eq!(gpu_elegida(), 5));
            assert_eq!(gpu_elegida(), 2, "the outer choice is back");
            let otra = std::thread::spawn(gpu_elegida).join().unwrap();
            assert_eq!(otra, 0, "another thread keeps its own");
        });
        let tras_panico = std::panic::catch_unwind(|| en_gpu(3, || panic!("kernel")));
        assert!(tras_panico.is_err());
        assert_eq!(gpu_elegida(), 0, "restored after a panic too");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_the_feature_there_is_no_gpu_and_it_says_so() {
        assert_eq!(gpus(), Err(crate::SIN_CUDA.to_owned()));
        assert_eq!(en_gpu(1, gpu), Err(crate::SIN_CUDA.to_owned()));
    }
}
