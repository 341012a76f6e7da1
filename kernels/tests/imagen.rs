//! The imagen kernel: its backends against each other (docs/kernels.md holds them to ±1 per
//! channel; they compute the same `f32` operations, so this finds them equal), against the
//! filters written out once more in `f64`, and as a job over an uploaded PNG.

mod emulacion;

use comun::Algoritmo;
use comun::api::Detalle;
use comun::imagenes::{FormaPng, Pixeles, decodificar_png};
use comun::trabajo::{Filtro, ParamsImagen};
use kernels::imagen::{filtrar_imagen, prueba};
use kernels::{Control, ErrorKernel};

use Filtro::{Desenfoque, Enfocar, Grises, Sobel};

/// Image shapes that catch a backend's edge cases: single pixels, rows and columns, sides below
/// and above `Paralelo`'s block of 64 pixels (`CARRIL`) and a blur's radius, ragged tails.
const FORMAS: [(u32, u32); 9] = [
    (1, 1),
    (1, 7),
    (7, 1),
    (3, 5),
    (33, 31),
    (34, 2),
    (64, 48),
    (100, 3),
    (257, 19),
];

/// Chains that exercise every filter, each after every other.
fn cadenas() -> Vec<Vec<Filtro>> {
    vec![
        vec![Desenfoque],
        vec![Sobel],
        vec![Enfocar],
        vec![Grises],
        vec![Desenfoque, Sobel],
        vec![Grises, Enfocar, Desenfoque, Sobel, Enfocar],
        vec![Sobel, Sobel, Desenfoque, Grises, Desenfoque],
    ]
}

/// The test image of `w × h`, with an alpha channel added when `alfa`.
fn imagen(w: u32, h: u32, alfa: bool) -> Pixeles {
    let rgb = prueba::generar(w, h);
    if !alfa {
        return rgb;
    }
    let datos = rgb
        .datos
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i * 37 % 256) as u8])
        .collect();
    Pixeles {
        forma: FormaPng {
            canales: 4,
            ..rgb.forma
        },
        datos,
    }
}

fn filtrar(img: &Pixeles, filtros: &[Filtro], sigma: f32, a: Algoritmo) -> Vec<u8> {
    filtrar_imagen(img, filtros, sigma, a, &Control::ninguno()).unwrap()
}

/// The largest difference between two images' samples, and where (sample index).
fn diferencia(a: &[u8], b: &[u8]) -> (u8, Option<usize>) {
    assert_eq!(a.len(), b.len());
    let mut peor = (0, None);
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let d = x.abs_diff(y);
        if d > peor.0 {
            peor = (d, Some(i));
        }
    }
    peor
}

#[test]
fn paralelo_agrees_with_secuencial_within_one_on_every_shape_and_chain() {
    for (w, h) in FORMAS {
        for alfa in [false, true] {
            let img = imagen(w, h, alfa);
            for filtros in cadenas() {
                for sigma in [0.3, 1.0, 2.5, 9.0] {
                    let s = filtrar(&img, &filtros, sigma, Algoritmo::Secuencial);
                    let p = filtrar(&img, &filtros, sigma, Algoritmo::Paralelo);
                    let (d, donde) = diferencia(&s, &p);
                    assert!(
                        d <= 1,
                        "{w}x{h} alfa {alfa} {filtros:?} σ {sigma}: {d} at {donde:?}"
                    );
                    // What the backends actually do: the same operations, the same bytes.
                    assert_eq!(d, 0, "{w}x{h} {filtros:?} σ {sigma}: at {donde:?}");
                }
            }
        }
    }
}

#[test]
fn a_large_image_agrees_across_many_bands() {
    let img = imagen(1500, 97, true);
    let filtros = [Desenfoque, Enfocar, Sobel, Grises];
    let s = filtrar(&img, &filtros, 4.0, Algoritmo::Secuencial);
    let p = filtrar(&img, &filtros, 4.0, Algoritmo::Paralelo);
    assert_eq!(diferencia(&s, &p), (0, None));
}

/// The four filters written out once more, independently of the crate, in `f64`: each channel
/// a `Vec<f64>`, neighbours past an edge taken from the edge.
mod a_mano {
    pub fn en(p: &[f64], w: usize, h: usize, x: isize, y: isize) -> f64 {
        let x = x.clamp(0, w as isize - 1) as usize;
        let y = y.clamp(0, h as isize - 1) as usize;
        p[y * w + x]
    }

