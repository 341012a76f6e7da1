//! [`Planos`]: an image as the CPU backends filter it, one `f32` plane per colour channel and
//! its alpha bytes aside; the moves between that and interleaved bytes, one row at a time; and
//! the output PNG.

use comun::imagenes::FormaPng;

use super::cuantizar;

/// An image's colour channels as row-major `f32` planes, and its alpha channel untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct Planos {
    /// Its size and how many channels its bytes have (3 or 4).
    pub forma: FormaPng,
    /// R, G and B, `width × height` samples each.
    pub color: [Vec<f32>; 3],
    /// The alpha bytes of an RGBA image, `width × height`.
    pub alfa: Option<Vec<u8>>,
}

impl Planos {
    /// Room for an image of `forma`: zeroed planes, and alpha when it has four channels.
    pub(crate) fn vacios(forma: FormaPng) -> Self {
        let n = forma.pixeles() as usize;
        Self {
            forma,
            color: std::array::from_fn(|_| vec![0.0; n]),
            alfa: (forma.canales == 4).then(|| vec![0; n]),
        }
    }
}

/// Splits rows of interleaved bytes (`canales` per pixel) into the same pixels of the planes
/// and the alpha row.
pub(crate) fn separar_fila(
    bytes: &[u8],
    canales: usize,
    [r, g, b]: [&mut [f32]; 3],
    alfa: Option<&mut [u8]>,
) {
    for (i, pixel) in bytes.chunks_exact(canales).enumerate() {
        r[i] = f32::from(pixel[0]);
        g[i] = f32::from(pixel[1]);
        b[i] = f32::from(pixel[2]);
    }
    if let Some(alfa) = alfa {
        for (a, pixel) in alfa.iter_mut().zip(bytes.chunks_exact(canales)) {
            *a = pixel[3];
        }
    }
}

/// Rounds the same pixels of the planes into interleaved bytes, alpha copied back.
pub(crate) fn juntar_fila(
    [r, g, b]: [&[f32]; 3],
    alfa: Option<&[u8]>,
    canales: usize,
    bytes: &mut [u8],
) {
    for (i, pixel) in bytes.chunks_exact_mut(canales).enumerate() {
        pixel[0] = cuantizar(r[i]);
        pixel[1] = cuantizar(g[i]);
        pixel[2] = cuantizar(b[i]);
        if let Some(alfa) = alfa {
            pixel[3] = alfa[i];
        }
    }
}

/// The bytes of an image of `forma` as an 8-bit RGB or RGBA PNG, with the fast compression
/// setting.
///
/// # Panics
///
/// If `bytes` does not hold `width × height × canales` samples.
pub(crate) fn png(bytes: &[u8], forma: FormaPng) -> Vec<u8> {
    let mut salida = Vec::new();
    let mut encoder = png::Encoder::new(&mut salida, forma.width, forma.height);
    encoder.set_color(if forma.canales == 4 {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    });
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(bytes))
        .expect("an image with one sample per pixel and channel encodes into memory");
    salida
}
