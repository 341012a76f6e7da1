//! `autoprueba`: the GPU self-test. On a machine with an NVIDIA GPU it runs the Julia kernel on
//! the GPU (`Cuda`) and on the CPU (`Secuencial`, `Paralelo`), checks that the counts agree
//! exactly, and prints a Markdown report: the device, the agreement checks and a throughput
//! table against the device's FP64 limits. Exits 1 on any disagreement, 2 without a GPU.
//!
//! Build it with `scripts/build-cuda.sh` (it needs the `cuda` feature to test anything):
//! `target/cuda/release/autoprueba`.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(feature = "cuda")]
    return prueba::main();
    #[cfg(not(feature = "cuda"))]
    {
        eprintln!(
            "autoprueba: no GPU backend in this build (build it with the `cuda` feature: \
             scripts/build-cuda.sh)"
        );
        ExitCode::from(2)
    }
}

#[cfg(feature = "cuda")]
mod prueba {
    use std::process::ExitCode;
    use std::time::{Duration, Instant};

    use comun::Algoritmo;
    use comun::trabajo::ParamsJulia;
    use kernels::cuda::{self, Limites, OPERACIONES_F64_POR_ITERACION};

    /// Shapes checked against `Secuencial`: single pixels and rows, odd sizes, ragged blocks.
    const FORMAS: [(u32, u32); 14] = [
        (1, 1),
        (1, 7),
        (7, 1),
        (3, 5),
        (17, 9),
        (33, 31),
        (64, 48),
        (100, 3),
        (255, 1),
        (1, 100),
        (1021, 37),
        (640, 480),
        (1920, 1080),
        (4097, 1023),
    ];

    /// Iteration counts tried on every shape.
    const ITERACIONES: [u32; 5] = [1, 2, 50, 300, 1000];

    /// Sizes checked against `Paralelo` (equal to `Secuencial` by the crate's tests), too large
    /// for one core: the benchmark size, and many launches of a few rows each.
    const GRANDES: [(u32, u32, u32); 2] = [(8192, 8192, 1000), (2000, 500, 100_000)];

    /// Benchmarked sizes; the CPU runs those marked `true` too.
    const MEDIDAS: [(u32, u32, u32, bool); 3] = [
        (1024, 1024, 1000, true),
        (8192, 8192, 1000, true),
        (8192, 8192, 10_000, false),
    ];

    /// Runs of each GPU measurement; the best is reported.
    const REPETICIONES: usize = 3;

    pub fn main() -> ExitCode {
        let motor = match cuda::motor() {
            Ok(motor) => motor,
            Err(e) => {
                eprintln!("autoprueba: {e}");
                return ExitCode::from(2);
            }
        };
        let gpu = motor.gpu();
        let limites = motor.limites();
        println!("# autoprueba: the Julia kernel on the GPU against the CPU\n");
        println!(
            "- GPU: {} (compute capability {}, {} SMs at {} MHz, {} MiB)",
            gpu.nombre,
            gpu.capacidad_computo,
            limites.multiprocesadores,
            limites.reloj_khz / 1000,
            gpu.memoria_bytes >> 20
        );
        println!("- driver: {}", gpu.driver);
        println!("- CPU: {}", kernels::dispositivo(Algoritmo::Paralelo));
        println!("- kernel: kernels/cuda/julia.ptx (PTX ISA 7.8, compute_70, no FMA), f64\n");

        let acuerdo = comprobar_acuerdo();
        medir_rendimiento(limites);
        if acuerdo {
            println!("\nRESULT: Cuda agrees exactly with the CPU on every size.");
            ExitCode::SUCCESS
        } else {
            println!("\nRESULT: DISAGREEMENT between Cuda and the CPU (see above).");
            ExitCode::FAILURE
        }
    }

    fn params(width: u32, height: u32, iteraciones: u32) -> ParamsJulia {
        ParamsJulia::new(width, height, iteraciones).expect("sizes within the limits")
    }

    fn conteos(p: &ParamsJulia, algoritmo: Algoritmo) -> Result<Vec<u32>, String> {
        kernels::julia(p, algoritmo)
            .map(|c| c.conteos)
            .map_err(|e| e.to_string())
    }

    /// Compares `Cuda` with `reference` on `p`; prints a table row, returns whether equal.
    fn comparar(p: &ParamsJulia, referencia: Algoritmo) -> bool {
        let esperado = conteos(p, referencia).expect("the CPU backends always run");
        let (estado, suma_gpu) = match conteos(p, Algoritmo::Cuda) {
            Ok(gpu) if gpu == esperado => ("equal".to_owned(), suma(&gpu).to_string()),
            Ok(gpu) => {
                let distintos = gpu.iter().zip(&esperado).filter(|(a, b)| a != b).count();
                let primero = gpu.iter().zip(&esperado).position(|(a, b)| a != b);
                (
                    format!("**DIFFERENT**: {distintos} pixels, first at index {primero:?}"),
                    suma(&gpu).to_string(),
                )
            }
            Err(e) => (format!("**ERROR**: {e}"), "-".to_owned()),
        };
        println!(
            "| {}×{} | {} | {} | {} | {} | {} |",
            p.width,
            p.height,
            p.iteraciones,
            referencia,
            suma(&esperado),
            suma_gpu,
            estado
        );
        estado == "equal"
    }

    fn suma(conteos: &[u32]) -> u64 {
        conteos.iter().map(|&c| u64::from(c)).sum()
    }

