//! `Cuda` for red_neuronal: the host side of `kernels/cuda/red_neuronal.cu`. The data, the
//! parameters and every minibatch's arrays live on the GPU for the whole training; the host
//! only queues launches, uploads each epoch's order (drawn from the seed as on the CPU) and
//! reads back each epoch's losses, which it sums in `f64` in visiting order as the CPU does.
//!
//! Stopping: a piece is up to [`LOTES_POR_PIEZA`] minibatches of one epoch, and the run's
//! [`Control`] is checked before each; the final accuracy checks it before each block of rows.
//!
//! Time: the kernel time is the GPU's clock from the first minibatch's launches to the last
//! one's, which includes the epochs' order uploads and loss reads (small, and part of the
//! training loop on every backend); with copies, it adds uploading the data and the initial
//! parameters and reading the trained ones back.

use comun::trabajo::ParamsRedNeuronal;
use cust::context::CurrentContext;
use cust::function::Function;
use cust::launch;
use cust::memory::{
    AsyncCopyDestination as _, DeviceBuffer, DeviceCopy, DevicePointer, DeviceSlice,
};

use super::cpu::FILAS_EVALUACION;
use super::datos::{self, Datos};
use super::elementos::correcciones;
use super::producto::Forma;
use super::{Ajustes, Arquitectura, Entrenamiento};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Llamada, Motor, bajar, fallo, subir};

/// The kernels, as PTX (ISA 7.8, `compute_70`, FMA allowed), generated from red_neuronal.cu.
const PTX: &str = include_str!("../../cuda/red_neuronal.ptx");

/// Minibatches queued between two checks of the control: a few hundred microseconds of
/// launches for small networks.
const LOTES_POR_PIEZA: usize = 8;

/// Side of the products' block tile (`TM`, `TN` in red_neuronal.cu).
const TESELA: u32 = 64;

/// The kernels' entry points.
struct Kernels {
    producto: [Function<'static>; 3],
    reunir: Function<'static>,
    sesgo_relu: Function<'static>,
    softmax_entropia: Function<'static>,
    sumar_columnas: Function<'static>,
    mascara_relu: Function<'static>,
    sgd: Function<'static>,
    adam: Function<'static>,
    aciertos: Function<'static>,
}

impl Kernels {
    fn new(motor: &'static Motor) -> Result<Self, ErrorKernel> {
        let m = motor.modulo(PTX, "red_neuronal.ptx")?;
        let f = |nombre: &str| {
            m.get_function(nombre)
                .map_err(fallo(&format!("finding the {nombre} kernel")))
        };
        Ok(Self {
            producto: [f("producto_nn")?, f("producto_tn")?, f("producto_nt")?],
            reunir: f("reunir")?,
            sesgo_relu: f("sesgo_relu")?,
            softmax_entropia: f("softmax_entropia")?,
            sumar_columnas: f("sumar_columnas")?,
            mascara_relu: f("mascara_relu")?,
            sgd: f("sgd")?,
            adam: f("adam")?,
            aciertos: f("aciertos")?,
        })
    }
}

/// A set on the GPU: its rows and classes.
struct Conjunto {
    x: DeviceBuffer<f32>,
    y: DeviceBuffer<u32>,
    filas: usize,
}

impl Conjunto {
    fn subir(d: &Datos) -> Result<Self, ErrorKernel> {
        Ok(Self {
            x: subir(&d.x)?,
            y: subir(&d.y)?,
            filas: d.len(),
        })
    }
}

/// A zeroed buffer of `n` elements (at least one) on the GPU.
fn ceros<T: DeviceCopy + Default>(n: usize) -> Result<DeviceBuffer<T>, ErrorKernel> {
    subir(&vec![T::default(); n.max(1)])
}

/// Everything the training keeps on the GPU, and the kernels that work on it.
struct Red<'a> {
    llamada: &'a Llamada,
    k: Kernels,
    arquitectura: &'a Arquitectura,
    ajustes: &'a Ajustes,
    entrenamiento: Conjunto,
    prueba: Conjunto,
    /// Weights and biases, their gradient, and Adam's moments (one element for SGD).
    w: DeviceBuffer<f32>,
    g: DeviceBuffer<f32>,
    m: DeviceBuffer<f32>,
    v: DeviceBuffer<f32>,
    /// A minibatch's (or an evaluation block's) rows and classes.
    entrada: DeviceBuffer<f32>,
    yb: DeviceBuffer<u32>,
    /// Each layer's output.
    salidas: Vec<DeviceBuffer<f32>>,
    delta: DeviceBuffer<f32>,
    delta_abajo: DeviceBuffer<f32>,
    /// The epoch's order (and its host copy, kept until the GPU has read it) and every
    /// visited sample's loss, in visiting order.
    orden: DeviceBuffer<u32>,
    orden_host: Vec<u32>,
    perdidas: DeviceBuffer<f32>,
    /// The accuracy's count.
    cuenta: DeviceBuffer<u32>,
}

