//! `fft` on every backend: against a naive DFT on small sizes (primes, 1, `1 × m`, `n × 1`),
//! against rustfft's own one-call transform where `Paralelo` takes its four-step or Bluestein,
//! `Secuencial` against `Paralelo`, Parseval and the checksum the job reports, stopping through
//! the `Control`, the `Cuda` backend (the reason it is missing, or its agreement on a GPU), and
//! `kernels/cuda/fft.cu` itself, run on the CPU by its emulation harness.
//!
//! The tolerance, `‖X − Y‖₂ ≤ 1e-12·‖Y‖₂`, is the one docs/kernels.md states and justifies.

mod emulacion;

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::{Parametros, ParamsFft};
use kernels::fft::{self, Complejo};
use kernels::{Control, ErrorKernel};

/// The agreement every transform must reach, relative, in the L2 norm.
const TOLERANCIA: f64 = 1e-12;

/// `‖x − y‖₂ / ‖y‖₂` (0 when both are empty or zero).
fn diferencia(x: &[Complejo], y: &[Complejo]) -> f64 {
    assert_eq!(x.len(), y.len());
    let d: f64 = x.iter().zip(y).map(|(a, b)| (a - b).norm_sqr()).sum();
    let e: f64 = y.iter().map(Complejo::norm_sqr).sum();
    if e == 0.0 { d.sqrt() } else { (d / e).sqrt() }
}

/// The 2-D DFT of the `n × m` row-major `x` by its definition, each twiddle from its exact
/// integer exponent (`O(N²)`: small sizes only).
fn dft(x: &[Complejo], n: usize, m: usize) -> Vec<Complejo> {
    let raiz = |e: usize, k: usize| {
        let (s, c) = (-2.0 * std::f64::consts::PI * e as f64 / k as f64).sin_cos();
        Complejo::new(c, s)
    };
    let mut y = vec![Complejo::default(); n * m];
    for k in 0..n {
        for l in 0..m {
            y[k * m + l] = (0..n)
                .flat_map(|j| (0..m).map(move |c| (j, c)))
                .map(|(j, c)| x[j * m + c] * raiz(j * k % n, n) * raiz(c * l % m, m))
                .sum();
        }
    }
    y
}

/// The spectrum of `n × m` under seed 7 on `algoritmo`.
fn espectro(n: u32, m: u32, algoritmo: Algoritmo) -> fft::Espectro {
    let p = ParamsFft::new(n, m, 7).unwrap();
    fft::transformada(&p, algoritmo, &Control::ninguno()).unwrap()
}

/// Both CPU backends' spectra of `n × m` against `referencia`, each within the tolerance: the
/// larger difference.
fn contra(n: u32, m: u32, referencia: &[Complejo]) -> f64 {
    let d = [Algoritmo::Secuencial, Algoritmo::Paralelo].map(|algoritmo| {
        let d = diferencia(&espectro(n, m, algoritmo).datos, referencia);
        assert!(d <= TOLERANCIA, "{n} × {m} on {algoritmo}: {d:e}");
        d
    });
    d[0].max(d[1])
}

/// Lengths checked against the DFT: 1, primes, powers of two and their neighbours.
const LARGOS: [u32; 20] = [
    1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 31, 64, 97, 100, 101, 127, 243, 256, 257,
];

/// 2-D shapes checked against the DFT, `1 × m` among them.
const FORMAS: [(u32, u32); 10] = [
    (1, 7),
    (1, 64),
    (2, 3),
    (3, 5),
    (5, 3),
    (4, 4),
    (7, 11),
    (16, 9),
    (31, 33),
    (2, 97),
];

#[test]
fn small_sizes_match_the_dft_on_both_cpu_backends() {
    let formas = LARGOS.map(|n| (n, 1)).into_iter().chain(FORMAS);
    let mut peor = 0.0f64;
    for (n, m) in formas {
        let x = fft::senal(&ParamsFft::new(n, m, 7).unwrap());
        peor = peor.max(contra(n, m, &dft(&x, n as usize, m as usize)));
    }
    eprintln!("largest difference from the DFT: {peor:e}");
}

#[test]
fn a_single_point_is_its_own_transform() {
    let p = ParamsFft::new(1, 1, 3).unwrap();
    let x = fft::senal(&p);
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Auto] {
        assert_eq!(espectro(1, 1, algoritmo).datos.len(), 1);
        let e = fft::transformada(&p, algoritmo, &Control::ninguno()).unwrap();
        assert_eq!(e.datos, x, "{algoritmo}");
    }
}

#[test]
fn a_single_row_or_column_is_the_1d_transform() {
    for largo in [6u32, 97, 1 << 15, 65_537] {
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
            let plano = espectro(largo, 1, algoritmo).datos;
            assert_eq!(espectro(1, largo, algoritmo).datos, plano, "1 × {largo}");
        }
    }
}

/// rustfft's own transform of `x` in one call: an independent algorithm for the lengths where
/// `Paralelo` splits the work.
fn rustfft_directo(x: &[Complejo]) -> Vec<Complejo> {
    let mut y = x.to_vec();
    rustfft::FftPlanner::new()
        .plan_fft_forward(y.len())
        .process(&mut y);
    y
}

