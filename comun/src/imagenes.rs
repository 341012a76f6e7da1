//! The PNGs users upload for `imagen` jobs (`POST /imagenes`): their limits, the one check
//! every way in applies ([`validar_png`]: the maestro before it stores one, `cliente` before it
//! sends one), the decoding the kernel runs on them ([`decodificar_png`]), and the answer body
//! ([`ImagenSubida`]).
//!
//! Accepted: any valid PNG (every colour type and bit depth, interlaced or not; palettes,
//! transparency and 16-bit samples are reduced to 8-bit RGB or RGBA), at most
//! [`MAX_BYTES_PNG`] bytes, with sides and pixels within a Julia image's limits
//! ([`MAX_LADO`], [`MAX_PIXELES`]). Refused, with an [`ErrorCampo`] on the field `png` that says
//! what is wrong: anything else (a JPEG, text), a header whose size breaks the limits (read
//! before anything is allocated for the pixels), a file cut short, a wrong chunk CRC or zlib
//! checksum, data that does not inflate. The checks read the whole file, image data and
//! trailing chunks up to `IEND`, so what passes decodes.

use std::io::Cursor;

use png::{BitDepth, ColorType, DecodingError, Transformations};
use serde::{Deserialize, Serialize};

use crate::ErrorCampo;
use crate::trabajo::{MAX_LADO, MAX_PIXELES};

/// Largest PNG accepted, in bytes: 128 MiB. Room for an 8192 × 8192 RGB photograph, which
/// seldom compresses below 60 % of its 192 MiB of pixels.
pub const MAX_BYTES_PNG: usize = 128 << 20;

/// What a PNG's first eight bytes must be.
const FIRMA: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Memory the decoder may take besides the pixels (metadata, one row): 64 MiB.
const MEMORIA_DECODIFICADOR: usize = 64 << 20;

/// The field every refusal names.
const CAMPO: &str = "png";

/// Answer to `POST /imagenes`: the stored PNG's id, for `{"tipo": "imagen", "entrada": id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImagenSubida {
    /// The id jobs name as `entrada`.
    pub id: u64,
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Samples per pixel once decoded: 3 (RGB) or 4 (RGBA).
    pub canales: u8,
    /// Size of the PNG file.
    pub bytes: u64,
}

/// A PNG's size and layout, as [`validar_png`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormaPng {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Samples per pixel once decoded: 3 (RGB: grey and palettes without transparency too)
    /// or 4 (RGBA: any transparency).
    pub canales: u8,
}

