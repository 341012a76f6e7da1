//! The symmetric matrix-vector product of `Paralelo`'s tridiagonalisation (half its flops, and
//! nearly all its memory traffic: the trailing matrix's lower triangle read once per column),
//! split over a team of threads that stays awake for the whole reduction.
//!
//! Why a team: there is one product per column (2047 at n = 2048), each a fraction of a
//! millisecond, separated by the panel's serial work. Split by rayon, every product woke a
//! sleeping worker (a futex wake-up, tens of microseconds in a VM: ~10 % of the run); here the
//! other threads spin (then yield) between products and claim parts of each as soon as it is
//! published, as OpenBLAS's threads do. Parts are claimed, not assigned: a thread that has
//! not joined yet (its rayon worker busy elsewhere) is never waited for.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Trailing matrices smaller than this are multiplied by the calling thread alone (a product
/// is then a few microseconds).
const ORDEN_PARALELO: usize = 512;

/// Spins before a waiting thread starts yielding its core.
const GIROS: u32 = 1 << 12;

/// The threads of one reduction and the product being computed.
pub(super) struct Equipo {
    /// Parts of each product: one per thread.
    partes: usize,
    /// Incremented when a product is published.
    ronda: AtomicUsize,
    /// Set when the reduction is over: the helpers return.
    fin: AtomicBool,
    /// The next part to claim; `partes` or more when none is left.
    siguiente: AtomicUsize,
    /// Parts finished of the current product.
    terminadas: AtomicUsize,
    /// The current product; written only while no part can be claimed.
    trabajo: UnsafeCell<Trabajo>,
    /// Each part's own `y`, `n` long.
    parciales: Vec<UnsafeCell<Vec<f64>>>,
}

/// One product `y = S·v`, `S = A[desde.., desde..]` of the `n × n` matrix at `a`.
#[derive(Clone, Copy)]
struct Trabajo {
    a: *const f64,
    n: usize,
    desde: usize,
    v: *const f64,
}

// SAFETY: `trabajo` is written by the publishing thread only while `siguiente` forbids every
// claim, and read only after a claim (which synchronises with the write); each part's buffer
// is touched only by the thread that claimed it, until `terminadas` hands it back; the
// pointers in `trabajo` are valid for the whole product (`producto` borrows them until every
// part is done).
unsafe impl Sync for Equipo {}

/// Sets `fin` when the reduction ends, by return or by panic, so that no helper spins forever.
struct Fin<'a>(&'a Equipo);

impl Drop for Fin<'_> {
    fn drop(&mut self) {
        self.0.fin.store(true, Ordering::Release);
    }
}

impl Equipo {
    /// Runs `f` with a team of every rayon thread: `f` on one, the others spinning for products
    /// until it returns.
    pub(super) fn con<R: Send>(n: usize, f: impl FnOnce(&Equipo) -> R + Send) -> R {
        let hilos = rayon::current_num_threads();
        let equipo = Equipo {
            partes: hilos,
            ronda: AtomicUsize::new(0),
            fin: AtomicBool::new(false),
            siguiente: AtomicUsize::new(hilos),
            terminadas: AtomicUsize::new(0),
            trabajo: UnsafeCell::new(Trabajo {
                a: std::ptr::null(),
                n: 0,
                desde: 0,
                v: std::ptr::null(),
            }),
            parciales: (0..hilos).map(|_| UnsafeCell::new(vec![0.0; n])).collect(),
        };
        let equipo = &equipo;
        rayon::scope(|s| {
            for _ in 1..hilos {
                s.spawn(move |_| equipo.ayudar_hasta_el_fin());
            }
            let _fin = Fin(equipo);
            f(equipo)
        })
    }

    /// `S·v` for the trailing `S = A[desde.., desde..]` of the `n × n` `a`, reading its lower
    /// triangle (columns from their diagonal down) once.
    pub(super) fn producto(&self, a: &[f64], n: usize, desde: usize, v: &[f64]) -> Vec<f64> {
        let m = n - desde;
        assert!(a.len() == n * n && v.len() == m);
        let mut y = vec![0.0; m];
        if m < ORDEN_PARALELO || self.partes == 1 {
            for c in 0..m {
                let columna = &a[(desde + c) * n + desde + c..(desde + c + 1) * n];
                columna_simetrica(columna, &v[c..], &mut y[c..]);
            }
            return y;
        }
        let trabajo = Trabajo {
            a: a.as_ptr(),
            n,
            desde,
            v: v.as_ptr(),
        };
        // SAFETY: no part can be claimed now (`siguiente` ≥ partes since the last product).
        unsafe { *self.trabajo.get() = trabajo };
        self.terminadas.store(0, Ordering::Relaxed);
        self.siguiente.store(0, Ordering::Release);
        self.ronda.fetch_add(1, Ordering::Release);
        self.reclamar();
        let mut giros = 0;
        while self.terminadas.load(Ordering::Acquire) < self.partes {
            esperar(&mut giros);
        }
        for p in 0..self.partes {
            let (inicio, _) = self.columnas(p, m);
            // SAFETY: every part is done (`terminadas`), so nothing writes its buffer.
            let parcial = unsafe { &*self.parciales[p].get() };
            y[inicio..]
                .iter_mut()
                .zip(&parcial[inicio..m])
                .for_each(|(y, x)| *y += x);
        }
        y
    }