/// Trains on the GPU: what [`super::entrenar`] reports. Without a GPU,
/// [`ErrorKernel::NoDisponible`] before the data are made.
pub(super) fn entrenar(
    p: &ParamsRedNeuronal,
    arquitectura: &Arquitectura,
    ajustes: &Ajustes,
    control: &Control,
) -> Result<Entrenamiento, ErrorKernel> {
    crate::cuda::motor()?;
    let (entrenamiento, prueba) = datos::conjuntos(p);
    let w = datos::parametros_iniciales(arquitectura, ajustes.semilla);
    let llamada = Llamada::new()?;
    let mut red = Red::new(
        &llamada,
        arquitectura,
        ajustes,
        [&entrenamiento, &prueba],
        &w,
    )?;
    let (perdida, kernel) = red.entrenar(control)?;
    let parametros = bajar(&red.w, "copying the parameters back")?;
    let tiempos = llamada.tiempos(kernel);
    let precision_entrenamiento = red.precision(&red.entrenamiento, control)?;
    let precision_prueba = red.precision(&red.prueba, control)?;
    let muestras_vistas = entrenamiento.len() as f64 * f64::from(ajustes.epocas);
    Ok(Entrenamiento {
        perdida,
        precision_entrenamiento,
        precision_prueba,
        parametros,
        muestras_vistas,
        flops: muestras_vistas * arquitectura.flops_por_muestra(),
        duracion: tiempos.kernel,
        con_copias: Some(tiempos.total),
    })
}

impl<'a> Red<'a> {
    /// Uploads the training and held-out sets and the initial parameters `w`; allocates the
    /// arrays of a minibatch (or of an evaluation block, if larger).
    fn new(
        llamada: &'a Llamada,
        arquitectura: &'a Arquitectura,
        ajustes: &'a Ajustes,
        [entrenamiento, prueba]: [&Datos; 2],
        w: &[f32],
    ) -> Result<Self, ErrorKernel> {
        let filas = ajustes.lote.max(FILAS_EVALUACION);
        let tallas = arquitectura.tallas();
        let momentos = if ajustes.adam { w.len() } else { 1 };
        let red = Self {
            llamada,
            k: Kernels::new(llamada.motor)?,
            arquitectura,
            ajustes,
            entrenamiento: Conjunto::subir(entrenamiento)?,
            prueba: Conjunto::subir(prueba)?,
            w: subir(w)?,
            g: ceros(w.len())?,
            m: ceros(momentos)?,
            v: ceros(momentos)?,
            entrada: ceros(filas * tallas[0])?,
            yb: ceros(filas)?,
            salidas: tallas[1..]
                .iter()
                .map(|t| ceros(filas * t))
                .collect::<Result<_, _>>()?,
            delta: ceros(filas * arquitectura.mayor())?,
            delta_abajo: ceros(filas * arquitectura.mayor())?,
            orden: ceros(entrenamiento.len())?,
            orden_host: Vec::new(),
            perdidas: ceros(entrenamiento.len())?,
            cuenta: ceros(1)?,
        };
        // The uploads above are synchronous copies on the legacy stream, whose last DMA may
        // still be under way when they return; the call's own stream does not wait for that
        // stream, so the whole context is waited for once before the first launch.
        CurrentContext::synchronize().map_err(fallo("finishing the uploads"))?;
        Ok(red)
    }