    pub fn desenfoque(p: &[f64], w: usize, h: usize, sigma: f64) -> Vec<f64> {
        let r = (3.0 * sigma).ceil() as isize;
        let crudos: Vec<f64> = (-r..=r)
            .map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp())
            .collect();
        let suma: f64 = crudos.iter().sum();
        let g: Vec<f64> = crudos.iter().map(|c| c / suma).collect();
        let pasada = |p: &[f64], dx: isize, dy: isize| -> Vec<f64> {
            (0..h * w)
                .map(|i| {
                    let (x, y) = ((i % w) as isize, (i / w) as isize);
                    (-r..=r)
                        .map(|k| g[(k + r) as usize] * en(p, w, h, x + k * dx, y + k * dy))
                        .sum()
                })
                .collect()
        };
        pasada(&pasada(p, 1, 0), 0, 1)
    }

    pub fn vecindad(
        p: &[f64],
        w: usize,
        h: usize,
        f: impl Fn(&dyn Fn(isize, isize) -> f64) -> f64,
    ) -> Vec<f64> {
        (0..h * w)
            .map(|i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                f(&|dx, dy| en(p, w, h, x + dx, y + dy))
            })
            .collect()
    }

    pub fn sobel(p: &[f64], w: usize, h: usize) -> Vec<f64> {
        vecindad(p, w, h, |v| {
            let gx = v(1, -1) + 2.0 * v(1, 0) + v(1, 1) - v(-1, -1) - 2.0 * v(-1, 0) - v(-1, 1);
            let gy = v(-1, 1) + 2.0 * v(0, 1) + v(1, 1) - v(-1, -1) - 2.0 * v(0, -1) - v(1, -1);
            gx.hypot(gy).min(255.0)
        })
    }

    pub fn enfocar(p: &[f64], w: usize, h: usize) -> Vec<f64> {
        vecindad(p, w, h, |v| {
            (5.0 * v(0, 0) - v(0, -1) - v(-1, 0) - v(1, 0) - v(0, 1)).clamp(0.0, 255.0)
        })
    }
}

#[test]
fn secuencial_matches_the_definition_computed_in_f64_within_one() {
    let (w, h) = (45, 23);
    let img = imagen(w as u32, h as u32, false);
    let sigma = 1.5;
    for filtros in cadenas() {
        let mut canales: Vec<Vec<f64>> = (0..3)
            .map(|c| {
                img.datos
                    .iter()
                    .skip(c)
                    .step_by(3)
                    .map(|&v| f64::from(v))
                    .collect()
            })
            .collect();
        for &filtro in &filtros {
            match filtro {
                Grises => {
                    let y: Vec<f64> = (0..w * h)
                        .map(|i| {
                            0.299 * canales[0][i] + 0.587 * canales[1][i] + 0.114 * canales[2][i]
                        })
                        .collect();
                    canales = vec![y.clone(), y.clone(), y];
                }
                Desenfoque => {
                    canales = canales
                        .iter()
                        .map(|p| a_mano::desenfoque(p, w, h, sigma))
                        .collect()
                }
                Sobel => canales = canales.iter().map(|p| a_mano::sobel(p, w, h)).collect(),
                Enfocar => canales = canales.iter().map(|p| a_mano::enfocar(p, w, h)).collect(),
            }
        }
        let esperado: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                canales
                    .iter()
                    .map(move |p| (p[i].clamp(0.0, 255.0) + 0.5) as u8)
            })
            .collect();
        let s = filtrar(&img, &filtros, sigma as f32, Algoritmo::Secuencial);
        let (d, donde) = diferencia(&s, &esperado);
        // f32 against f64: a pixel near a half rounds either way. A chain of several
        // sharpening and edge filters multiplies the f32 error (by up to 9 and 11 a filter),
        // which still stays far below 1 over five filters of these values.
        assert!(d <= 1, "{filtros:?}: {d} at {donde:?}");
    }
}

#[test]
fn a_flat_image_stays_flat_and_has_no_edges() {
    let img = Pixeles {
        forma: FormaPng {
            width: 40,
            height: 9,
            canales: 3,
        },
        datos: vec![77; 40 * 9 * 3],
    };
    for a in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        assert!(
            filtrar(&img, &[Desenfoque, Enfocar], 3.0, a)
                .iter()
                .all(|&v| v == 77)
        );
        assert!(filtrar(&img, &[Sobel], 3.0, a).iter().all(|&v| v == 0));
    }
}

