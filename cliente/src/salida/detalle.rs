//! A job's result in words ([`resultado`]): kernel time (and with copies, on a GPU), device,
//! and each kernel's own figures.

use comun::api::{Detalle, Resultado};

use super::{cantidad, segundos};

/// A result in words: kernel time, device, checksum, rate.
pub fn resultado(r: &Resultado) -> String {
    let mut s = format!("result: {} on {}", segundos(r.duracion_s), r.dispositivo);
    if let Some(c) = r.duracion_con_copias_s {
        s.push_str(&format!(" ({} with host↔device copies)", segundos(c)));
    }
    s.push('\n');
    s.push_str(&detalle(&r.detalle));
    if r.imagen {
        s.push_str("  image: available (--imagen FILE.png saves it)\n");
    }
    s
}

/// A kernel's own figures, indented, one or two lines.
fn detalle(d: &Detalle) -> String {
    match d {
        Detalle::Julia {
            suma_conteos,
            pixeles,
            iteraciones_por_segundo,
        } => format!(
            "  checksum (sum of iteration counts): {suma_conteos}\n  pixels: {pixeles}\n  \
             {} iter/s\n",
            cantidad(*iteraciones_por_segundo)
        ),
        Detalle::Espera { ms } => format!("  slept {ms} ms\n"),
        Detalle::Matmul {
            n,
            checksum,
            error_relativo,
            gflops,
        } => format!(
            "  C = A·B, n = {n}: checksum {checksum:.6e}, max relative error {error_relativo:.2e}\n  \
             {gflops:.1} GFLOP/s\n"
        ),
        Detalle::VectorAdd { n, checksum, gbps } => format!(
            "  c = a + b, n = {n}: checksum {checksum:.6e}\n  {gbps:.1} GB/s (bytes read and written)\n"
        ),
        Detalle::Montecarlo {
            muestras,
            dentro,
            pi,
            muestras_por_segundo,
        } => format!(
            "  π ≈ {pi:.10} ({dentro} of {muestras} points inside)\n  {} muestras/s\n",
            cantidad(*muestras_por_segundo)
        ),
        Detalle::Nbody {
            particulas,
            pasos,
            energia_inicial,
            energia_final,
            interacciones_por_segundo,
        } => format!(
            "  {particulas} partículas × {pasos} pasos: energy {energia_inicial:.6e} → \
             {energia_final:.6e}\n  {} interactions/s\n",
            cantidad(*interacciones_por_segundo)
        ),
        otro => catalogo(otro),
    }
}

/// The figures of the catalogue's kernels (fft, autovalores, kmeans, red_neuronal, imagen).
fn catalogo(d: &Detalle) -> String {
    match d {
        Detalle::Fft {
            n,
            m,
            parseval,
            checksum,
            gflops,
        } => {
            let forma = if *m == 1 {
                format!("{n} points")
            } else {
                format!("{n}×{m} points")
            };
            format!(
                "  FFT of {forma}: Parseval error {parseval:.2e}, checksum {checksum:.6e}\n  \
                 {gflops:.1} GFLOP/s (5·N·log₂N)\n"
            )
        }
        Detalle::Autovalores {
            n,
            mayor,
            menor,
            suma,
            traza,
            residuo,
            gflops,
        } => format!(
            "  {n} eigenvalues in [{menor:.6e}, {mayor:.6e}]\n  Σλ = {suma:.6e}, trace = \
             {traza:.6e}; residual of a sampled eigenpair {residuo:.2e}\n  {gflops:.1} GFLOP/s \
             ((4/3)·n³)\n"
        ),
        Detalle::Kmeans {
            muestras,
            k,
            iteraciones,
            inercia,
            checksum,
            gflops,
        } => format!(
            "  {muestras} points, k = {k}, {iteraciones} iterations: inertia {}\n  centroid \
             checksum {checksum:.6e}\n  {gflops:.1} GFLOP/s\n",
            curva(inercia, |x| format!("{x:.6e}"))
        ),
        Detalle::RedNeuronal {
            perdida,
            precision_entrenamiento,
            precision_prueba,
            muestras_por_segundo,
            gflops,
        } => format!(
            "  loss per epoch: {}\n  accuracy: {:.1}% training, {:.1}% held out\n  {} \
             samples/s, {gflops:.1} GFLOP/s\n",
            curva(perdida, |x| format!("{x:.4}")),
            precision_entrenamiento * 100.0,
            precision_prueba * 100.0,
            cantidad(*muestras_por_segundo)
        ),
        Detalle::Imagen {
            width,
            height,
            checksum,
            megapixeles_por_segundo,
        } => format!(
            "  {width}×{height} image: checksum (sum of output bytes) {checksum}\n  \
             {megapixeles_por_segundo:.1} megapixels/s\n"
        ),
        otro => format!("  {otro:?}\n"),
    }
}

/// A per-iteration series in one line: all of it when short, else its ends.
fn curva(v: &[f64], f: impl Fn(f64) -> String) -> String {
    match v {
        [] => "none".into(),
        _ if v.len() <= 6 => v.iter().map(|&x| f(x)).collect::<Vec<_>>().join(" → "),
        [primero, .., ultimo] => {
            format!("{} → … → {} ({} values)", f(*primero), f(*ultimo), v.len())
        }
        [solo] => f(*solo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_series_show_their_ends_and_every_catalogue_detail_reads() {
        assert_eq!(curva(&[3.0, 2.0], |x| format!("{x}")), "3 → 2");
        let larga: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(curva(&larga, |x| format!("{x}")), "1 → … → 10 (10 values)");
        let detalle = Detalle::RedNeuronal {
            perdida: vec![1.1, 0.5],
            precision_entrenamiento: 0.97,
            precision_prueba: 0.955,
            muestras_por_segundo: 1e6,
            gflops: 2.0,
        };
        let r = Resultado::nuevo(0.5, Some(0.75), "GPU 0".into(), detalle, false);
        let texto = resultado(&r);
        assert!(texto.contains("with host↔device copies"), "{texto}");
        assert!(texto.contains("1.1000 → 0.5000"), "{texto}");
        assert!(texto.contains("95.5% held out"), "{texto}");
    }
}
