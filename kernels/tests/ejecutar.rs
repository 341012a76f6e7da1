//! `ejecutar`: the wire result of each kind of job.

use std::time::Instant;

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::{Parametros, ParamsEspera, ParamsJulia};
use kernels::{ErrorKernel, ejecutar};

#[test]
fn julia_reports_its_checksum_pixels_rate_and_image() {
    let p = Parametros::Julia(ParamsJulia::new(64, 48, 100).unwrap());
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let e = ejecutar(&p, algoritmo).unwrap();
        let Detalle::Julia {
            suma_conteos,
            pixeles,
            iteraciones_por_segundo,
        } = e.resultado.detalle
        else {
            panic!("expected Detalle::Julia, got {:?}", e.resultado.detalle);
        };
        assert_eq!(suma_conteos, 39_790, "{algoritmo}");
        assert_eq!(pixeles, 64 * 48);
        assert!(e.resultado.duracion_s > 0.0);
        let esperado = suma_conteos as f64 / e.resultado.duracion_s;
        assert!((iteraciones_por_segundo - esperado).abs() <= esperado * 1e-9);
        assert!(e.resultado.imagen);
        let png = e.imagen_png.expect("a Julia job draws an image");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(e.resultado.dispositivo, kernels::dispositivo(algoritmo));
    }
}

#[test]
fn espera_0_returns_at_once_without_an_image() {
    let p = Parametros::Espera(ParamsEspera::new(0).unwrap());
    let inicio = Instant::now();
    let e = ejecutar(&p, Algoritmo::Secuencial).unwrap();
    assert!(inicio.elapsed().as_millis() < 20, "{:?}", inicio.elapsed());
    assert_eq!(e.resultado.detalle, Detalle::Espera { ms: 0 });
    assert!(!e.resultado.imagen);
    assert_eq!(e.imagen_png, None);
}

#[test]
fn espera_30_sleeps_at_least_30_ms() {
    let p = Parametros::Espera(ParamsEspera::new(30).unwrap());
    let inicio = Instant::now();
    let e = ejecutar(&p, Algoritmo::Paralelo).unwrap();
    assert!(inicio.elapsed().as_millis() >= 30, "{:?}", inicio.elapsed());
    assert!(
        e.resultado.duracion_s >= 0.030,
        "{}",
        e.resultado.duracion_s
    );
    assert_eq!(e.resultado.detalle, Detalle::Espera { ms: 30 });
    assert!(!e.resultado.imagen);
    assert_eq!(e.imagen_png, None);
}

#[test]
#[cfg(not(feature = "cuda"))]
fn julia_on_cuda_is_not_available() {
    let p = Parametros::Julia(ParamsJulia::new(8, 8, 10).unwrap());
    assert!(matches!(
        ejecutar(&p, Algoritmo::Cuda),
        Err(ErrorKernel::NoDisponible(_))
    ));
}

#[test]
fn parameters_are_validated_again() {
    let julia = Parametros::Julia(ParamsJulia {
        width: 8,
        height: 8,
        iteraciones: 0,
    });
    match ejecutar(&julia, Algoritmo::Paralelo) {
        Err(ErrorKernel::Parametros(e)) => assert_eq!(e.campo, "iteraciones"),
        otro => panic!("expected Parametros, got {otro:?}"),
    }
    let espera = Parametros::Espera(ParamsEspera {
        ms: comun::trabajo::MAX_ESPERA_MS + 1,
    });
    let inicio = Instant::now();
    match ejecutar(&espera, Algoritmo::Secuencial) {
        Err(ErrorKernel::Parametros(e)) => assert_eq!(e.campo, "ms"),
        otro => panic!("expected Parametros, got {otro:?}"),
    }
    assert!(inicio.elapsed().as_secs() < 1, "rejected without sleeping");
}