/// An RGBA PNG of `w × h`: the test image's colours, alpha from the pixel index.
fn png_rgba(w: u32, h: u32) -> Vec<u8> {
    let img = imagen(w, h, true);
    let mut salida = Vec::new();
    let mut e = png::Encoder::new(&mut salida, w, h);
    e.set_color(png::ColorType::Rgba);
    e.set_depth(png::BitDepth::Eight);
    e.write_header()
        .unwrap()
        .write_image_data(&img.datos)
        .unwrap();
    salida
}

fn params(entrada: Option<u64>, filtros: Vec<Filtro>) -> ParamsImagen {
    ParamsImagen::new(64, 48, filtros, 2.0, entrada).unwrap()
}

#[test]
fn a_job_over_an_uploaded_png_returns_a_png_of_its_size_with_alpha_kept() {
    let entrada = png_rgba(70, 30);
    let p = params(Some(9), vec![Grises, Desenfoque]);
    let s = kernels::imagen::ejecutar(&p, Some(&entrada), Algoritmo::Paralelo, &Control::ninguno())
        .unwrap();
    let salida = decodificar_png(s.imagen_png.as_ref().unwrap()).unwrap();
    assert_eq!(
        salida.forma,
        FormaPng {
            width: 70,
            height: 30,
            canales: 4
        }
    );
    let Detalle::Imagen {
        width,
        height,
        checksum,
        megapixeles_por_segundo,
    } = s.detalle
    else {
        panic!("{:?}", s.detalle);
    };
    assert_eq!(
        (width, height),
        (70, 30),
        "the upload's size, not the parameters'"
    );
    assert_eq!(
        checksum,
        salida.datos.iter().map(|&b| u64::from(b)).sum::<u64>()
    );
    assert!(megapixeles_por_segundo > 0.0);
    let original = decodificar_png(&entrada).unwrap();
    for (o, n) in original
        .datos
        .chunks_exact(4)
        .zip(salida.datos.chunks_exact(4))
    {
        assert_eq!(o[3], n[3], "alpha passes through");
        assert!(n[0] == n[1] && n[1] == n[2], "grey stays grey under a blur");
    }
}

#[test]
fn a_generated_job_is_the_test_image_filtered() {
    let p = params(None, vec![Sobel]);
    for a in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let s = kernels::imagen::ejecutar(&p, None, a, &Control::ninguno()).unwrap();
        let png = decodificar_png(&s.imagen_png.unwrap()).unwrap();
        assert_eq!(
            png.forma,
            FormaPng {
                width: 64,
                height: 48,
                canales: 3
            }
        );
        let esperado = filtrar(
            &prueba::generar(64, 48),
            &[Sobel],
            2.0,
            Algoritmo::Secuencial,
        );
        assert_eq!(png.datos, esperado);
        assert_eq!(s.duracion_con_copias, None);
    }
}

#[test]
fn a_broken_upload_or_a_missing_one_is_a_clear_error() {
    let png = png_rgba(20, 20);
    let control = Control::ninguno();
    for roto in [&png[..png.len() / 2], b"GIF89a", b""] {
        let e = kernels::imagen::ejecutar(
            &params(Some(1), vec![Sobel]),
            Some(roto),
            Algoritmo::Paralelo,
            &control,
        )
        .unwrap_err();
        assert!(
            matches!(&e, ErrorKernel::Parametros(c) if c.campo == "png"),
            "{e}"
        );
    }
    let e = kernels::imagen::ejecutar(
        &params(Some(4), vec![Sobel]),
        None,
        Algoritmo::Paralelo,
        &control,
    )
    .unwrap_err();
    assert!(e.to_string().contains("uploaded image 4"), "{e}");
    let e = kernels::imagen::ejecutar(
        &params(None, vec![Sobel]),
        Some(&png),
        Algoritmo::Paralelo,
        &control,
    )
    .unwrap_err();
    assert!(e.to_string().contains("names no uploaded image"), "{e}");
}

#[test]
fn a_cancelled_run_stops_with_the_reason() {
    let p = ParamsImagen::new(2048, 2048, vec![Desenfoque; 16], 20.0, None).unwrap();
    for a in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let control = Control::ninguno();
        control.cancelar("stop now");
        let e = kernels::imagen::ejecutar(&p, None, a, &control).unwrap_err();
        assert!(
            matches!(e, ErrorKernel::Cancelado { ref motivo } if motivo == "stop now"),
            "{e}"
        );
        let control = Control::con_plazo(std::time::Duration::from_millis(50));
        let inicio = std::time::Instant::now();
        let e = kernels::imagen::ejecutar(&p, None, a, &control).unwrap_err();
        assert!(matches!(e, ErrorKernel::PlazoExcedido { .. }), "{e}");
        assert!(
            inicio.elapsed() < std::time::Duration::from_secs(5),
            "{a}: {:?}",
            inicio.elapsed()
        );
    }
}