    /// Every epoch, in pieces of [`LOTES_POR_PIEZA`] minibatches: the mean loss of each, and
    /// the GPU's time.
    fn entrenar(
        &mut self,
        control: &Control,
    ) -> Result<(Vec<f64>, std::time::Duration), ErrorKernel> {
        let n = self.entrenamiento.filas;
        let lote = self.ajustes.lote;
        let por_epoca = n.div_ceil(lote);
        let piezas = (0..self.ajustes.epocas).flat_map(|epoca| {
            (0..por_epoca)
                .step_by(LOTES_POR_PIEZA)
                .map(move |primero| (epoca, primero, LOTES_POR_PIEZA.min(por_epoca - primero)))
        });
        let mut perdida = Vec::with_capacity(self.ajustes.epocas as usize);
        let mut pasos = 0;
        let llamada = self.llamada;
        let kernel =
            llamada.en_piezas(control, piezas, "training", |(epoca, primero, cuantos)| {
                if primero == 0 {
                    if epoca > 0 {
                        perdida.push(self.perdida_media(epoca - 1)?);
                    }
                    self.subir_orden(epoca)?;
                }
                for b in primero..primero + cuantos {
                    let filas = lote.min(n - b * lote);
                    pasos += 1;
                    self.paso(b * lote, filas, pasos)?;
                }
                Ok(())
            })?;
        perdida.push(self.perdida_media(self.ajustes.epocas - 1)?);
        Ok((perdida, kernel))
    }

    /// Queues the upload of epoch `epoca`'s order on the call's stream, after the work
    /// queued so far (which must be finished: its host copy is replaced).
    fn subir_orden(&mut self, epoca: u32) -> Result<(), ErrorKernel> {
        self.orden_host = datos::orden(self.ajustes.semilla, epoca, self.entrenamiento.filas);
        // SAFETY: the host copy lives in `self` until the next epoch, which waits for the
        // stream first (`perdida_media`), and both hold the training set's size.
        unsafe {
            self.orden
                .async_copy_from(&self.orden_host[..], &self.llamada.flujo)
        }
        .map_err(fallo("copying the epoch's order to the GPU"))
    }

    /// Waits for the queued work, then sums epoch `epoca`'s losses.
    fn perdida_media(&self, epoca: u32) -> Result<f64, ErrorKernel> {
        self.esperar()?;
        let perdidas = bajar(&self.perdidas, "copying the losses back")?;
        let suma: f64 = perdidas.iter().map(|&x| f64::from(x)).sum();
        self.ajustes.media(epoca, suma, perdidas.len())
    }

    fn esperar(&self) -> Result<(), ErrorKernel> {
        self.llamada
            .flujo
            .synchronize()
            .map_err(fallo("waiting for the GPU"))
    }

    /// Queues one training step on `filas` samples from position `desde` of the epoch's
    /// order, and the `paso`-th update.
    fn paso(&self, desde: usize, filas: usize, paso: u32) -> Result<(), ErrorKernel> {
        let d = self.arquitectura.tallas()[0];
        let flujo = &self.llamada.flujo;
        let (f, bloques) = (&self.k.reunir, self.bloques(filas * d));
        // SAFETY: reunir(const float*, const u32*, const u32*, int, int, int, float*, u32*):
        // it reads rows orden[desde..desde + filas] (below the training set's size) of x, and
        // writes filas·d floats and filas classes, within the minibatch arrays.
        unsafe {
            launch!(f<<<bloques, HILOS, 0, flujo>>>(
                self.entrenamiento.x.as_device_ptr(),
                self.entrenamiento.y.as_device_ptr(),
                self.orden.as_device_ptr(),
                desde as i32,
                filas as i32,
                d as i32,
                self.entrada.as_device_ptr(),
                self.yb.as_device_ptr()
            ))
        }
        .map_err(fallo("launching reunir"))?;
        self.hacia_delante(self.entrada.as_device_ptr(), filas)?;
        self.softmax(desde, filas)?;
        self.hacia_atras(filas)?;
        self.actualizar(paso)
    }

    /// Queues the forward pass of `filas` rows at `x`.
    fn hacia_delante(&self, x: DevicePointer<f32>, filas: usize) -> Result<(), ErrorKernel> {
        let capas = self.arquitectura.capas();
        for (l, capa) in capas.iter().enumerate() {
            let entrada = if l == 0 {
                x
            } else {
                self.salidas[l - 1].as_device_ptr()
            };
            let z = self.salidas[l].as_device_ptr();
            let pesos = self.w.as_device_ptr().wrapping_add(capa.desde);
            let forma = (filas, capa.salida, capa.entrada);
            self.producto(Forma::Nn, forma, entrada, pesos, z)?;
            let sesgos = self.w.as_device_ptr().wrapping_add(capa.sesgos().start);
            let relu = i32::from(l + 1 < capas.len());
            let (f, flujo) = (&self.k.sesgo_relu, &self.llamada.flujo);
            let bloques = self.bloques(filas * capa.salida);
            // SAFETY: sesgo_relu(float*, const float*, int, int, int) updates filas·salida
            // floats of this layer's output and reads salida biases inside w.
            unsafe {
                launch!(f<<<bloques, HILOS, 0, flujo>>>(
                    z,
                    sesgos,
                    filas as i32,
                    capa.salida as i32,
                    relu
                ))
            }
            .map_err(fallo("launching sesgo_relu"))?;
        }
        Ok(())
    }