    fn comprobar_acuerdo() -> bool {
        println!("## Agreement: every pixel's count, Cuda against the CPU\n");
        println!(
            "| image | iteraciones | reference | reference checksum | Cuda checksum | result |"
        );
        println!("|---|---:|---|---:|---:|---|");
        let mut casos = 0;
        let mut iguales = 0;
        for (width, height) in FORMAS {
            for iteraciones in ITERACIONES {
                let p = params(width, height, iteraciones);
                casos += 1;
                iguales += usize::from(comparar(&p, Algoritmo::Secuencial));
            }
        }
        for (width, height, iteraciones) in GRANDES {
            casos += 1;
            iguales += usize::from(comparar(
                &params(width, height, iteraciones),
                Algoritmo::Paralelo,
            ));
        }
        println!("\n{iguales} of {casos} cases equal.\n");
        iguales == casos
    }

    fn medir_rendimiento(limites: Limites) {
        println!("## Throughput\n");
        match (
            limites.pico_flops_f64(),
            limites.cota_iteraciones_por_segundo(),
        ) {
            (Some(pico), Some(cota)) => println!(
                "FP64 peak (no tensor cores) = SMs × FP64 lanes/SM × 2 × clock = {} × {} × 2 × \
                 {} MHz = {:.2} TFLOP/s. Each iteration is {OPERACIONES_F64_POR_ITERACION} FP64 \
                 instructions (4 mul, 4 add/sub, 1 compare; no FMA), so the FP64 pipes bound \
                 the kernel at SMs × lanes × clock ÷ {OPERACIONES_F64_POR_ITERACION} = {} \
                 iterations/s; \"% of bound\" compares with that. Iterations are the sum of all \
                 counts (the work actually done). GPU times are the best of {REPETICIONES} runs: \
                 kernel = CUDA events around the launches; copy = the counts from the GPU to \
                 the host; end to end = allocation, launches, copy, free (what an esclavo's job \
                 pays, without the PNG). The CPU rows are one run each.\n",
                limites.multiprocesadores,
                limites.lanes_f64_por_sm().unwrap_or(0),
                limites.reloj_khz / 1000,
                pico / 1e12,
                cientifica(cota)
            ),
            _ => println!(
                "(FP64 lanes per SM unknown for compute capability {}.{}: no bound shown.)\n",
                limites.capacidad.0, limites.capacidad.1
            ),
        }
        println!(
            "| backend | image × iteraciones | iterations | kernel time | copy to host | end to \
             end | iterations/s (kernel) | iterations/s (end to end) | % of bound |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        let cota = limites.cota_iteraciones_por_segundo();
        // Warm-up: the first launch pays for lazy set-up in the driver.
        let _ = cuda::medir(&params(256, 256, 10));
        for (width, height, iteraciones, con_cpu) in MEDIDAS {
            let p = params(width, height, iteraciones);
            medir_gpu(&p, cota);
            if con_cpu {
                medir_cpu(&p);
            }
        }
    }

    fn medir_gpu(p: &ParamsJulia, cota: Option<f64>) {
        let mut mejor_kernel = Duration::MAX;
        let mut mejor_total = Duration::MAX;
        let mut mejor_copia = Duration::MAX;
        let mut iteraciones = 0;
        for _ in 0..REPETICIONES {
            let inicio = Instant::now();
            match cuda::medir(p) {
                Ok(m) => {
                    mejor_total = mejor_total.min(inicio.elapsed());
                    mejor_kernel = mejor_kernel.min(m.kernel);
                    mejor_copia = mejor_copia.min(m.copia);
                    iteraciones = suma(&m.conteos);
                }
                Err(e) => {
                    println!("| Cuda | {} | **ERROR**: {e} | | | | | | |", tamano(p));
                    return;
                }
            }
        }
        let por_segundo = iteraciones as f64 / mejor_kernel.as_secs_f64();
        println!(
            "| Cuda | {} | {} | {} | {} | {} | {} | {} | {} |",
            tamano(p),
            cientifica(iteraciones as f64),
            ms(mejor_kernel),
            ms(mejor_copia),
            ms(mejor_total),
            cientifica(por_segundo),
            cientifica(iteraciones as f64 / mejor_total.as_secs_f64()),
            cota.map_or("-".into(), |c| format!("{:.0}%", 100.0 * por_segundo / c))
        );
    }

    fn medir_cpu(p: &ParamsJulia) {
        let inicio = Instant::now();
        let c = kernels::julia(p, Algoritmo::Paralelo).expect("the CPU backends always run");
        let tiempo = inicio.elapsed();
        let iteraciones = c.suma() as f64;
        println!(
            "| Paralelo ({}) | {} | {} | {} | - | {} | {} | {} | - |",
            kernels::dispositivo(Algoritmo::Paralelo),
            tamano(p),
            cientifica(iteraciones),
            ms(tiempo),
            ms(tiempo),
            cientifica(iteraciones / tiempo.as_secs_f64()),
            cientifica(iteraciones / tiempo.as_secs_f64()),
        );
    }

    fn tamano(p: &ParamsJulia) -> String {
        format!("{}×{} × {}", p.width, p.height, p.iteraciones)
    }

    fn ms(d: Duration) -> String {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }

    /// `1.234e12`.
    fn cientifica(x: f64) -> String {
        format!("{x:.3e}")
    }
}
