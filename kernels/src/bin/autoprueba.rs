//! `autoprueba`: the GPU self-test. On a machine with an NVIDIA GPU it runs every kernel (Julia,
//! matmul, vector_add, montecarlo, nbody) on the GPU (`Cuda`) and on the CPU (`Secuencial`,
//! `Paralelo`), checks that they agree (exactly for Julia, vector_add and montecarlo, within
//! the stated tolerances for matmul and nbody), and prints a Markdown report: the device, the
//! agreement checks and throughput tables against the device's limits. Exits 1 on any
//! disagreement, 2 without a GPU.
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
    use kernels::cuda::Limites;
    use kernels::julia::cuda::{self, OPERACIONES_F64_POR_ITERACION, cota_iteraciones_por_segundo};

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
        let motor = match kernels::cuda::motor() {
            Ok(motor) => motor,
            Err(e) => {
                eprintln!("autoprueba: {e}");
                return ExitCode::from(2);
            }
        };
        let gpu = motor.gpu();
        let limites = motor.limites();
        println!("# autoprueba: the kernels on the GPU against the CPU\n");
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
        let acuerdo = otros::main(limites) && acuerdo;
        if acuerdo {
            println!("\nRESULT: Cuda agrees with the CPU on every size, every kernel.");
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
            cota_iteraciones_por_segundo(&limites),
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
        let cota = cota_iteraciones_por_segundo(&limites);
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

    /// matmul, vector_add, montecarlo and nbody: agreement and throughput.
    mod otros {
        use std::time::Duration;

        use comun::Algoritmo;
        use comun::trabajo::{ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
        use kernels::cuda::{self, Limites};
        use kernels::{matmul, montecarlo, nbody, vector_add};

        /// Tolerance of matmul against the CPU: `max abs(ΔC) / max abs(C)`.
        const TOL_MATMUL: f64 = 1e-5;
        /// Tolerance of nbody's final energy against the CPU, relative.
        const TOL_NBODY: f64 = 1e-4;

        pub fn main(limites: Limites) -> bool {
            println!("\n## Agreement: matmul, vector_add, montecarlo, nbody\n");
            println!(
                "| kernel | size | reference | measure | reference | Cuda | tolerance | result |"
            );
            println!("|---|---|---|---|---:|---:|---|---|");
            let mut bien = true;
            for (n, referencia) in [
                (1, Algoritmo::Secuencial),
                (7, Algoritmo::Secuencial),
                (129, Algoritmo::Secuencial),
                (300, Algoritmo::Secuencial),
                (1000, Algoritmo::Paralelo),
                (2048, Algoritmo::Paralelo),
            ] {
                bien &= acuerdo_matmul(n, referencia);
            }
            for n in [1, 5, 1001, 50_000_000, (1 << 28) - 1] {
                bien &= acuerdo_vector(n);
            }
            for muestras in [1, 2, 3, 999_999, 1_000_000_007, 10_000_000_000] {
                bien &= acuerdo_montecarlo(muestras);
            }
            for (particulas, pasos) in [(1, 5), (2, 10), (257, 10), (1000, 20), (4096, 10)] {
                bien &= acuerdo_nbody(particulas, pasos);
            }
            rendimiento(limites);
            bien
        }

        #[allow(clippy::too_many_arguments)]
        fn fila(
            kernel: &str,
            tam: String,
            referencia: Algoritmo,
            medida: &str,
            r: String,
            c: String,
            tol: &str,
            ok: bool,
        ) -> bool {
            let res = if ok {
                "equal / within"
            } else {
                "**DIFFERENT**"
            };
            println!("| {kernel} | {tam} | {referencia} | {medida} | {r} | {c} | {tol} | {res} |");
            ok
        }

        fn error(kernel: &str, tam: String, e: impl std::fmt::Display) -> bool {
            println!("| {kernel} | {tam} | | | | | | **ERROR**: {e} |");
            false
        }

        fn acuerdo_matmul(n: u32, referencia: Algoritmo) -> bool {
            let p = ParamsMatmul::new(n, 1).expect("valid");
            let cpu = matmul::matmul(&p, referencia).expect("CPU runs");
            match matmul::matmul(&p, Algoritmo::Cuda) {
                Ok(gpu) => {
                    let d = matmul::diferencia_relativa(&cpu.c, &gpu.c);
                    fila(
                        "matmul",
                        format!("n = {n}"),
                        referencia,
                        "max abs(ΔC) / max abs(C) (error_relativo cpu, gpu)",
                        format!("{:.1e}", matmul::error_relativo(&cpu.c, n)),
                        format!("{d:.1e} ({:.1e})", matmul::error_relativo(&gpu.c, n)),
                        "≤ 1e-5",
                        d <= TOL_MATMUL,
                    )
                }
                Err(e) => error("matmul", format!("n = {n}"), e),
            }
        }

        fn acuerdo_vector(n: u64) -> bool {
            let p = ParamsVectorAdd::new(n, 1).expect("valid");
            let cpu = vector_add::vector_add(&p, Algoritmo::Paralelo).expect("CPU runs");
            match vector_add::vector_add(&p, Algoritmo::Cuda) {
                Ok(gpu) => fila(
                    "vector_add",
                    format!("n = {n}"),
                    Algoritmo::Paralelo,
                    "checksum (c equal bit for bit?)",
                    format!("{}", vector_add::checksum(&cpu.c)),
                    format!("{}", vector_add::checksum(&gpu.c)),
                    "exact",
                    cpu.c == gpu.c,
                ),
                Err(e) => error("vector_add", format!("n = {n}"), e),
            }
        }

        fn acuerdo_montecarlo(muestras: u64) -> bool {
            let p = ParamsMontecarlo::new(muestras, 2026).expect("valid");
            let cpu = montecarlo::montecarlo(&p, Algoritmo::Paralelo).expect("CPU runs");
            match montecarlo::montecarlo(&p, Algoritmo::Cuda) {
                Ok(gpu) => fila(
                    "montecarlo",
                    format!("{muestras} samples"),
                    Algoritmo::Paralelo,
                    "dentro",
                    cpu.dentro.to_string(),
                    gpu.dentro.to_string(),
                    "exact",
                    cpu.dentro == gpu.dentro,
                ),
                Err(e) => error("montecarlo", format!("{muestras}"), e),
            }
        }

        fn acuerdo_nbody(particulas: u32, pasos: u32) -> bool {
            let p = ParamsNbody::new(particulas, pasos, 11).expect("valid");
            let cpu = nbody::nbody(&p, Algoritmo::Paralelo).expect("CPU runs");
            match nbody::nbody(&p, Algoritmo::Cuda) {
                Ok(gpu) => {
                    let d = (gpu.energia_final - cpu.energia_final).abs()
                        / cpu.energia_final.abs().max(f64::MIN_POSITIVE);
                    fila(
                        "nbody",
                        format!("{particulas} bodies × {pasos} steps"),
                        Algoritmo::Paralelo,
                        "final energy",
                        format!("{:.9e}", cpu.energia_final),
                        format!("{:.9e} (Δ {d:.1e})", gpu.energia_final),
                        "≤ 1e-4 relative",
                        d <= TOL_NBODY,
                    )
                }
                Err(e) => error("nbody", format!("{particulas}"), e),
            }
        }

        fn ms(d: Duration) -> String {
            format!("{:.3} ms", d.as_secs_f64() * 1e3)
        }

        /// One throughput row; `cota` is the bound's value in the same unit.
        #[allow(clippy::too_many_arguments)]
        fn medida(
            kernel: &str,
            backend: &str,
            tam: &str,
            kernel_t: Duration,
            total: Duration,
            cantidad: f64,
            unidad: &str,
            cota: Option<f64>,
        ) {
            let k = cantidad / kernel_t.as_secs_f64();
            let e = cantidad / total.as_secs_f64();
            println!(
                "| {kernel} | {backend} | {tam} | {} | {} | {k:.4e} {unidad} | {e:.4e} {unidad} | {} |",
                ms(kernel_t),
                ms(total),
                cota.map_or("-".into(), |c| format!("{:.0}%", 100.0 * k / c))
            );
        }

        fn rendimiento(limites: Limites) {
            println!("\n## Throughput: matmul, vector_add, montecarlo, nbody\n");
            let copia = cuda::ancho_de_banda_copia(1 << 30, 5);
            let pico = limites.pico_flops_f32();
            match &copia {
                Ok(b) => println!(
                    "- device-to-device copy (cuMemcpyDtoDAsync of 1 GiB, best of 5, bytes \
                     read + written): {:.1} GB/s",
                    b / 1e9
                ),
                Err(e) => println!("- device-to-device copy: ERROR {e}"),
            }
            match pico {
                Some(p) => println!(
                    "- f32 peak (no tensor cores) = SMs × FP32 lanes/SM × 2 × clock = {} × {} \
                     × 2 × {} MHz = {:.2} TFLOP/s",
                    limites.multiprocesadores,
                    limites.lanes_f32_por_sm().unwrap_or(0),
                    limites.reloj_khz / 1000,
                    p / 1e12
                ),
                None => println!("- f32 peak unknown for this compute capability"),
            }
            println!(
                "- Cuda: kernel = CUDA events around the launches (best of 3); end to end = \
                 allocation, copies to and from the GPU, launches (host clock, same run). \
                 Paralelo: one run, {}.\n",
                kernels::dispositivo(Algoritmo::Paralelo)
            );
            println!(
                "| kernel | backend | size | kernel time | end to end | throughput (kernel) | \
                 throughput (end to end) | % of bound |"
            );
            println!("|---|---|---|---:|---:|---:|---:|---:|");
            let gb = copia.ok().map(|b| b / 1e9);
            let tf = pico.map(|p| p / 1e9);
            // Warm-up (module JIT, lazy driver set-up).
            let _ = matmul::matmul(&ParamsMatmul::new(256, 1).unwrap(), Algoritmo::Cuda);
            for (n, it) in [(2048u32, 10u32), (4096, 5), (8192, 3)] {
                let p = ParamsMatmul::new(n, it).unwrap();
                if let Some((k, t)) =
                    mejor(|| matmul::matmul(&p, Algoritmo::Cuda).map(|r| (r.duracion, r.total)))
                {
                    let f = 2.0 * f64::from(n).powi(3) * f64::from(it) / 1e9;
                    medida(
                        "matmul",
                        "Cuda",
                        &format!("n = {n} × {it}"),
                        k,
                        t,
                        f,
                        "GFLOP/s",
                        tf,
                    );
                }
            }
            let p = ParamsMatmul::new(4096, 1).unwrap();
            if let Ok(r) = matmul::matmul(&p, Algoritmo::Paralelo) {
                let f = 2.0 * 4096f64.powi(3) / 1e9;
                medida(
                    "matmul",
                    "Paralelo",
                    "n = 4096 × 1",
                    r.duracion,
                    r.total,
                    f,
                    "GFLOP/s",
                    None,
                );
            }
            for (n, it) in [(50_000_000u64, 20u32), (1 << 28, 10)] {
                let p = ParamsVectorAdd::new(n, it).unwrap();
                if let Some((k, t)) = mejor(|| {
                    vector_add::vector_add(&p, Algoritmo::Cuda).map(|r| (r.duracion, r.total))
                }) {
                    let b = 12.0 * n as f64 * f64::from(it) / 1e9;
                    medida(
                        "vector_add",
                        "Cuda",
                        &format!("n = {n} × {it}"),
                        k,
                        t,
                        b,
                        "GB/s",
                        gb,
                    );
                }
            }
            let p = ParamsVectorAdd::new(50_000_000, 10).unwrap();
            if let Ok(r) = vector_add::vector_add(&p, Algoritmo::Paralelo) {
                let b = 12.0 * 50e6 * 10.0 / 1e9;
                medida(
                    "vector_add",
                    "Paralelo",
                    "n = 50000000 × 10",
                    r.duracion,
                    r.total,
                    b,
                    "GB/s",
                    None,
                );
            }
            let p = ParamsMontecarlo::new(100_000_000_000, 1).unwrap();
            if let Some((k, t)) =
                mejor(|| montecarlo::montecarlo(&p, Algoritmo::Cuda).map(|r| (r.duracion, r.total)))
            {
                medida(
                    "montecarlo",
                    "Cuda",
                    "1e11 samples",
                    k,
                    t,
                    1e11,
                    "samples/s",
                    None,
                );
            }
            let p = ParamsMontecarlo::new(2_000_000_000, 1).unwrap();
            if let Ok(r) = montecarlo::montecarlo(&p, Algoritmo::Paralelo) {
                medida(
                    "montecarlo",
                    "Paralelo",
                    "2e9 samples",
                    r.duracion,
                    r.total,
                    2e9,
                    "samples/s",
                    None,
                );
            }
            for (n, pasos) in [(16_384u32, 20u32), (65_536, 5)] {
                let p = ParamsNbody::new(n, pasos, 1).unwrap();
                if let Some((k, t)) =
                    mejor(|| nbody::nbody(&p, Algoritmo::Cuda).map(|r| (r.duracion, r.total)))
                {
                    let i = f64::from(n) * f64::from(n) * f64::from(pasos);
                    medida(
                        "nbody",
                        "Cuda",
                        &format!("{n} bodies × {pasos} steps"),
                        k,
                        t,
                        i,
                        "interactions/s",
                        None,
                    );
                }
            }
            let p = ParamsNbody::new(16_384, 2, 1).unwrap();
            if let Ok(r) = nbody::nbody(&p, Algoritmo::Paralelo) {
                let i = 16_384f64 * 16_384.0 * 2.0;
                medida(
                    "nbody",
                    "Paralelo",
                    "16384 bodies × 2 steps",
                    r.duracion,
                    r.total,
                    i,
                    "interactions/s",
                    None,
                );
            }
        }

        /// The best kernel time (and its run's end-to-end time) of 3 runs; prints an error row.
        fn mejor(
            mut f: impl FnMut() -> Result<(Duration, Duration), kernels::ErrorKernel>,
        ) -> Option<(Duration, Duration)> {
            let mut mejor: Option<(Duration, Duration)> = None;
            for _ in 0..3 {
                match f() {
                    Ok(t) => {
                        if mejor.is_none_or(|m| t.0 < m.0) {
                            mejor = Some(t);
                        }
                    }
                    Err(e) => {
                        println!("| | | | **ERROR**: {e} | | | | |");
                        return None;
                    }
                }
            }
            mejor
        }
    }
}
