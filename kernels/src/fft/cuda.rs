//! `Cuda` for fft: the host side of `kernels/cuda/fft.cu`. The signal is copied to the GPU
//! once, every stage runs there (Stockham passes, Bluestein's chirps and products, transposes),
//! and the spectrum comes back once.
//!
//! Each axis is a batch of contiguous sequences: the rows, then (after a transpose) the
//! columns. A power-of-two length is its radix-4/radix-2 passes over the buffer pair
//! (`datos`, `otro`); any other length goes through Bluestein with `M = 2^⌈log₂(2L−1)⌉`, its
//! filter transformed on the GPU too. Every stage is one launch, and one piece of
//! `Llamada::en_piezas`: the run's [`Control`] is checked between passes.
//!
//! `fft.ptx` is loaded once per GPU, the first time a call runs there (`Motor::modulo`); the
//! spectrum comes back through the shared pinned staging (`cuda::bajar_en`). The memory a run
//! needs is compared with the GPU's free memory before anything is allocated, and a run that
//! would not fit is refused in words.

use cust::function::Function;
use cust::launch;
use cust::memory::DeviceBuffer;
use cust::module::Module;

use super::Complejo;
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Llamada, Tiempos, bajar_en, fallo};

/// The kernels as PTX (ISA 7.8, `compute_70`, FMA allowed), generated from `fft.cu`.
const PTX: &str = include_str!("../../cuda/fft.ptx");

/// A complex value as the kernels read it (`double2`).
type Punto = [f64; 2];

/// The transform of the `n × m` row-major `datos` (1-D when `n` or `m` is 1) on the GPU, with
/// its times.
pub(super) fn transformar(
    mut datos: Vec<Complejo>,
    n: usize,
    m: usize,
    control: &Control,
) -> Result<(Vec<Complejo>, Tiempos), ErrorKernel> {
    let llamada = Llamada::new()?;
    let modulo = llamada.motor.modulo(PTX, "fft.ptx")?;
    let ejes = if n == 1 || m == 1 {
        vec![Eje {
            largo: n * m,
            lotes: 1,
        }]
    } else {
        vec![Eje { largo: m, lotes: n }, Eje { largo: n, lotes: m }]
    };
    let mut etapas = Vec::new();
    for (i, eje) in ejes.iter().enumerate() {
        if i == 1 {
            etapas.push(Etapa::Trasponer { filas: n, cols: m });
        }
        eje.etapas(&mut etapas);
    }
    if ejes.len() == 2 {
        etapas.push(Etapa::Trasponer { filas: m, cols: n });
    }
    let mut gpu = Gpu::new(&llamada, modulo, &datos, &ejes)?;
    let kernel = llamada.en_piezas(control, etapas, "running fft", |etapa| gpu.lanzar(etapa))?;
    bajar_en(
        &gpu.datos,
        como_puntos_mut(&mut datos),
        "copying the spectrum back",
    )?;
    Ok((datos, llamada.tiempos(kernel)))
}

/// One axis of the transform: `lotes` contiguous sequences of `largo` points.
#[derive(Debug, Clone, Copy)]
struct Eje {
    largo: usize,
    lotes: usize,
}

impl Eje {
    /// Bluestein's `log₂ M` for a length that is not a power of two.
    fn log_m(&self) -> Option<u32> {
        (!self.largo.is_power_of_two()).then(|| (2 * self.largo - 1).next_power_of_two().ilog2())
    }

    /// The length of its FFTs: `largo`, or Bluestein's `M`.
    fn largo_fft(&self) -> usize {
        self.log_m().map_or(self.largo, |l| 1 << l)
    }

    /// Its stages, in order.
    fn etapas(&self, v: &mut Vec<Etapa>) {
        let (l, lotes) = (self.largo, self.lotes);
        match self.log_m() {
            _ if l == 1 => {}
            None => {
                v.push(Etapa::Raices { log_n: l.ilog2() });
                pasadas(Par::Datos, l.ilog2(), lotes, v);
            }
            Some(log_m) => {
                v.push(Etapa::Raices { log_n: log_m });
                v.push(Etapa::Filtro { l, log_m });
                pasadas(Par::Filtro, log_m, 1, v);
                v.push(Etapa::Entrada { l, log_m, lotes });
                pasadas(Par::Trabajo, log_m, lotes, v);
                v.push(Etapa::Producto { log_m, lotes });
                pasadas(Par::Trabajo, log_m, lotes, v);
                v.push(Etapa::Salida { l, log_m, lotes });
            }
        }
    }
}

/// The Stockham passes of `lotes` FFTs of `2^log_n` points on `par`: radix 4, and one radix 2
/// when `log_n` is odd.
fn pasadas(par: Par, log_n: u32, lotes: usize, v: &mut Vec<Etapa>) {
    let mut log_s = 0;
    while log_n - log_s >= 2 {
        v.push(Etapa::Pasada {
            par,
            radix: 4,
            log_n,
            log_s,
            lotes,
        });
        log_s += 2;
    }
    if log_n - log_s == 1 {
        v.push(Etapa::Pasada {
            par,
            radix: 2,
            log_n,
            log_s,
            lotes,
        });
    }
}

