//! Describing the hardware a backend runs on, for [`Resultado::dispositivo`].
//!
//! [`Resultado::dispositivo`]: comun::api::Resultado::dispositivo

use std::sync::OnceLock;

use comun::Algoritmo;

/// How [`dispositivo`] begins for a `Cuda` job on GPU `indice` named `nombre`:
/// `cuda: NVIDIA H100 80GB HBM3 (GPU 0,`. A result's device names its GPU by this prefix.
pub fn prefijo_cuda(nombre: &str, indice: u32) -> String {
    format!("cuda: {nombre} (GPU {indice},")
}

/// What runs jobs of `algoritmo` here, in words: `cpu: 1 hilo (AMD EPYC 9R14)`,
/// `cpu: 2 hilos, avx512 (AMD EPYC 9R14)`, `cuda: NVIDIA H100 80GB HBM3 (GPU 0, 9.0, 79 GiB,
/// driver 550.54.15 (CUDA 12.4))`: for `Cuda`, the GPU of the calling thread
/// ([`crate::en_gpu`]); without a usable one, why there is none.
pub fn dispositivo(algoritmo: Algoritmo) -> String {
    match algoritmo {
        Algoritmo::Secuencial => format!("cpu: 1 hilo ({})", modelo_cpu()),
        Algoritmo::Paralelo | Algoritmo::Auto => format!(
            "cpu: {} hilos, {} ({})",
            rayon::current_num_threads(),
            nivel_simd(),
            modelo_cpu()
        ),
        Algoritmo::Cuda => match crate::gpu() {
            Ok(gpu) => format!(
                "{} {}, {} GiB, driver {})",
                prefijo_cuda(&gpu.nombre, gpu.indice),
                gpu.capacidad_computo,
                gpu.memoria_bytes >> 30,
                gpu.driver
            ),
            Err(motivo) => format!("cuda: not available ({motivo})"),
        },
    }
}

/// The widest vector instruction set `Paralelo` dispatches to on this CPU.
fn nivel_simd() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            return "avx512";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "avx2";
        }
        if std::arch::is_x86_feature_detected!("sse4.1") {
            return "sse4.1";
        }
    }
    "generic"
}

/// The CPU's model name, read once from `/proc/cpuinfo`; `unknown CPU` where there is none.
fn modelo_cpu() -> &'static str {
    static MODELO: OnceLock<String> = OnceLock::new();
    MODELO.get_or_init(|| {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|texto| modelo_en_cpuinfo(&texto))
            .unwrap_or_else(|| "unknown CPU".into())
    })
}

/// The first `model name` value of a `/proc/cpuinfo` text.
fn modelo_en_cpuinfo(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|linea| linea.split_once(':'))
        .find(|(clave, _)| clave.trim() == "model name")
        .map(|(_, valor)| valor.trim().to_owned())
        .filter(|modelo| !modelo.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_name_is_read_from_cpuinfo() {
        let texto = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\n";
        assert_eq!(modelo_en_cpuinfo(texto).as_deref(), Some("AMD EPYC 9R14"));
        assert_eq!(modelo_en_cpuinfo("processor : 0\n"), None);
    }

    #[test]
    fn every_backend_is_described() {
        assert!(dispositivo(Algoritmo::Secuencial).starts_with("cpu: 1 hilo ("));
        let paralelo = dispositivo(Algoritmo::Paralelo);
        assert!(
            paralelo.starts_with("cpu: ") && paralelo.contains(" hilos, "),
            "{paralelo}"
        );
        assert!(dispositivo(Algoritmo::Cuda).starts_with("cuda: "));
    }
}
