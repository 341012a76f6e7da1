//! What bounds the GPU's speed: its size and clock, read from its attributes, and the peak
//! rates NVIDIA's tables give for its compute capability.

/// What bounds the GPU's speed, read from its attributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limites {
    /// Streaming multiprocessors.
    pub multiprocesadores: u32,
    /// Highest SM clock, in kHz.
    pub reloj_khz: u32,
    /// Compute capability `(major, minor)`.
    pub capacidad: (i32, i32),
}

impl Limites {
    /// FP64 lanes per SM (each retires one f64 add, multiply or fused multiply-add per clock),
    /// from NVIDIA's tables by compute capability; `None` where this table does not know.
    pub fn lanes_f64_por_sm(&self) -> Option<u32> {
        match self.capacidad {
            (6, 0) | (7, 0) | (8, 0) => Some(32),
            (9, 0) => Some(64),
            (6, 1) | (6, 2) => Some(4),
            (7, 2) | (7, 5) | (8, 6) | (8, 7) | (8, 9) | (12, _) => Some(2),
            _ => None,
        }
    }

    /// FP32 lanes per SM, from NVIDIA's tables by compute capability; `None` where unknown.
    pub fn lanes_f32_por_sm(&self) -> Option<u32> {
        match self.capacidad {
            (6, 0) | (7, 0) | (7, 2) | (7, 5) | (8, 0) => Some(64),
            (6, 1) | (6, 2) | (8, 6) | (8, 7) | (8, 9) | (9, 0) | (12, _) => Some(128),
            _ => None,
        }
    }

    /// Peak f32 FLOP/s without tensor cores: SMs × FP32 lanes × 2 (an FMA counts as two) ×
    /// clock.
    pub fn pico_flops_f32(&self) -> Option<f64> {
        self.lanes_f32_por_sm()
            .map(|lanes| 2.0 * self.instrucciones_por_segundo(lanes))
    }

    /// Peak f64 FLOP/s without tensor cores: SMs × FP64 lanes × 2 (a fused multiply-add counts
    /// as two) × clock.
    pub fn pico_flops_f64(&self) -> Option<f64> {
        self.instrucciones_f64_por_segundo().map(|i| 2.0 * i)
    }

    /// The most FP64 instructions per second the GPU retires: SMs × FP64 lanes × clock.
    pub fn instrucciones_f64_por_segundo(&self) -> Option<f64> {
        self.lanes_f64_por_sm()
            .map(|lanes| self.instrucciones_por_segundo(lanes))
    }

    /// The H100 SXM, whose figures NVIDIA publishes: what the tests compute bounds for.
    #[cfg(test)]
    pub(crate) const H100_SXM: Limites = Limites {
        multiprocesadores: 132,
        reloj_khz: 1_980_000,
        capacidad: (9, 0),
    };

    /// SMs × `lanes` × clock.
    fn instrucciones_por_segundo(&self, lanes: u32) -> f64 {
        f64::from(self.multiprocesadores) * f64::from(lanes) * f64::from(self.reloj_khz) * 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h100_sxm_bounds_follow_the_formula() {
        let pico = Limites::H100_SXM.pico_flops_f64().unwrap();
        assert!((pico / 1e12 - 33.45).abs() < 0.01, "{pico}");
    }
}