impl FormaPng {
    /// `width × height`.
    pub fn pixeles(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// A decoded PNG: 8-bit samples, row-major, `canales` interleaved per pixel (R, G, B[, A]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixeles {
    /// Its size and layout.
    pub forma: FormaPng,
    /// `width × height × canales` bytes.
    pub datos: Vec<u8>,
}

/// Checks that `bytes` is a PNG the cluster accepts (module docs), reading all of it with one
/// row of pixels in memory at a time, and returns its size.
pub fn validar_png(bytes: &[u8]) -> Result<FormaPng, ErrorCampo> {
    let (mut lector, forma) = abrir(bytes)?;
    while lector.next_row().map_err(rechazo)?.is_some() {}
    lector.finish().map_err(rechazo)?;
    Ok(forma)
}

/// Decodes a PNG the cluster accepts into 8-bit RGB or RGBA pixels; refuses the others as
/// [`validar_png`] does.
pub fn decodificar_png(bytes: &[u8]) -> Result<Pixeles, ErrorCampo> {
    let (mut lector, forma) = abrir(bytes)?;
    let tamano = lector
        .output_buffer_size()
        .ok_or_else(|| ErrorCampo::new(CAMPO, "too large to decode on this machine"))?;
    let mut crudo = vec![0; tamano];
    let info = lector.next_frame(&mut crudo).map_err(rechazo)?;
    lector.finish().map_err(rechazo)?;
    crudo.truncate(info.buffer_size());
    let datos = match info.color_type {
        ColorType::Rgb | ColorType::Rgba => crudo,
        ColorType::Grayscale => crudo.iter().flat_map(|&v| [v, v, v]).collect(),
        ColorType::GrayscaleAlpha => crudo
            .chunks_exact(2)
            .flat_map(|va| [va[0], va[0], va[0], va[1]])
            .collect(),
        ColorType::Indexed => unreachable!("EXPAND turns a palette into RGB or RGBA"),
    };
    Ok(Pixeles { forma, datos })
}

/// A PNG decoder reading from memory.
type Lector<'a> = png::Reader<Cursor<&'a [u8]>>;

/// The reader of `bytes` positioned at the image data, after the checks that need no decoding:
/// size, signature, the header's sides and pixels; and the decoded layout.
fn abrir(bytes: &[u8]) -> Result<(Lector<'_>, FormaPng), ErrorCampo> {
    if bytes.len() > MAX_BYTES_PNG {
        return Err(ErrorCampo::new(
            CAMPO,
            format!(
                "{} bytes exceeds the limit of {MAX_BYTES_PNG} bytes (128 MiB)",
                bytes.len()
            ),
        )
        .con_limite(MAX_BYTES_PNG as u64));
    }
    if !bytes.starts_with(&FIRMA) {
        return Err(ErrorCampo::new(CAMPO, no_es_png(bytes)));
    }
    let mut opciones = png::DecodeOptions::default();
    opciones.set_ignore_checksums(false);
    opciones.set_skip_ancillary_crc_failures(false);
    let mut decodificador = png::Decoder::new_with_options(Cursor::new(bytes), opciones);
    decodificador.set_limits(png::Limits {
        bytes: MEMORIA_DECODIFICADOR,
    });
    decodificador.set_transformations(Transformations::normalize_to_color8());
    let cabecera = decodificador.read_header_info().map_err(rechazo)?;
    let (width, height) = (cabecera.width, cabecera.height);
    comprobar_lados(width, height)?;
    let lector = decodificador.read_info().map_err(rechazo)?;
    let canales = match lector.output_color_type() {
        (ColorType::Rgba | ColorType::GrayscaleAlpha, BitDepth::Eight) => 4,
        (_, BitDepth::Eight) => 3,
        (color, bits) => {
            return Err(ErrorCampo::new(
                CAMPO,
                format!("{color:?} at {bits:?} bits does not reduce to 8-bit samples"),
            ));
        }
    };
    Ok((
        lector,
        FormaPng {
            width,
            height,
            canales,
        },
    ))
}

/// The header's sides against a Julia image's limits (the PNG format itself forbids 0).
fn comprobar_lados(width: u32, height: u32) -> Result<(), ErrorCampo> {
    let lado = width.max(height);
    if lado > MAX_LADO {
        return Err(ErrorCampo::new(
            CAMPO,
            format!(
                "{width} × {height} pixels: a side of {lado} exceeds the limit of {MAX_LADO} pixels"
            ),
        )
        .con_limite(MAX_LADO.into()));
    }
    let pixeles = u64::from(width) * u64::from(height);
    if pixeles > MAX_PIXELES {
        return Err(ErrorCampo::new(
            CAMPO,
            format!(
                "{width} × {height} = {pixeles} pixels exceeds the limit of {MAX_PIXELES} pixels"
            ),
        )
        .con_limite(MAX_PIXELES));
    }
    Ok(())
}

/// Why `bytes`, which lack the PNG signature, are not a PNG: what they look like, when that is
/// plain.
fn no_es_png(bytes: &[u8]) -> String {
    let parece = if bytes.is_empty() {
        return "empty: no PNG was sent".into();
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        " (it is a JPEG)"
    } else if bytes.starts_with(b"GIF8") {
        " (it is a GIF)"
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        " (it is a WebP)"
    } else if bytes.starts_with(b"BM") {
        " (it looks like a BMP)"
    } else if FIRMA.starts_with(bytes) {
        " (it is the start of a PNG signature, cut short)"
    } else {
        ""
    };
    format!(
        "not a PNG{parece}: a PNG starts with the bytes 89 50 4E 47 0D 0A 1A 0A; only PNG is accepted"
    )
}

/// A decoder's refusal in words: cut short, corrupt, or too demanding.
fn rechazo(e: DecodingError) -> ErrorCampo {
    let mensaje = match e {
        DecodingError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated: the file ends before its image does".to_owned()
        }
        DecodingError::IoError(e) => format!("unreadable: {e}"),
        DecodingError::Format(e) => format!("corrupt: {e}"),
        DecodingError::LimitsExceeded => format!(
            "its metadata or rows need more than {} MiB to decode",
            MEMORIA_DECODIFICADOR >> 20
        ),
        DecodingError::Parameter(e) => format!("cannot be decoded: {e}"),
    };
    ErrorCampo::new(CAMPO, mensaje)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `width × height` pixels in `color` (8-bit), its samples from `muestra(i)`.
    fn png_de(width: u32, height: u32, color: ColorType, muestra: impl Fn(usize) -> u8) -> Vec<u8> {
        let canales = color.samples();
        let datos: Vec<u8> = (0..width as usize * height as usize * canales)
            .map(muestra)
            .collect();
        let mut salida = Vec::new();
        let mut e = png::Encoder::new(&mut salida, width, height);
        e.set_color(color);
        e.set_depth(BitDepth::Eight);
        e.write_header().unwrap().write_image_data(&datos).unwrap();
        salida
    }

    fn error(bytes: &[u8]) -> String {
        let e = validar_png(bytes).unwrap_err();
        assert_eq!(e.campo, "png");
        assert_eq!(
            decodificar_png(bytes).unwrap_err(),
            e,
            "both ways in refuse alike"
        );
        e.mensaje
    }

