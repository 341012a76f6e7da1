//! Valid parameters of every kernel ([`parametros`]), small enough to run in a test, and of
//! each of the catalogue's kernels on its own ([`fft`], [`autovalores`], [`kmeans`],
//! [`red_neuronal`], [`imagen`]), with the degenerate sizes among them (1, primes, k = 1,
//! k = muestras, no hidden layer).

use comun::Parametros;
use comun::trabajo::{
    Conjunto, Filtro, Optimizador, ParamsAutovalores, ParamsEspera, ParamsFft, ParamsImagen,
    ParamsJulia, ParamsKmeans, ParamsMatmul, ParamsMontecarlo, ParamsRedNeuronal,
};
use proptest::prelude::*;

/// Valid parameters of any kernel.
pub fn parametros() -> impl Strategy<Value = Parametros> + Clone {
    prop_oneof![
        (1u32..64, 1u32..64, 1u32..100)
            .prop_map(|(w, h, i)| Parametros::Julia(ParamsJulia::new(w, h, i).unwrap())),
        (0u64..50).prop_map(|ms| Parametros::Espera(ParamsEspera::new(ms).unwrap())),
        (1u32..16).prop_map(|n| Parametros::Matmul(ParamsMatmul::new(n, 1).unwrap())),
        (1u64..1000, any::<u64>())
            .prop_map(|(m, s)| Parametros::Montecarlo(ParamsMontecarlo::new(m, s).unwrap())),
        fft().prop_map(Parametros::Fft),
        autovalores().prop_map(Parametros::Autovalores),
        kmeans().prop_map(|k| Parametros::Kmeans(Box::new(k))),
        red_neuronal().prop_map(|r| Parametros::RedNeuronal(Box::new(r))),
        imagen().prop_map(|i| Parametros::Imagen(Box::new(i))),
    ]
}

/// `fft` signals of up to 64 × 8 points, 1-D and 2-D, any lengths.
pub fn fft() -> impl Strategy<Value = ParamsFft> + Clone {
    (1u32..64, prop_oneof![Just(1u32), 1u32..8], any::<u64>())
        .prop_map(|(n, m, s)| ParamsFft::new(n, m, s).unwrap())
}

/// `autovalores` matrices of side 1 to 31.
pub fn autovalores() -> impl Strategy<Value = ParamsAutovalores> + Clone {
    (1u32..32, any::<u64>()).prop_map(|(n, s)| ParamsAutovalores::new(n, s).unwrap())
}

/// `kmeans` of up to 199 points in 1 to 7 dimensions, k from 1 to every point.
pub fn kmeans() -> impl Strategy<Value = ParamsKmeans> + Clone {
    (1u32..200, 1u32..8, any::<u32>(), 1u32..5, any::<u64>()).prop_map(
        |(muestras, dimensiones, k, iteraciones, s)| {
            let k = 1 + k % muestras;
            ParamsKmeans::new(muestras, dimensiones, k, iteraciones, s).unwrap()
        },
    )
}

/// `red_neuronal` networks of up to 3 small hidden layers on up to 199 points.
pub fn red_neuronal() -> impl Strategy<Value = ParamsRedNeuronal> + Clone {
    (
        prop::collection::vec(1u32..16, 0..3),
        (1u32..3, 2u32..200, any::<u32>(), 0.001f32..1.0),
        prop::sample::select(Optimizador::TODOS.to_vec()),
        prop::sample::select(Conjunto::TODOS.to_vec()),
        (2u32..6, 2u32..5, any::<u64>()),
    )
        .prop_map(
            |(capas, (epocas, muestras, lote, tasa), optimizador, conjunto, (d, clases, s))| {
                ParamsRedNeuronal {
                    capas,
                    epocas,
                    lote: 1 + lote % muestras,
                    tasa,
                    optimizador,
                    conjunto,
                    muestras,
                    dimensiones: if conjunto == Conjunto::Espirales {
                        2
                    } else {
                        d
                    },
                    clases,
                    semilla: s,
                }
                .validado()
                .unwrap()
            },
        )
}

/// `imagen` chains of 1 to 3 filters over generated images of up to 63 × 63 pixels.
pub fn imagen() -> impl Strategy<Value = ParamsImagen> + Clone {
    (
        1u32..64,
        1u32..64,
        prop::collection::vec(prop::sample::select(Filtro::TODOS.to_vec()), 1..4),
        0.1f32..8.0,
    )
        .prop_map(|(w, h, filtros, sigma)| ParamsImagen::new(w, h, filtros, sigma, None).unwrap())
}