#[test]
fn the_plane_blur_of_the_benchmarks_equals_the_filter() {
    let (w, h) = (77, 41);
    let img = imagen(w, h, false);
    let mut plano: Vec<f32> = img.datos.iter().step_by(3).map(|&v| f32::from(v)).collect();
    let mut otro = plano.clone();
    let mut tmp = vec![0.0; plano.len()];
    kernels::imagen::desenfocar_plano(&mut plano, &mut tmp, (w, h), 2.0, Algoritmo::Paralelo)
        .unwrap();
    kernels::imagen::desenfocar_plano(&mut otro, &mut tmp, (w, h), 2.0, Algoritmo::Secuencial)
        .unwrap();
    assert!(plano == otro);
    let filtrada = filtrar(&img, &[Desenfoque], 2.0, Algoritmo::Secuencial);
    let rojo: Vec<u8> = plano
        .iter()
        .map(|&v| kernels::imagen::cuantizar(v))
        .collect();
    assert!(rojo.iter().eq(filtrada.iter().step_by(3)));
}

/// `kernels/cuda/imagen.cu` run on the CPU by `kernels/cuda/imagen_anfitrion.cpp` (one thread
/// covering each grid-stride loop, the launches queued as `imagen/cuda.rs` queues them, blur
/// passes in bands of 7 rows), where a C++ compiler is installed (`$CXX`, else `c++`);
/// otherwise it says so and passes. Its bytes must equal `Secuencial`'s.
#[test]
fn the_cuda_source_equals_secuencial_when_emulated_on_the_cpu() {
    let banderas = ["-std=c++17", "-O2", "-ffp-contract=off"];
    let Some(programa) = emulacion::compilar("imagen_anfitrion.cpp", &banderas) else {
        return;
    };
    let codigo = |f: &Filtro| match f {
        Desenfoque => 0u32,
        Sobel => 1,
        Enfocar => 2,
        Grises => 3,
    };
    for (w, h) in FORMAS {
        let img = imagen(w, h, w % 2 == 1);
        for filtros in cadenas() {
            for sigma in [0.3, 2.5, 9.0] {
                let pesos = kernels::imagen::pesos_gaussianos(sigma);
                let mut entrada = Vec::new();
                let cabecera = [w, h, u32::from(img.forma.canales), filtros.len() as u32];
                let codigos = filtros.iter().map(codigo);
                for v in cabecera.into_iter().chain(codigos) {
                    entrada.extend(v.to_le_bytes());
                }
                entrada.extend((pesos.len() as u32).to_le_bytes());
                entrada.extend(pesos.iter().flat_map(|p| p.to_le_bytes()));
                entrada.extend(&img.datos);
                let mut hijo = std::process::Command::new(&programa)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write as _;
                hijo.stdin.take().unwrap().write_all(&entrada).unwrap();
                let salida = hijo.wait_with_output().unwrap();
                assert!(salida.status.success(), "{w}x{h} {filtros:?}");
                let s = filtrar(&img, &filtros, sigma, Algoritmo::Secuencial);
                let (d, donde) = diferencia(&s, &salida.stdout);
                assert_eq!(d, 0, "{w}x{h} {filtros:?} σ {sigma}: {d} at {donde:?}");
            }
        }
    }
}

#[cfg(feature = "cuda")]
#[test]
fn cuda_equals_secuencial_or_says_why_not() {
    let img = imagen(33, 31, true);
    match kernels::gpu() {
        Err(motivo) => {
            let e = filtrar_imagen(&img, &[Sobel], 1.0, Algoritmo::Cuda, &Control::ninguno())
                .unwrap_err();
            assert!(
                matches!(&e, ErrorKernel::NoDisponible(m) if *m == motivo),
                "{e}"
            );
        }
        Ok(_) => {
            for (w, h) in FORMAS {
                let img = imagen(w, h, w % 2 == 0);
                for filtros in cadenas() {
                    for sigma in [0.3, 2.5, 9.0] {
                        let s = filtrar(&img, &filtros, sigma, Algoritmo::Secuencial);
                        let c = filtrar(&img, &filtros, sigma, Algoritmo::Cuda);
                        let (d, donde) = diferencia(&s, &c);
                        assert!(d <= 1, "{w}x{h} {filtros:?} σ {sigma}: {d} at {donde:?}");
                    }
                }
            }
        }
    }
}