    #[test]
    fn rgb_rgba_and_grey_decode_to_eight_bit_rgb_or_rgba() {
        let rgb = png_de(3, 2, ColorType::Rgb, |i| i as u8);
        assert_eq!(
            validar_png(&rgb).unwrap(),
            FormaPng {
                width: 3,
                height: 2,
                canales: 3
            }
        );
        assert_eq!(
            decodificar_png(&rgb).unwrap().datos,
            (0..18).collect::<Vec<u8>>()
        );
        let rgba = decodificar_png(&png_de(2, 2, ColorType::Rgba, |i| i as u8)).unwrap();
        assert_eq!(rgba.forma.canales, 4);
        assert_eq!(rgba.datos, (0..16).collect::<Vec<u8>>());
        let gris = decodificar_png(&png_de(2, 1, ColorType::Grayscale, |i| 10 + i as u8)).unwrap();
        assert_eq!(gris.datos, [10, 10, 10, 11, 11, 11]);
        let ga =
            decodificar_png(&png_de(1, 1, ColorType::GrayscaleAlpha, |i| 7 + i as u8)).unwrap();
        assert_eq!((ga.forma.canales, ga.datos), (4, vec![7, 7, 7, 8]));
    }

    #[test]
    fn what_is_not_a_png_is_named() {
        assert!(error(b"").starts_with("empty"));
        assert!(error(&[0xff, 0xd8, 0xff, 0xe0, 0, 16]).contains("JPEG"));
        assert!(error(b"GIF89a....").contains("GIF"));
        assert!(error(&FIRMA[..5]).contains("cut short"));
        let texto = error(b"width,height\n1,2\n");
        assert!(
            texto.starts_with("not a PNG: a PNG starts with the bytes 89 50 4E 47"),
            "{texto}"
        );
    }

    #[test]
    fn a_file_cut_anywhere_is_refused_as_truncated_or_corrupt() {
        let png = png_de(40, 30, ColorType::Rgb, |i| (i * 7 % 251) as u8);
        for corte in [
            8,
            12,
            20,
            33,
            40,
            png.len() / 2,
            png.len() - 13,
            png.len() - 1,
        ] {
            let mensaje = error(&png[..corte]);
            assert!(
                mensaje.starts_with("truncated") || mensaje.starts_with("corrupt"),
                "cut at {corte}: {mensaje}"
            );
        }
    }

    #[test]
    fn a_flipped_byte_in_the_image_data_is_caught() {
        let png = png_de(40, 30, ColorType::Rgb, |i| (i * 7 % 251) as u8);
        // The IDAT chunk's data starts after the signature (8), IHDR (25) and IDAT's own
        // length and type (8); flip a byte in its middle.
        let mut roto = png.clone();
        roto[8 + 25 + 8 + 20] ^= 0x40;
        assert!(error(&roto).starts_with("corrupt"));
    }

    #[test]
    fn a_huge_header_is_refused_before_any_pixel_is_allocated() {
        for (width, height, limite) in [
            (100_000, 1, u64::from(MAX_LADO)),
            (1, 20_000, u64::from(MAX_LADO)),
            (16_384, 16_384, MAX_PIXELES),
            (u32::MAX >> 1, u32::MAX >> 1, u64::from(MAX_LADO)),
        ] {
            let png = con_cabecera(width, height);
            let e = validar_png(&png).unwrap_err();
            assert_eq!(e.limite, Some(limite), "{width} × {height}: {e}");
            assert!(e.mensaje.contains(&format!("{width} × {height}")), "{e}");
        }
    }

    /// A 1 × 1 PNG whose header then claims `width × height` (CRC fixed, so only the size is
    /// wrong).
    fn con_cabecera(width: u32, height: u32) -> Vec<u8> {
        let mut png = png_de(1, 1, ColorType::Rgb, |_| 0);
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    /// CRC-32 (ISO 3309), as PNG chunks carry it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn too_many_bytes_are_refused_with_the_limit() {
        let mut grande = FIRMA.to_vec();
        grande.resize(MAX_BYTES_PNG + 1, 0);
        let e = validar_png(&grande).unwrap_err();
        assert_eq!(e.limite, Some(MAX_BYTES_PNG as u64));
    }

    #[test]
    fn garbage_after_a_valid_signature_never_panics() {
        let mut estado = 0x1234_5678_9abc_def0u64;
        for largo in [9, 16, 33, 64, 200, 4096] {
            for _ in 0..50 {
                let mut bytes = FIRMA.to_vec();
                bytes.extend((8..largo).map(|_| {
                    estado ^= estado << 13;
                    estado ^= estado >> 7;
                    estado ^= estado << 17;
                    estado as u8
                }));
                assert!(validar_png(&bytes).is_err());
            }
        }
    }
}