    /// Columns `inicio..fin` of part `p` of an order-`m` product: equal areas of the triangle.
    fn columnas(&self, p: usize, m: usize) -> (usize, usize) {
        let inicio = |p: usize| {
            let resto = 1.0 - p as f64 / self.partes as f64;
            m - ((m as f64 * resto.sqrt()) as usize).min(m)
        };
        let fin = if p + 1 == self.partes {
            m
        } else {
            inicio(p + 1)
        };
        (inicio(p), fin)
    }

    /// A helper's life: wait for each product, claim parts of it, until the end.
    fn ayudar_hasta_el_fin(&self) {
        let mut vista = self.ronda.load(Ordering::Acquire);
        loop {
            let mut giros = 0;
            while self.ronda.load(Ordering::Acquire) == vista {
                if self.fin.load(Ordering::Acquire) {
                    return;
                }
                esperar(&mut giros);
            }
            vista = self.ronda.load(Ordering::Acquire);
            self.reclamar();
        }
    }

    /// Claims and computes parts of the current product until none is left.
    fn reclamar(&self) {
        loop {
            let p = self.siguiente.fetch_add(1, Ordering::AcqRel);
            if p >= self.partes {
                return;
            }
            // SAFETY: a successful claim synchronises with the publication of `trabajo`, whose
            // pointers stay valid until every part is done; part `p`'s buffer is this
            // thread's alone until it counts the part as finished.
            unsafe {
                let t = *self.trabajo.get();
                let m = t.n - t.desde;
                let a = std::slice::from_raw_parts(t.a, t.n * t.n);
                let v = std::slice::from_raw_parts(t.v, m);
                let y = &mut *self.parciales[p].get();
                let (inicio, fin) = self.columnas(p, m);
                y[inicio..m].fill(0.0);
                for c in inicio..fin {
                    let k = t.desde + c;
                    columna_simetrica(&a[k * t.n + k..(k + 1) * t.n], &v[c..], &mut y[c..m]);
                }
            }
            self.terminadas.fetch_add(1, Ordering::Release);
        }
    }
}

/// One step of waiting: spin a while, then yield the core (another process may need it).
fn esperar(giros: &mut u32) {
    if *giros < GIROS {
        *giros += 1;
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// One column of a symmetric product from its lower part `columna` (diagonal first):
/// `y[0] += columna·v`, `y[r] += columna[r]·v[0]` for `r ≥ 1`, in one pass: with AVX2 and FMA
/// when the CPU has them (two accumulators; measured 1.5 times the compiler's own vector code
/// for this loop, which it vectorises poorly), else plain loops.
fn columna_simetrica(columna: &[f64], v: &[f64], y: &mut [f64]) {
    assert!(v.len() == columna.len() && y.len() == columna.len() && !columna.is_empty());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked above); the lengths are equal (asserted).
        unsafe { columna_avx2(columna, v, y) };
        return;
    }
    let v0 = v[0];
    let mut suma = columna[0] * v0;
    for ((a, vr), yr) in columna.iter().zip(v).zip(y.iter_mut()).skip(1) {
        suma += a * vr;
        *yr += a * v0;
    }
    y[0] += suma;
}

/// [`columna_simetrica`] in AVX2 and FMA, eight values a step in two accumulators.
///
/// # Safety
///
/// The CPU has AVX2 and FMA, and the three slices have the same length (at least 1).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn columna_avx2(columna: &[f64], v: &[f64], y: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = columna.len();
    let v0 = v[0];
    let (pa, pv, py) = (columna.as_ptr(), v.as_ptr(), y.as_mut_ptr());
    let mut i = 1;
    // SAFETY: every offset below is at most n − 1 (i + 8 ≤ n in the loop), inside the three
    // slices of length n; the loads and stores are unaligned ones.
    let mut suma = unsafe {
        let (mut s0, mut s1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let b0 = _mm256_set1_pd(v0);
        while i + 8 <= n {
            let x0 = _mm256_loadu_pd(pa.add(i));
            let x1 = _mm256_loadu_pd(pa.add(i + 4));
            s0 = _mm256_fmadd_pd(x0, _mm256_loadu_pd(pv.add(i)), s0);
            s1 = _mm256_fmadd_pd(x1, _mm256_loadu_pd(pv.add(i + 4)), s1);
            let (y0, y1) = (py.add(i), py.add(i + 4));
            _mm256_storeu_pd(y0, _mm256_fmadd_pd(x0, b0, _mm256_loadu_pd(y0)));
            _mm256_storeu_pd(y1, _mm256_fmadd_pd(x1, b0, _mm256_loadu_pd(y1)));
            i += 8;
        }
        let s = _mm256_add_pd(s0, s1);
        let h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
        _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)))
    };
    for r in i..n {
        suma += columna[r] * v[r];
        y[r] += columna[r] * v0;
    }
    y[0] += columna[0] * v0 + suma;
}
