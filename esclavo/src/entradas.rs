//! The uploaded PNGs `imagen` jobs take as input: fetched from the maestro
//! (`GET /imagenes/{id}`) before the kernel runs, and kept in a small cache, since uploads never
//! change and a batch of jobs often names the same one.
//!
//! The cache holds the most recently used images up to [`CACHE_BYTES`] in all; an image larger
//! than that is used and not kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use crate::conexion::{ClienteMaestro, en_una_linea};

/// Bytes of PNG the cache keeps at most: 256 MiB (two of the largest uploads).
pub const CACHE_BYTES: usize = 256 << 20;

/// Where an esclavo gets uploaded images from.
pub struct Entradas {
    /// The maestro, once the esclavo runs (`esclavo::run` connects it).
    maestro: OnceLock<ClienteMaestro>,
    /// Most recently used first.
    cache: Mutex<VecDeque<(u64, Arc<Vec<u8>>)>>,
    /// Bytes the cache keeps at most.
    limite: usize,
}

impl Default for Entradas {
    fn default() -> Self {
        Self::con_limite(CACHE_BYTES)
    }
}

impl Entradas {
    /// A cache of at most `limite` bytes, not connected yet.
    fn con_limite(limite: usize) -> Self {
        Self {
            maestro: OnceLock::new(),
            cache: Mutex::new(VecDeque::new()),
            limite,
        }
    }

    /// Fetches from `maestro` from now on.
    pub fn conectar(&self, maestro: ClienteMaestro) {
        let _ = self.maestro.set(maestro);
    }

    /// Image `id`'s PNG, from the cache or the maestro; `Err` says why it could not be had.
    pub async fn traer(&self, id: u64) -> Result<Arc<Vec<u8>>, String> {
        if let Some(png) = self.guardada(id) {
            return Ok(png);
        }
        let maestro = self
            .maestro
            .get()
            .ok_or("this esclavo has no connection to the maestro")?;
        let png = maestro.imagen(id).await.map_err(|e| {
            format!(
                "fetching uploaded image {id} from the maestro: {}",
                en_una_linea(&e)
            )
        })?;
        let png = Arc::new(png);
        self.guardar(id, Arc::clone(&png));
        Ok(png)
    }

    /// The cached image `id`, moved to the front.
    fn guardada(&self, id: u64) -> Option<Arc<Vec<u8>>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let i = cache.iter().position(|(k, _)| *k == id)?;
        let par = cache.remove(i)?;
        let png = Arc::clone(&par.1);
        cache.push_front(par);
        Some(png)
    }

    /// Keeps `png` first, dropping the least recently used beyond the limit.
    fn guardar(&self, id: u64, png: Arc<Vec<u8>>) {
        if png.len() > self.limite {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|(k, _)| *k != id);
        cache.push_front((id, png));
        let mut total = 0;
        cache.retain(|(_, p)| {
            total += p.len();
            total <= self.limite
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cached_images_are_served_without_a_maestro_and_the_cache_stays_bounded() {
        let entradas = Entradas::con_limite(100);
        let e = entradas.traer(1).await.unwrap_err();
        assert!(e.contains("no connection"), "{e}");
        let mitad = 50;
        entradas.guardar(1, Arc::new(vec![1; mitad]));
        entradas.guardar(2, Arc::new(vec![2; mitad]));
        assert_eq!(entradas.traer(1).await.unwrap()[0], 1);
        // 1 was used last: a third image pushes 2 out.
        entradas.guardar(3, Arc::new(vec![3; 10]));
        assert!(entradas.guardada(2).is_none());
        assert!(entradas.guardada(1).is_some() && entradas.guardada(3).is_some());
        entradas.guardar(4, Arc::new(vec![0; 101]));
        assert!(entradas.guardada(4).is_none(), "too large to keep");
    }
}
