//! The generated test image of an `imagen` job without an upload: 8-bit RGB, the same bytes on
//! every machine for the same size, with the features the filters act on: smooth gradients
//! (red across, green down), sharp straight edges (a blue checkerboard of 64-pixel squares) and
//! a curved one (a disc in the middle whose colours are inverted).

use comun::imagenes::{FormaPng, Pixeles};
use rayon::prelude::*;

/// Side of the checkerboard's squares, in pixels.
const CASILLA: u32 = 64;

/// The test image of `width × height` pixels.
pub fn generar(width: u32, height: u32) -> Pixeles {
    let forma = FormaPng {
        width,
        height,
        canales: 3,
    };
    let mut datos = vec![0; forma.pixeles() as usize * 3];
    datos
        .par_chunks_mut(3 * width as usize)
        .enumerate()
        .for_each(|(y, fila)| {
            for (x, pixel) in fila.chunks_exact_mut(3).enumerate() {
                pixel.copy_from_slice(&color(x as u32, y as u32, width, height));
            }
        });
    Pixeles { forma, datos }
}

/// The colour of pixel `(x, y)` of a `width × height` test image, in integers only.
pub fn color(x: u32, y: u32, width: u32, height: u32) -> [u8; 3] {
    let rampa = |i: u32, n: u32| (255 * u64::from(i) / u64::from(n.max(2) - 1)) as u8;
    let casilla = (x / CASILLA + y / CASILLA).is_multiple_of(2);
    let rgb = [
        rampa(x, width),
        rampa(y, height),
        if casilla { 224 } else { 32 },
    ];
    // In half-pixel units from the centre, so odd and even sides are symmetric.
    let dx = 2 * i64::from(x) + 1 - i64::from(width);
    let dy = 2 * i64::from(y) + 1 - i64::from(height);
    let radio = i64::from(width.min(height)) / 2;
    if dx * dx + dy * dy < radio * radio {
        rgb.map(|v| 255 - v)
    } else {
        rgb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_checkerboard_and_disc_where_promised() {
        let (w, h) = (512, 256);
        let img = generar(w, h);
        assert_eq!(img.datos.len(), 512 * 256 * 3);
        let en = |x: u32, y: u32| {
            let i = 3 * (y * w + x) as usize;
            [img.datos[i], img.datos[i + 1], img.datos[i + 2]]
        };
        assert_eq!(en(0, 0), [0, 0, 224]);
        assert_eq!(en(511, 0), [255, 0, 32]);
        assert_eq!(en(64, 0)[2], 32, "the next square");
        assert_eq!(
            en(0, 255),
            [0, 255, 32],
            "row 255 is in the fourth square down"
        );
        // The centre is inside the disc: every channel inverted.
        let (x, y) = (256, 128);
        let fuera = [
            (255 * x / 511) as u8,
            (255 * y / 255) as u8,
            if (x / 64 + y / 64) % 2 == 0 { 224 } else { 32 },
        ];
        assert_eq!(en(x, y), fuera.map(|v| 255 - v));
    }

    #[test]
    fn one_pixel_and_one_row_images_are_made() {
        assert_eq!(generar(1, 1).datos, [0, 0, 224]);
        assert_eq!(generar(5, 1).datos.len(), 15);
    }
}
