//! The report's section on copies back to the host: what a result of each size costs copied
//! straight into pageable memory, through the pinned halves (`cuda::bajar` from
//! `cuda::UMBRAL_ETAPA` on), and into pinned memory alone (the link's ceiling), so that the
//! threshold can be checked against the device.

use kernels::cuda::{self, Bajadas};

/// Sizes measured, in MiB: around the threshold, and the largest results the kernels return
/// (a 8192 × 8192 Julia image is 256 MiB).
const TAMANOS_MIB: [usize; 6] = [1, 4, 8, 32, 256, 1024];

/// Copies of each size; the best is reported.
const REPETICIONES: u32 = 5;

/// Prints the table; nothing here can disagree, so it returns nothing.
pub fn medir() {
    println!("\n## Copies back to the host: pageable or through pinned staging\n");
    println!(
        "Best of {REPETICIONES} copies of each size from the GPU into a vector allocated for it \
         (as a kernel's result is: its pages are touched first by the copy), host clock. \
         `pinned staging` is what `cuda::bajar` does from {} MiB on (two pinned halves of {} \
         MiB, the GPU filling one while every core empties the other); `pinned only` copies \
         into pinned memory and stops there: the link's ceiling.\n",
        cuda::UMBRAL_ETAPA >> 20,
        cuda::MITAD >> 20
    );
    println!(
        "| size | pageable | pinned staging | staging / pageable | pinned only | `bajar` uses |"
    );
    println!("|---:|---:|---:|---:|---:|---|");
    for mib in TAMANOS_MIB {
        match cuda::medir_bajadas(mib << 20, REPETICIONES) {
            Ok(b) => fila(&b),
            Err(e) => println!("| {mib} MiB | **ERROR**: {e} | | | | |"),
        }
    }
}

/// One size's row.
fn fila(b: &Bajadas) {
    let usa = if b.bytes >= cuda::UMBRAL_ETAPA {
        "pinned staging"
    } else {
        "pageable"
    };
    println!(
        "| {} MiB | {:.1} GB/s | {:.1} GB/s | {:.2}× | {:.1} GB/s | {usa} |",
        b.bytes >> 20,
        b.paginable / 1e9,
        b.etapa / 1e9,
        b.etapa / b.paginable,
        b.fijada / 1e9
    );
}
