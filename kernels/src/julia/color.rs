//! Colouring a Julia image and encoding it as a PNG.
//!
//! A count maps to a colour through a palette computed once per image ([`paleta`]): one
//! entry per possible count, so colouring is a table lookup per pixel. Points that never
//! escaped (count = `iteraciones`) are black; the others follow a smooth gradient by
//! `ln(1 + count) / ln(1 + iteraciones)`, which spreads the many low counts near the edge of
//! the region over the whole gradient.

use rayon::prelude::*;

use super::Conteos;

/// Colour of the points that never escaped.
const NEGRO: [u8; 3] = [0, 0, 0];

/// The gradient: `(position in 0..=1, colour)`, positions increasing.
const GRADIENTE: [(f64, [u8; 3]); 6] = [
    (0.0, [0, 7, 100]),
    (0.16, [32, 107, 203]),
    (0.42, [237, 255, 255]),
    (0.6425, [255, 170, 0]),
    (0.8575, [120, 20, 0]),
    (1.0, [20, 0, 30]),
];

/// RGB8 PNG of `conteos`, with the fast compression setting.
///
/// # Panics
///
/// If `conteos.conteos` does not hold `width × height` counts, or either side is 0.
pub(crate) fn png(conteos: &Conteos, iteraciones: u32) -> Vec<u8> {
    let rgb = rgb(&conteos.conteos, iteraciones);
    let mut salida = Vec::new();
    let mut encoder = png::Encoder::new(&mut salida, conteos.width, conteos.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgb))
        .expect("a non-empty image with one count per pixel encodes into memory");
    salida
}

/// The RGB8 bytes of `conteos`, three per pixel.
fn rgb(conteos: &[u32], iteraciones: u32) -> Vec<u8> {
    let paleta = paleta(iteraciones);
    let mut rgb = vec![0; conteos.len() * 3];
    rgb.par_chunks_mut(3 * 4096)
        .zip(conteos.par_chunks(4096))
        .for_each(|(destino, origen)| {
            for (pixel, &c) in destino.chunks_exact_mut(3).zip(origen) {
                pixel.copy_from_slice(&paleta[c.min(iteraciones) as usize]);
            }
        });
    rgb
}

/// The colour of every count in `0 ..= iteraciones`.
fn paleta(iteraciones: u32) -> Vec<[u8; 3]> {
    let escala = f64::from(iteraciones).ln_1p();
    (0..=iteraciones)
        .map(|c| {
            if c == iteraciones {
                NEGRO
            } else {
                gradiente(f64::from(c).ln_1p() / escala)
            }
        })
        .collect()
}

/// The gradient's colour at `t` in `0..=1`, interpolated linearly between its stops.
fn gradiente(t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let tramo = GRADIENTE
        .windows(2)
        .find(|w| t <= w[1].0)
        .unwrap_or(&GRADIENTE[GRADIENTE.len() - 2..]);
    let ((t0, a), (t1, b)) = (tramo[0], tramo[1]);
    let f = (t - t0) / (t1 - t0);
    std::array::from_fn(|i| {
        (f64::from(a[i]) + f * (f64::from(b[i]) - f64::from(a[i]))).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_ends_black_and_never_uses_black_before() {
        let p = paleta(50);
        assert_eq!(p.len(), 51);
        assert_eq!(p[50], NEGRO);
        assert!(p[..50].iter().all(|&c| c != NEGRO), "{p:?}");
        assert_eq!(p[0], GRADIENTE[0].1);
    }

    #[test]
    fn gradient_hits_its_stops() {
        for (t, color) in GRADIENTE {
            assert_eq!(gradiente(t), color, "t = {t}");
        }
    }

    #[test]
    fn one_iteration_is_black_or_the_first_colour() {
        assert_eq!(paleta(1), vec![GRADIENTE[0].1, NEGRO]);
    }
}
