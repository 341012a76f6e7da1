//! The Julia backends against each other and against an independent computation.

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;
use kernels::ErrorKernel;

fn conteos(width: u32, height: u32, iteraciones: u32, algoritmo: Algoritmo) -> Vec<u32> {
    let p = ParamsJulia::new(width, height, iteraciones).unwrap();
    let c = kernels::julia(&p, algoritmo).unwrap();
    assert_eq!((c.width, c.height), (width, height));
    assert_eq!(c.conteos.len(), (width * height) as usize);
    c.conteos
}

/// The definition written out once more, independently of the crate: a plain double loop.
fn julia_a_mano(width: u32, height: u32, iteraciones: u32) -> Vec<u32> {
    let (x1, x2, y1, y2) = (-1.8f64, 1.8f64, -1.8f64, 1.8f64);
    let (cr, ci) = (-0.62772f64, -0.42193f64);
    let dx = (x2 - x1) / width as f64;
    let dy = (y2 - y1) / height as f64;
    let mut salida = Vec::new();
    for j in 0..height {
        for k in 0..width {
            let mut zr = x1 + (k as f64) * dx;
            let mut zi = y2 - (j as f64) * dy;
            let mut n = 0;
            while n < iteraciones && zr * zr + zi * zi < 4.0 {
                let nuevo_zr = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = nuevo_zr;
                n += 1;
            }
            salida.push(n);
        }
    }
    salida
}

#[test]
fn paralelo_agrees_exactly_with_secuencial_on_every_shape() {
    for (width, height) in kernels::julia::FORMAS_DE_PRUEBA {
        for iteraciones in [1, 2, 50, 300] {
            let s = conteos(width, height, iteraciones, Algoritmo::Secuencial);
            let p = conteos(width, height, iteraciones, Algoritmo::Paralelo);
            assert!(
                s == p,
                "{width}x{height}x{iteraciones}: first difference at pixel {:?}",
                s.iter().zip(&p).position(|(a, b)| a != b)
            );
        }
    }
}

#[test]
fn paralelo_agrees_across_many_blocks_and_a_ragged_tail() {
    // 1021 × 37 pixels: many rayon blocks, rows that straddle blocks, a partial last group.
    let s = conteos(1021, 37, 200, Algoritmo::Secuencial);
    let p = conteos(1021, 37, 200, Algoritmo::Paralelo);
    assert!(
        s == p,
        "first difference at pixel {:?}",
        s.iter().zip(&p).position(|(a, b)| a != b)
    );
}

#[test]
fn secuencial_matches_the_definition_written_out() {
    for (width, height, iteraciones) in [(64, 48, 100), (1, 1, 10), (31, 17, 300)] {
        assert_eq!(
            conteos(width, height, iteraciones, Algoritmo::Secuencial),
            julia_a_mano(width, height, iteraciones),
            "{width}x{height}x{iteraciones}"
        );
    }
}

#[test]
fn checksum_of_64x48x100_is_known() {
    // Checked against `julia_a_mano` here (and once against the same loop in Python); a change
    // means the definition changed.
    const SUMA_64X48X100: u64 = 39_790;
    let p = ParamsJulia::new(64, 48, 100).unwrap();
    let a_mano: u64 = julia_a_mano(64, 48, 100)
        .iter()
        .map(|&c| u64::from(c))
        .sum();
    assert_eq!(a_mano, SUMA_64X48X100);
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        assert_eq!(
            kernels::julia(&p, algoritmo).unwrap().suma(),
            SUMA_64X48X100,
            "{algoritmo}"
        );
    }
}

#[test]
fn counts_stay_within_iteraciones_and_the_centre_never_escapes() {
    let c = conteos(64, 48, 100, Algoritmo::Paralelo);
    assert!(c.iter().all(|&n| n <= 100));
    // Pixel (32, 24) starts at z₀ = 0, inside the set for this c.
    assert_eq!(c[24 * 64 + 32], 100);
    // Pixel (0, 0) starts at -1.8 + 1.8i, |z₀|² = 6.48: it has escaped before any update.
    assert_eq!(c[0], 0);
}

#[test]
#[cfg(not(feature = "cuda"))]
fn cuda_is_not_available_in_this_build() {
    let p = ParamsJulia::new(4, 4, 10).unwrap();
    match kernels::julia(&p, Algoritmo::Cuda) {
        Err(ErrorKernel::NoDisponible(motivo)) => assert!(motivo.contains("CUDA"), "{motivo}"),
        otro => panic!("expected NoDisponible, got {otro:?}"),
    }
}

#[test]
fn parameters_decoded_past_the_constructor_are_rejected() {
    let p = ParamsJulia {
        width: 0,
        height: 4,
        iteraciones: 10,
    };
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        match kernels::julia(&p, algoritmo) {
            Err(ErrorKernel::Parametros(e)) => assert_eq!(e.campo, "width"),
            otro => panic!("expected Parametros, got {otro:?}"),
        }
    }
}