#[test]
fn the_four_step_and_bluestein_match_rustfft_in_one_call() {
    // Four-steps transposed in place: 2¹⁵ (128 × 256), 3·2¹⁴ (128 × 384), 5⁷ (125 × 625); into
    // a new buffer: 2²⁰ + 1 = 17 × 61681 (prime rows).
    // Bluestein: the primes 65 537 and 100 003, and 2·65 537 (its best split has rows too long).
    let mut peor = 0.0f64;
    for n in [
        1 << 15,
        3 << 14,
        78_125,
        65_537,
        100_003,
        131_074,
        (1 << 20) + 1,
    ] {
        let x = fft::senal(&ParamsFft::new(n, 1, 7).unwrap());
        peor = peor.max(contra(n, 1, &rustfft_directo(&x)));
    }
    eprintln!("largest difference from rustfft in one call: {peor:e}");
}

#[test]
fn two_dimensional_transforms_are_rows_then_columns() {
    // Sides long enough for Paralelo's four-step or Bluestein inside each row or column.
    let mut peor = 0.0f64;
    for (n, m) in [(3, 40_000), (40_000, 3), (2, 65_537), (130, 170)] {
        let x = fft::senal(&ParamsFft::new(n, m, 7).unwrap());
        let (n, m) = (n as usize, m as usize);
        let mut referencia: Vec<Complejo> = x.chunks(m).flat_map(rustfft_directo).collect();
        for c in 0..m {
            let columna: Vec<Complejo> = (0..n).map(|j| referencia[j * m + c]).collect();
            for (j, v) in rustfft_directo(&columna).into_iter().enumerate() {
                referencia[j * m + c] = v;
            }
        }
        peor = peor.max(contra(n as u32, m as u32, &referencia));
    }
    eprintln!("largest difference from rustfft's rows and columns: {peor:e}");
}

#[test]
fn secuencial_equals_paralelo_bit_for_bit_where_they_share_a_path() {
    // 2-D with sides up to 2¹⁴ (one call per row and column on both); 1-D above 2¹⁸.
    for (n, m) in [
        (64, 48),
        (1000, 3),
        (3, 1000),
        (1 << 14, 2),
        ((1 << 20) + 5, 1),
    ] {
        let s = espectro(n, m, Algoritmo::Secuencial);
        let p = espectro(n, m, Algoritmo::Paralelo);
        assert!(
            s.datos == p.datos,
            "{n} × {m}: {:e}",
            diferencia(&s.datos, &p.datos)
        );
    }
}

#[test]
fn the_job_reports_parseval_the_checksum_and_gflops() {
    for (n, m) in [(1, 1), (2, 1), (1009, 1), (1 << 16, 1), (300, 7)] {
        let p = ParamsFft::new(n, m, 11).unwrap();
        let x0 = fft::senal(&p)[0];
        let puntos = f64::from(n) * f64::from(m);
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
            let r = kernels::ejecutar(&Parametros::Fft(p), algoritmo)
                .unwrap()
                .resultado;
            let Detalle::Fft {
                n: rn,
                m: rm,
                parseval,
                checksum,
                gflops,
            } = r.detalle
            else {
                panic!("{:?}", r.detalle);
            };
            assert_eq!((rn, rm), (n, m));
            assert!(
                parseval <= TOLERANCIA,
                "{n} × {m} on {algoritmo}: parseval {parseval:e}"
            );
            // Σ_k X_k = N·x₀: every other input sums its twiddles to zero.
            let esperado = puntos * (x0.re + x0.im);
            let error = (checksum - esperado).abs() / puntos;
            assert!(
                error <= 1e-10,
                "{n} × {m} on {algoritmo}: {checksum} vs {esperado}"
            );
            assert!(gflops.is_finite() && gflops >= 0.0);
            assert_eq!(gflops > 0.0, puntos > 1.0 && r.duracion_s > 0.0, "{gflops}");
            assert_eq!(r.duracion_con_copias_s, None);
        }
    }
}

#[test]
fn parameters_are_checked_again() {
    let p = ParamsFft {
        n: 1 << 14,
        m: (1 << 12) + 1,
        semilla: 0,
    };
    match fft::ejecutar(&p, Algoritmo::Paralelo, &Control::ninguno()) {
        Err(ErrorKernel::Parametros(e)) => assert_eq!(e.campo, "n"),
        otro => panic!("{otro:?}"),
    }
    let p = ParamsFft {
        n: 0,
        m: 1,
        semilla: 0,
    };
    assert!(matches!(
        fft::ejecutar(&p, Algoritmo::Secuencial, &Control::ninguno()),
        Err(ErrorKernel::Parametros(_))
    ));
}

/// Runs `p` on `algoritmo` under `control`: the spectrum and how long the call took.
fn cronometrar(
    p: &ParamsFft,
    algoritmo: Algoritmo,
    control: &Control,
) -> (Result<fft::Espectro, ErrorKernel>, Duration) {
    let inicio = Instant::now();
    let r = fft::transformada(p, algoritmo, control);
    (r, inicio.elapsed())
}

