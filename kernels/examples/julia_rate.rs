//! Prints the `Paralelo` Julia kernel's rate at the target size, 4000×4000×1000.
//!
//! `cargo run --release -p kernels --example julia_rate [width height iteraciones [Algoritmo]]`

use std::time::Instant;

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numero = |i: usize, defecto: u32| args.get(i).map_or(Ok(defecto), |s| s.parse());
    let p = ParamsJulia::new(numero(0, 4000)?, numero(1, 4000)?, numero(2, 1000)?)?;
    let algoritmo: Algoritmo = args.get(3).map_or(Ok(Algoritmo::Paralelo), |s| s.parse())?;
    let inicio = Instant::now();
    let conteos = kernels::julia(&p, algoritmo)?;
    let segundos = inicio.elapsed().as_secs_f64();
    let suma = conteos.suma();
    println!(
        "julia {algoritmo} {}x{}x{}: {:.2} e9 iter/s ({suma} iterations in {segundos:.3} s; {})",
        p.width,
        p.height,
        p.iteraciones,
        suma as f64 / segundos / 1e9,
        kernels::dispositivo(algoritmo),
    );
    Ok(())
}