    /// Queues the loss and its gradient for the minibatch at position `desde` of the epoch.
    fn softmax(&self, desde: usize, filas: usize) -> Result<(), ErrorKernel> {
        let clases = *self.arquitectura.tallas().last().expect("an output layer");
        let logits = self.salidas[self.salidas.len() - 1].as_device_ptr();
        let (f, flujo) = (&self.k.softmax_entropia, &self.llamada.flujo);
        let bloques = (filas as u32).div_ceil(HILOS);
        // SAFETY: softmax_entropia(const float*, const u32*, int, int, float, float*, float*)
        // reads filas·clases logits and filas classes, writes filas·clases of delta (which
        // holds filas × the widest layer) and filas losses from position desde of the
        // training set's losses (desde + filas ≤ its size).
        unsafe {
            launch!(f<<<bloques, HILOS, 0, flujo>>>(
                logits,
                self.yb.as_device_ptr(),
                filas as i32,
                clases as i32,
                1.0f32 / filas as f32,
                self.delta.as_device_ptr(),
                self.perdidas.as_device_ptr().wrapping_add(desde)
            ))
        }
        .map_err(fallo("launching softmax_entropia"))
    }

    /// Queues the backward pass: every layer's gradient into `g`.
    fn hacia_atras(&self, filas: usize) -> Result<(), ErrorKernel> {
        let (mut delta, mut abajo) = (self.delta.as_device_ptr(), self.delta_abajo.as_device_ptr());
        for (l, capa) in self.arquitectura.capas().iter().enumerate().rev() {
            let x = if l == 0 {
                self.entrada.as_device_ptr()
            } else {
                self.salidas[l - 1].as_device_ptr()
            };
            let pesos = self.g.as_device_ptr().wrapping_add(capa.desde);
            self.producto(
                Forma::Tn,
                (capa.entrada, capa.salida, filas),
                x,
                delta,
                pesos,
            )?;
            self.sumar_columnas(delta, filas, capa.salida, capa.sesgos().start)?;
            if l > 0 {
                let w = self.w.as_device_ptr().wrapping_add(capa.desde);
                self.producto(
                    Forma::Nt,
                    (filas, capa.entrada, capa.salida),
                    delta,
                    w,
                    abajo,
                )?;
                self.mascara(abajo, x, filas * capa.entrada)?;
                std::mem::swap(&mut delta, &mut abajo);
            }
        }
        Ok(())
    }

    /// Queues the biases' gradient of a layer of `n` outputs: `g[desde..]`.
    fn sumar_columnas(
        &self,
        delta: DevicePointer<f32>,
        filas: usize,
        n: usize,
        desde: usize,
    ) -> Result<(), ErrorKernel> {
        let (f, flujo) = (&self.k.sumar_columnas, &self.llamada.flujo);
        let bloques = (n as u32).div_ceil(HILOS);
        let salida = self.g.as_device_ptr().wrapping_add(desde);
        // SAFETY: sumar_columnas(const float*, int, int, float*) reads filas·n floats of delta
        // and writes n floats of g from this layer's biases on.
        unsafe { launch!(f<<<bloques, HILOS, 0, flujo>>>(delta, filas as i32, n as i32, salida)) }
            .map_err(fallo("launching sumar_columnas"))
    }

    /// Queues the ReLU mask of `total` gradient entries by the layer output `a`.
    fn mascara(
        &self,
        delta: DevicePointer<f32>,
        a: DevicePointer<f32>,
        total: usize,
    ) -> Result<(), ErrorKernel> {
        let (f, flujo, bloques) = (
            &self.k.mascara_relu,
            &self.llamada.flujo,
            self.bloques(total),
        );
        // SAFETY: mascara_relu(float*, const float*, int) touches `total` floats of each, both
        // arrays holding at least that many.
        unsafe { launch!(f<<<bloques, HILOS, 0, flujo>>>(delta, a, total as i32)) }
            .map_err(fallo("launching mascara_relu"))
    }