/// A pair of buffers a pass reads from (the first) and writes to (the second); they are
/// swapped after it, so the data is always in the first.
#[derive(Debug, Clone, Copy)]
enum Par {
    /// `datos`, `otro`: the signal.
    Datos,
    /// `a`, `b`: Bluestein's padded sequences.
    Trabajo,
    /// `filtro`, `filtro_aux`: Bluestein's filter.
    Filtro,
}

/// One launch.
#[derive(Debug, Clone, Copy)]
enum Etapa {
    /// `raices` = `ω_N^k`, `N = 2^log_n`.
    Raices { log_n: u32 },
    /// One Stockham pass of radix 4 or 2, stride `2^log_s`.
    Pasada {
        par: Par,
        radix: u32,
        log_n: u32,
        log_s: u32,
        lotes: usize,
    },
    /// `otro = datosᵀ` (`filas × cols` row-major), then swapped.
    Trasponer { filas: usize, cols: usize },
    /// `filtro` = Bluestein's filter for length `l`, `M = 2^log_m`.
    Filtro { l: usize, log_m: u32 },
    /// `a` = `datos` times the chirp, padded to `M`.
    Entrada { l: usize, log_m: u32, lotes: usize },
    /// `a = conj(a · filtro)`.
    Producto { log_m: u32, lotes: usize },
    /// `datos` = the chirp times `conj(a) / M`.
    Salida { l: usize, log_m: u32, lotes: usize },
}

/// The kernels of `fft.ptx`.
struct Funciones {
    raices: Function<'static>,
    radix4: Function<'static>,
    radix2: Function<'static>,
    trasponer: Function<'static>,
    filtro: Function<'static>,
    entrada: Function<'static>,
    producto: Function<'static>,
    salida: Function<'static>,
}

impl Funciones {
    fn new(modulo: &'static Module) -> Result<Self, ErrorKernel> {
        let f = |nombre: &str| {
            modulo
                .get_function(nombre)
                .map_err(fallo(&format!("finding the {nombre} kernel")))
        };
        Ok(Self {
            raices: f("fft_raices")?,
            radix4: f("fft_radix4")?,
            radix2: f("fft_radix2")?,
            trasponer: f("fft_trasponer")?,
            filtro: f("fft_bluestein_filtro")?,
            entrada: f("fft_bluestein_entrada")?,
            producto: f("fft_bluestein_producto")?,
            salida: f("fft_bluestein_salida")?,
        })
    }
}

/// The run's buffers on the GPU and what launches into them.
struct Gpu<'a> {
    llamada: &'a Llamada,
    f: Funciones,
    /// The signal, then the spectrum (`n·m` points), and its partner.
    datos: DeviceBuffer<Punto>,
    otro: DeviceBuffer<Punto>,
    /// Bluestein's sequences (`lotes·M` points, the largest axis's), and their partner.
    a: DeviceBuffer<Punto>,
    b: DeviceBuffer<Punto>,
    /// Bluestein's filter (`M` points), and its partner.
    filtro: DeviceBuffer<Punto>,
    filtro_aux: DeviceBuffer<Punto>,
    /// The twiddle table of the FFT being run.
    raices: DeviceBuffer<Punto>,
}

impl<'a> Gpu<'a> {
    /// Checks that the run fits in the GPU's free memory, allocates it and copies `datos`.
    fn new(
        llamada: &'a Llamada,
        modulo: &'static Module,
        datos: &[Complejo],
        ejes: &[Eje],
    ) -> Result<Self, ErrorKernel> {
        let puntos = datos.len();
        let bluestein = |e: &&Eje| e.log_m().is_some();
        let trabajo = ejes
            .iter()
            .filter(bluestein)
            .map(|e| e.lotes * e.largo_fft())
            .max();
        let filtro = ejes.iter().filter(bluestein).map(Eje::largo_fft).max();
        let raices = ejes.iter().map(Eje::largo_fft).max().unwrap_or(1);
        let (trabajo, filtro) = (trabajo.unwrap_or(0), filtro.unwrap_or(0));
        let total = 2 * puntos + 2 * trabajo + 2 * filtro + raices;
        cabe(total * size_of::<Punto>())?;
        Ok(Self {
            llamada,
            f: Funciones::new(modulo)?,
            datos: DeviceBuffer::from_slice(como_puntos(datos))
                .map_err(fallo("copying the signal to the GPU"))?,
            otro: reservar(puntos)?,
            a: reservar(trabajo)?,
            b: reservar(trabajo)?,
            filtro: reservar(filtro)?,
            filtro_aux: reservar(filtro)?,
            raices: reservar(raices)?,
        })
    }