#[test]
fn a_run_stops_between_passes() {
    // A four-step (2²², both backends), and a 2-D transform whose rows go through Bluestein
    // (on Secuencial too: one call of 1.5·10⁶ points would not stop).
    for (n, m) in [(1 << 22, 1), (3, 1_500_007)] {
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
            let p = ParamsFft::new(n, m, 1).unwrap();
            // Timed on the fastest of three runs: the first, on cold memory, took 211 ms where
            // the next took 130 (CI, 2026-11-30), and a cancel timed on it came after the end.
            let (mut completo, mut transformada) = (Duration::MAX, Duration::MAX);
            for _ in 0..3 {
                let (r, t) = cronometrar(&p, algoritmo, &Control::ninguno());
                completo = completo.min(t);
                transformada = transformada.min(r.unwrap().duracion);
            }
            let parado = Control::ninguno();
            parado.cancelar("before the start");
            let (r, _) = cronometrar(&p, algoritmo, &parado);
            assert!(
                matches!(r, Err(ErrorKernel::Cancelado { .. })),
                "{:?}",
                r.map(|e| e.duracion)
            );

            // Cancelled a third of the way into the transform (after the signal's generation):
            // it must stop well before the transform's end.
            let momento = completo - transformada + transformada / 3;
            let control = Control::ninguno();
            let (r, t) = std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(momento);
                    control.cancelar("stop now");
                });
                cronometrar(&p, algoritmo, &control)
            });
            let contexto = format!("{n} × {m} on {algoritmo}: {t:?}, the whole run {completo:?}");
            match r {
                Err(ErrorKernel::Cancelado { motivo }) => assert_eq!(motivo, "stop now"),
                otro => panic!("{contexto}: {:?}", otro.map(|e| e.duracion)),
            }
            assert!(t < completo - transformada / 3, "{contexto}");

            let (r, _) = cronometrar(&p, algoritmo, &Control::con_plazo(momento));
            assert!(
                matches!(r, Err(ErrorKernel::PlazoExcedido { .. })),
                "{contexto}: {:?}",
                r.map(|e| e.duracion)
            );
        }
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_says_it_was_not_built() {
    let p = ParamsFft::new(8, 1, 1).unwrap();
    match fft::ejecutar(&p, Algoritmo::Cuda, &Control::ninguno()) {
        Err(ErrorKernel::NoDisponible(m)) => assert!(m.contains("`cuda` feature"), "{m}"),
        otro => panic!("{otro:?}"),
    }
}

/// Without a GPU (the stub driver in CI), `Cuda` gives the detection's reason; with one, it
/// agrees with `Paralelo` within the tolerance, power-of-two lengths, primes and 2-D shapes.
#[cfg(feature = "cuda")]
#[test]
fn cuda_agrees_with_the_cpu_or_says_why_not() {
    let esperado = std::env::var("KERNELS_CUDA_ESPERADO").ok();
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado.as_deref(), Some("gpu"), "no GPU: {motivo}");
        let p = ParamsFft::new(8, 1, 1).unwrap();
        match fft::ejecutar(&p, Algoritmo::Cuda, &Control::ninguno()) {
            Err(ErrorKernel::NoDisponible(m)) => assert_eq!(m, motivo),
            otro => panic!("{otro:?}"),
        }
        return;
    }
    assert_ne!(esperado.as_deref(), Some("stub"), "found a GPU");
    let formas = [
        (1, 1),
        (2, 1),
        (3, 1),
        (1024, 1),
        (1000, 1),
        (65_537, 1),
        (1 << 22, 1),
    ]
    .into_iter()
    .chain([
        (1, 97),
        (4, 8),
        (33, 31),
        (2048, 2048),
        (1000, 3),
        (3, 100_003),
    ]);
    for (n, m) in formas {
        let cpu = espectro(n, m, Algoritmo::Paralelo);
        let gpu = espectro(n, m, Algoritmo::Cuda);
        let d = diferencia(&gpu.datos, &cpu.datos);
        assert!(d <= TOLERANCIA, "{n} × {m}: {d:e}");
        let con_copias = gpu.duracion_con_copias.expect("the GPU reports its copies");
        assert!(con_copias >= gpu.duracion);
    }
}

/// `kernels/cuda/fft.cu` run on the CPU by `kernels/cuda/fft_anfitrion.cpp` against a DFT,
/// where a C++20 compiler is installed (`$CXX`, else `c++`); otherwise it says so and passes.
#[test]
fn the_cuda_source_computes_the_dft_when_emulated_on_the_cpu() {
    let Some(programa) =
        emulacion::compilar("fft_anfitrion.cpp", &["-std=c++20", "-O2", "-pthread"])
    else {
        return;
    };
    let salida = std::process::Command::new(&programa).output().unwrap();
    let texto = String::from_utf8_lossy(&salida.stdout);
    assert!(salida.status.success(), "{texto}");
    assert!(
        texto.contains("0 case(s) failed") && texto.matches("ok ").count() >= 20,
        "{texto}"
    );
}
