//! `Conteos::png`: a decodable RGB8 image of the right size, black where nothing escaped.

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;
use kernels::Conteos;

/// Decodes a PNG into (width, height, RGB8 bytes).
fn decodificar(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut datos = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut datos).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    datos.truncate(info.buffer_size());
    (info.width, info.height, datos)
}

fn pixel(rgb: &[u8], width: u32, k: u32, j: u32) -> [u8; 3] {
    let i = 3 * (j * width + k) as usize;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}

#[test]
fn never_escaped_is_black_and_escaped_is_not() {
    let c = Conteos {
        width: 3,
        height: 2,
        conteos: vec![0, 1, 50, 99, 100, 100],
    };
    let (width, height, rgb) = decodificar(&c.png(100));
    assert_eq!((width, height), (3, 2));
    assert_eq!(rgb.len(), 3 * 3 * 2);
    assert_eq!(pixel(&rgb, 3, 1, 1), [0, 0, 0]);
    assert_eq!(pixel(&rgb, 3, 2, 1), [0, 0, 0]);
    for k in 0..3 {
        assert_ne!(pixel(&rgb, 3, k, 0), [0, 0, 0], "pixel ({k}, 0)");
    }
    assert_ne!(pixel(&rgb, 3, 0, 1), [0, 0, 0]);
}

#[test]
fn a_julia_image_decodes_to_its_size_with_a_black_centre() {
    let p = ParamsJulia::new(65, 49, 100).unwrap();
    let c = kernels::julia(&p, Algoritmo::Paralelo).unwrap();
    let (width, height, rgb) = decodificar(&c.png(p.iteraciones));
    assert_eq!((width, height), (65, 49));
    assert_eq!(rgb.len(), 3 * 65 * 49);
    // Pixel (32, 24) is near z₀ = 0, which never escapes.
    assert_eq!(c.conteos[24 * 65 + 32], 100);
    assert_eq!(pixel(&rgb, 65, 32, 24), [0, 0, 0]);
    // Pixel (0, 0) escapes at once.
    assert_ne!(pixel(&rgb, 65, 0, 0), [0, 0, 0]);
}

#[test]
fn a_one_pixel_image_encodes() {
    let c = Conteos {
        width: 1,
        height: 1,
        conteos: vec![1],
    };
    assert_eq!(decodificar(&c.png(1)).2, vec![0, 0, 0]);
}
