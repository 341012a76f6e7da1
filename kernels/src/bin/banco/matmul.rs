//! matmul's rows of the table: `C = A·B` at n = 2048 on Paralelo and Cuda (n = 512 on the
//! naive Secuencial), best of 5 like its peer. The peer, numpy's `a @ b` (OpenBLAS's sgemm,
//! `kernels/pares/matmul.py`), is measured twice in the same run: with the kernels OpenBLAS
//! picks for this CPU, and with `OPENBLAS_CORETYPE=Haswell` (its AVX2 kernels). Paralelo's
//! ratio is taken against the one that matches the gemm path running here: AVX-512 when kernels
//! is built with its default `avx512` feature on an AVX-512 CPU, AVX2 otherwise
//! (`--no-default-features` forces it on any CPU).

use comun::Algoritmo;
use comun::trabajo::ParamsMatmul;
use kernels::matmul;

use super::{fila, mejor_de, pares};

/// The size the target names.
const N: u32 = 2048;

/// numpy's `a @ b` in GFLOP/s: on the kernels OpenBLAS picks for this CPU, and on its AVX2
/// (Haswell) kernels.
pub struct Pares {
    propio: Result<f64, String>,
    avx2: Result<f64, String>,
}

/// Whether gemm runs its AVX-512 micro-kernels here (built in, and the CPU has them).
fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return cfg!(feature = "avx512") && std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Both numpy measurements, with one line each for the table's header.
pub fn medir() -> Pares {
    let pares = Pares {
        propio: medir_par(None),
        avx2: medir_par(Some("Haswell")),
    };
    let medidas = [
        ("OpenBLAS's kernels for this CPU", &pares.propio),
        ("OpenBLAS's AVX2 (Haswell) kernels", &pares.avx2),
    ];
    for (que, r) in medidas {
        match r {
            Ok(gf) => println!("- numpy a @ b (n = {N}, f32) on {que}: {gf:.1} GFLOP/s"),
            Err(e) => println!("- numpy a @ b on {que}: not measured ({e})"),
        }
    }
    let ruta = if avx512() { "AVX-512" } else { "AVX2" };
    println!(
        "- matmul Paralelo: gemm's {ruta} micro-kernels, compared with the numpy run of the same width"
    );
    pares
}

/// matmul's row for `algoritmo`: GFLOP/s, and for Paralelo the ratio to numpy's `a @ b`.
pub fn fila_matmul(algoritmo: Algoritmo, pares: &Pares) {
    // The naive Secuencial at a size it finishes in seconds.
    let n = if algoritmo == Algoritmo::Secuencial {
        512
    } else {
        N
    };
    let p = ParamsMatmul::new(n, 1).expect("a valid size");
    let Some(t) = mejor_de(5, || matmul::matmul(&p, algoritmo).map(|r| r.duracion)) else {
        return;
    };
    let gf = 2.0 * f64::from(n).powi(3) / t.as_secs_f64() / 1e9;
    let (par, ancho) = if avx512() {
        (&pares.propio, "as chosen")
    } else {
        (&pares.avx2, "AVX2")
    };
    let (objetivo, razon) = match (par, algoritmo) {
        (Ok(np), Algoritmo::Paralelo) => (
            format!("≥ 0.90 × numpy a @ b, {ancho} ({np:.1} GFLOP/s)"),
            format!("{:.2}", gf / np),
        ),
        _ => ("-".to_string(), "-".to_string()),
    };
    let tam = format!("n = {n} (best of 5)");
    fila(
        "matmul",
        algoritmo,
        &tam,
        t,
        &format!("{gf:.1} GFLOP/s"),
        &objetivo,
        &razon,
    );
}

/// `kernels/pares/matmul.py` at [`N`], on OpenBLAS's kernels `nucleo` when given: GFLOP/s.
fn medir_par(nucleo: Option<&str>) -> Result<f64, String> {
    let n = format!("n={N}");
    let nucleo = nucleo.map(|c| format!("nucleo={c}"));
    let mut args = vec![n.as_str(), "--repeticiones", "5"];
    args.extend(nucleo.as_deref());
    pares::correr("matmul.py", &args)?.valor("gflops")
}
