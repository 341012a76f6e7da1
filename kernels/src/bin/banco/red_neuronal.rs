//! banco's `red_neuronal` rows: two jobs on every backend, and for `Paralelo` the ratio of its
//! training time to numpy's for the same loop (`kernels/pares/red_neuronal.py`: the same data,
//! layers, minibatches, epochs and optimiser), measured in the same run.
//!
//! - the default job (2-D spirals, layers 64 and 64, minibatches of 64, Adam, 10 epochs): small
//!   products, where the per-step overhead decides;
//! - a wide one (blobs in 64 dimensions, layers 512 and 512, 10 classes, minibatches of 256,
//!   2 epochs over 32 768 samples): the products decide. Too slow for `Secuencial`'s loops.

use comun::Algoritmo;
use comun::trabajo::{Conjunto, ParamsRedNeuronal};
use kernels::Control;
use kernels::red_neuronal;

/// The jobs: a name for the table, the parameters, and whether `Secuencial` runs it.
fn trabajos() -> [(&'static str, ParamsRedNeuronal, bool); 2] {
    let ancho = ParamsRedNeuronal {
        capas: vec![512, 512],
        lote: 256,
        conjunto: Conjunto::Blobs,
        dimensiones: 64,
        clases: 10,
        muestras: 32_768,
        epocas: 2,
        ..Default::default()
    };
    [
        (
            "spirals 4096, 64-64, batch 64 × 10 epochs (default)",
            ParamsRedNeuronal::default(),
            true,
        ),
        (
            "blobs 32768 × 64, 512-512, batch 256 × 2 epochs",
            ancho,
            false,
        ),
    ]
}

/// Prints the rows of every job on `algoritmos`.
pub fn filas(algoritmos: &[Algoritmo]) {
    for (nombre, p, secuencial) in trabajos() {
        let numpy = medir_numpy(&p);
        if let Err(e) = &numpy {
            eprintln!("banco: numpy's red_neuronal not measured: {e}");
        }
        for &algoritmo in algoritmos {
            if algoritmo == Algoritmo::Secuencial && !secuencial {
                continue;
            }
            let mut flops = 0.0;
            let Some(t) = super::mejor(|| {
                let r = red_neuronal::entrenar(&p, algoritmo, &Control::ninguno())?;
                flops = r.flops;
                Ok(r.duracion)
            }) else {
                continue;
            };
            let (objetivo, razon) = match (&numpy, algoritmo) {
                (Ok(np), Algoritmo::Paralelo) => (
                    format!("≥ 1.00 × numpy, same loop ({:.2} ms)", np * 1e3),
                    format!("{:.2}", np / t.as_secs_f64()),
                ),
                _ => ("-".into(), "-".into()),
            };
            super::fila(
                "red_neuronal",
                algoritmo,
                nombre,
                t,
                &format!("{:.1} GFLOP/s", flops / t.as_secs_f64() / 1e9),
                &objetivo,
                &razon,
            );
        }
    }
}

/// numpy's best training time of 3 runs of `p`, in seconds, measured now.
fn medir_numpy(p: &ParamsRedNeuronal) -> Result<f64, String> {
    let capas: Vec<String> = p.capas.iter().map(u32::to_string).collect();
    let args = [
        format!("capas={}", capas.join(",")),
        format!("epocas={}", p.epocas),
        format!("lote={}", p.lote),
        format!("tasa={}", p.tasa),
        format!("optimizador={}", p.optimizador),
        format!("conjunto={}", p.conjunto),
        format!("muestras={}", p.muestras),
        format!("dimensiones={}", p.dimensiones),
        format!("clases={}", p.clases),
        format!("semilla={}", p.semilla),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    super::pares::correr("red_neuronal.py", &args)?.valor("segundos")
}
