//! The README's "Jobs and limits" table says what `comun` enforces: a row for every tipo, with
//! its original name, each limit and each default of the catalogue's kernels as the code has
//! them. Change a limit or a default and this fails until the table says the same.

use comun::Tipo;
use comun::trabajo::{
    MAX_CAPAS, MAX_CLASES, MAX_DATOS, MAX_DIMENSIONES, MAX_EPOCAS, MAX_FILTROS, MAX_FLOTANTES_LOTE,
    MAX_ITERACIONES, MAX_ITERACIONES_KMEANS, MAX_K, MAX_LADO, MAX_MUESTRAS_KMEANS,
    MAX_MUESTRAS_RED, MAX_N_AUTOVALORES, MAX_N_MATMUL, MAX_NEURONAS, MAX_PARTICULAS, MAX_PASOS,
    MAX_PIXELES, MAX_PUNTOS_FFT, MAX_SIGMA, MAX_TASA, ParamsAutovalores, ParamsFft, ParamsImagen,
    ParamsKmeans, ParamsRedNeuronal,
};

/// `1234567` as the README writes it: `1,234,567`.
fn miles(n: u64) -> String {
    let digitos = n.to_string();
    let mut s = String::new();
    for (i, c) in digitos.chars().enumerate() {
        if i > 0 && (digitos.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

/// The row of `tipo` in the README's "Jobs and limits" section.
fn fila(tipo: Tipo) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("reading README.md");
    let seccion = readme
        .split("## Jobs and limits")
        .nth(1)
        .expect("README.md has a \"Jobs and limits\" section");
    let seccion = seccion.split("\n## ").next().unwrap();
    let inicio = format!("| `{}` ", tipo.nombre());
    seccion
        .lines()
        .find(|l| l.starts_with(&inicio))
        .unwrap_or_else(|| panic!("no row for {tipo} in README's Jobs and limits"))
        .to_owned()
}

fn dice(tipo: Tipo, textos: &[String]) {
    let f = fila(tipo);
    for t in textos {
        assert!(
            f.contains(t.as_str()),
            "README's {tipo} row lacks {t:?}: {f}"
        );
    }
}

#[test]
fn every_tipo_has_a_row_with_its_original_name() {
    for tipo in Tipo::TODOS {
        let f = fila(tipo);
        if let Some(alias) = tipo.alias() {
            assert!(f.contains(&format!("(`{alias}`)")), "{tipo}: {f}");
        }
    }
}

#[test]
fn the_limits_are_the_enforced_ones() {
    let m = |n: u64| miles(n);
    dice(
        Tipo::Julia,
        &[
            m(MAX_LADO.into()),
            m(MAX_PIXELES),
            m(MAX_ITERACIONES.into()),
        ],
    );
    dice(Tipo::Matmul, &[m(MAX_N_MATMUL.into())]);
    dice(
        Tipo::Nbody,
        &[m(MAX_PARTICULAS.into()), m(MAX_PASOS.into())],
    );
    dice(Tipo::Fft, &[m(MAX_PUNTOS_FFT)]);
    dice(Tipo::Autovalores, &[m(MAX_N_AUTOVALORES.into())]);
    dice(
        Tipo::Kmeans,
        &[
            m(MAX_MUESTRAS_KMEANS.into()),
            m(MAX_DIMENSIONES.into()),
            m(MAX_DATOS),
            m(MAX_K.into()),
            m(MAX_ITERACIONES_KMEANS.into()),
        ],
    );
    dice(
        Tipo::RedNeuronal,
        &[
            format!("0–{MAX_CAPAS} layers of 1–{}", m(MAX_NEURONAS.into())),
            m(MAX_EPOCAS.into()),
            m(MAX_MUESTRAS_RED.into()),
            m(MAX_FLOTANTES_LOTE),
            format!("(0, {MAX_TASA}]"),
            m(MAX_DIMENSIONES.into()),
            m(MAX_DATOS),
            format!("2–{MAX_CLASES}"),
        ],
    );
    dice(
        Tipo::Imagen,
        &[
            format!("filtros 1–{MAX_FILTROS}"),
            format!("(0, {MAX_SIGMA}]"),
        ],
    );
}

#[test]
fn the_defaults_are_the_code_ones() {
    let fft = ParamsFft::default();
    let av = ParamsAutovalores::default();
    let km = ParamsKmeans::default();
    let red = ParamsRedNeuronal::default();
    let im = ParamsImagen::default();
    let d = |n: u64| format!("[{}]", miles(n));
    dice(
        Tipo::Fft,
        &[d(fft.n.into()), d(fft.m.into()), d(fft.semilla)],
    );
    dice(Tipo::Autovalores, &[d(av.n.into()), d(av.semilla)]);
    dice(
        Tipo::Kmeans,
        &[
            d(km.muestras.into()),
            d(km.dimensiones.into()),
            d(km.k.into()),
            d(km.iteraciones.into()),
            d(km.semilla),
        ],
    );
    dice(
        Tipo::RedNeuronal,
        &[
            format!("[{}]", comun::trabajo::parametros::lista(&red.capas)),
            d(red.epocas.into()),
            d(red.lote.into()),
            format!("[{}]", red.tasa),
            format!("[{}]", red.optimizador),
            format!("[{}]", red.conjunto),
            d(red.muestras.into()),
            d(red.dimensiones.into()),
            d(red.clases.into()),
            d(red.semilla),
        ],
    );
    dice(
        Tipo::Imagen,
        &[
            format!("[{}×{}]", im.width, im.height),
            format!("[{}]", comun::trabajo::parametros::lista(&im.filtros)),
            format!("[{}]", im.sigma),
        ],
    );
}

#[test]
fn thousands_are_written_with_commas() {
    assert_eq!(miles(7), "7");
    assert_eq!(miles(1000), "1,000");
    assert_eq!(miles(67_108_864), "67,108,864");
}
