//! The report's first section: every pixel's count of Julia images on `Cuda` against the CPU,
//! one table row per size.

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;
use kernels::julia::FORMAS_DE_PRUEBA;

/// Shapes checked against `Secuencial` after [`FORMAS_DE_PRUEBA`]: larger images whose blocks
/// and launches end ragged.
const MAS_FORMAS: [(u32, u32); 4] = [(1021, 37), (640, 480), (1920, 1080), (4097, 1023)];

/// Iteration counts tried on every shape.
const ITERACIONES: [u32; 5] = [1, 2, 50, 300, 1000];

/// Sizes checked against `Paralelo` (equal to `Secuencial` by the crate's tests), too large
/// for one core: the benchmark size, and many launches of a few rows each.
const GRANDES: [(u32, u32, u32); 2] = [(8192, 8192, 1000), (2000, 500, 100_000)];

/// Prints the agreement table; whether every case was equal.
pub fn comprobar() -> bool {
    println!("## Agreement: every pixel's count, Cuda against the CPU\n");
    println!("| image | iteraciones | reference | reference checksum | Cuda checksum | result |");
    println!("|---|---:|---|---:|---:|---|");
    let mut casos = 0;
    let mut iguales = 0;
    for &(width, height) in FORMAS_DE_PRUEBA.iter().chain(&MAS_FORMAS) {
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

/// A Julia job of this size.
pub fn params(width: u32, height: u32, iteraciones: u32) -> ParamsJulia {
    ParamsJulia::new(width, height, iteraciones).expect("sizes within the limits")
}

/// The counts of `p` on `algoritmo`, or the error in words.
fn conteos(p: &ParamsJulia, algoritmo: Algoritmo) -> Result<Vec<u32>, String> {
    kernels::julia(p, algoritmo)
        .map(|c| c.conteos)
        .map_err(|e| e.to_string())
}

/// Compares `Cuda` with `referencia` on `p`; prints a table row, returns whether equal.
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

/// The sum of every count: the iterations computed.
pub fn suma(conteos: &[u32]) -> u64 {
    conteos.iter().map(|&c| u64::from(c)).sum()
}