    /// Queues `etapa` on the call's stream.
    fn lanzar(&mut self, etapa: Etapa) -> Result<(), ErrorKernel> {
        let flujo = &self.llamada.flujo;
        let bloques = |hilos: usize| self.llamada.motor.bloques(hilos as u64);
        let w = self.raices.as_device_ptr();
        // SAFETY (every launch): the arguments match the kernel's signature in fft.cu; each
        // kernel touches indices below the `total` (or sizes) it is given, which `Gpu::new`
        // sized every buffer for; the buffers outlive the stream's work (the call waits for it).
        let lanzado = match etapa {
            Etapa::Raices { log_n } => {
                let f = &self.f.raices;
                unsafe { launch!(f<<<bloques(1 << log_n), HILOS, 0, flujo>>>(w, log_n as i32)) }
            }
            Etapa::Pasada {
                par,
                radix,
                log_n,
                log_s,
                lotes,
            } => {
                let (x, y) = match par {
                    Par::Datos => (&mut self.datos, &mut self.otro),
                    Par::Trabajo => (&mut self.a, &mut self.b),
                    Par::Filtro => (&mut self.filtro, &mut self.filtro_aux),
                };
                let total = (lotes << log_n) / radix as usize;
                let f = if radix == 4 {
                    &self.f.radix4
                } else {
                    &self.f.radix2
                };
                let (px, py) = (x.as_device_ptr(), y.as_device_ptr());
                let r = unsafe {
                    launch!(f<<<bloques(total), HILOS, 0, flujo>>>(
                        px, py, w, log_n as i32, log_s as i32, total as i64
                    ))
                };
                std::mem::swap(x, y);
                r
            }
            Etapa::Trasponer { filas, cols } => {
                let f = &self.f.trasponer;
                let teselas = filas.div_ceil(32) * cols.div_ceil(32);
                let (a, b) = (self.datos.as_device_ptr(), self.otro.as_device_ptr());
                let r = unsafe {
                    launch!(f<<<bloques(teselas * 256), (32, 8, 1), 0, flujo>>>(
                        a, b, filas as i64, cols as i64
                    ))
                };
                std::mem::swap(&mut self.datos, &mut self.otro);
                r
            }
            Etapa::Filtro { l, log_m } => {
                let (f, p) = (&self.f.filtro, self.filtro.as_device_ptr());
                unsafe {
                    launch!(f<<<bloques(1 << log_m), HILOS, 0, flujo>>>(p, l as i64, log_m as i32))
                }
            }
            Etapa::Entrada { l, log_m, lotes } => {
                let (f, x, a) = (
                    &self.f.entrada,
                    self.datos.as_device_ptr(),
                    self.a.as_device_ptr(),
                );
                let total = lotes << log_m;
                unsafe {
                    launch!(f<<<bloques(total), HILOS, 0, flujo>>>(
                        x, a, l as i64, log_m as i32, total as i64
                    ))
                }
            }
            Etapa::Producto { log_m, lotes } => {
                let (f, a, p) = (
                    &self.f.producto,
                    self.a.as_device_ptr(),
                    self.filtro.as_device_ptr(),
                );
                let total = lotes << log_m;
                unsafe {
                    launch!(f<<<bloques(total), HILOS, 0, flujo>>>(a, p, log_m as i32, total as i64))
                }
            }
            Etapa::Salida { l, log_m, lotes } => {
                let (f, a, x) = (
                    &self.f.salida,
                    self.a.as_device_ptr(),
                    self.datos.as_device_ptr(),
                );
                let total = lotes * l;
                unsafe {
                    launch!(f<<<bloques(total), HILOS, 0, flujo>>>(
                        a, x, l as i64, log_m as i32, total as i64
                    ))
                }
            }
        };
        lanzado.map_err(fallo("launching an fft stage"))
    }
}

/// `Ok` when `bytes` fit in the GPU's free memory; otherwise the refusal, in words.
fn cabe(bytes: usize) -> Result<(), ErrorKernel> {
    let (libre, total) =
        cust::memory::mem_get_info().map_err(fallo("reading the GPU's free memory"))?;
    if bytes > libre {
        let gib = |b: usize| b as f64 / f64::from(1 << 30);
        return Err(ErrorKernel::NoDisponible(format!(
            "fft: this transform needs {:.2} GiB on the GPU, which has {:.2} GiB free of {:.2} GiB",
            gib(bytes),
            gib(libre),
            gib(total)
        )));
    }
    Ok(())
}

/// A buffer of `n` points on the GPU (one, when `n` is 0: the driver allocates no empty ones).
fn reservar(n: usize) -> Result<DeviceBuffer<Punto>, ErrorKernel> {
    DeviceBuffer::zeroed(n.max(1)).map_err(fallo(&format!(
        "allocating {} MiB on the GPU",
        (n * size_of::<Punto>()) >> 20
    )))
}

/// `x` as the kernels' points.
fn como_puntos(x: &[Complejo]) -> &[Punto] {
    // SAFETY: Complex<f64> is #[repr(C)] with fields re, im: the layout of [f64; 2].
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast(), x.len()) }
}

/// `x` as the kernels' points, writable.
fn como_puntos_mut(x: &mut [Complejo]) -> &mut [Punto] {
    // SAFETY: as in como_puntos; the borrow is unique.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len()) }
}