    /// Queues the `paso`-th update of every parameter.
    fn actualizar(&self, paso: u32) -> Result<(), ErrorKernel> {
        let n = self.w.len();
        let (flujo, bloques) = (&self.llamada.flujo, self.bloques(n));
        let (w, g) = (self.w.as_device_ptr(), self.g.as_device_ptr());
        let tasa = self.ajustes.tasa;
        if !self.ajustes.adam {
            let f = &self.k.sgd;
            // SAFETY: sgd(float*, const float*, int, float) over the n parameters.
            return unsafe { launch!(f<<<bloques, HILOS, 0, flujo>>>(w, g, n as i32, tasa)) }
                .map_err(fallo("launching sgd"));
        }
        let (c1, c2) = correcciones(paso);
        let (f, m, v) = (&self.k.adam, self.m.as_device_ptr(), self.v.as_device_ptr());
        // SAFETY: adam(float*, const float*, float*, float*, int, float, float, float) over
        // the n parameters; with Adam, m and v hold n floats.
        unsafe { launch!(f<<<bloques, HILOS, 0, flujo>>>(w, g, m, v, n as i32, tasa, c1, c2)) }
            .map_err(fallo("launching adam"))
    }

    /// Queues `C = op(A)·op(B)` (see `producto.rs`).
    fn producto(
        &self,
        forma: Forma,
        (m, n, k): (usize, usize, usize),
        a: DevicePointer<f32>,
        b: DevicePointer<f32>,
        c: DevicePointer<f32>,
    ) -> Result<(), ErrorKernel> {
        let f = match forma {
            Forma::Nn => &self.k.producto[0],
            Forma::Tn => &self.k.producto[1],
            Forma::Nt => &self.k.producto[2],
        };
        let flujo = &self.llamada.flujo;
        let rejilla = ((n as u32).div_ceil(TESELA), (m as u32).div_ceil(TESELA));
        // SAFETY: producto_{nn,tn,nt}(const float*, const float*, float*, int, int, int), 256
        // threads a block: reads op(A) (m×k) and op(B) (k×n), writes C (m×n), all inside
        // their arrays, which the caller sized for these shapes.
        unsafe { launch!(f<<<rejilla, 256, 0, flujo>>>(a, b, c, m as i32, n as i32, k as i32)) }
            .map_err(fallo("launching a product"))
    }

    /// Blocks of a grid-stride launch over `total` elements.
    fn bloques(&self, total: usize) -> u32 {
        self.llamada.motor.bloques(total as u64)
    }

    /// The fraction of `conjunto` the trained network classifies right, in blocks of the
    /// arrays' rows (`control` checked before each).
    fn precision(&self, conjunto: &Conjunto, control: &Control) -> Result<f64, ErrorKernel> {
        let filas_bloque = self.ajustes.lote.max(FILAS_EVALUACION);
        let d = self.arquitectura.tallas()[0];
        let clases = *self.arquitectura.tallas().last().expect("an output layer");
        let cuenta = self.cuenta.as_device_ptr();
        // SAFETY: one u32 of `self.cuenta`, zeroed on the call's stream before the launches
        // that add to it.
        unsafe { DeviceSlice::from_raw_parts_mut(cuenta, 1).set_zero_async(&self.llamada.flujo) }
            .map_err(fallo("zeroing the count"))?;
        for desde in (0..conjunto.filas).step_by(filas_bloque) {
            control.comprobar()?;
            let filas = filas_bloque.min(conjunto.filas - desde);
            self.hacia_delante(conjunto.x.as_device_ptr().wrapping_add(desde * d), filas)?;
            let logits = self.salidas[self.salidas.len() - 1].as_device_ptr();
            let y = conjunto.y.as_device_ptr().wrapping_add(desde);
            let (f, flujo) = (&self.k.aciertos, &self.llamada.flujo);
            let bloques = (filas as u32).div_ceil(HILOS);
            // SAFETY: aciertos(const float*, const u32*, int, int, u32*) reads filas rows of
            // logits and classes, adds to the one counter.
            unsafe {
                launch!(f<<<bloques, HILOS, 0, flujo>>>(logits, y, filas as i32, clases as i32, cuenta))
            }
            .map_err(fallo("launching aciertos"))?;
        }
        self.esperar()?;
        let bien = bajar(&self.cuenta, "copying the count back")?[0];
        Ok(f64::from(bien) / conjunto.filas.max(1) as f64)
    }
}
