//! The flags of `cliente trabajo` ([`ArgsTrabajo`]): every kernel's parameters, the request
//! they make ([`ArgsTrabajo::peticion`]), and the help that lists each tipo's parameters with
//! their defaults and limits ([`ayuda`]), written from the limits `comun` enforces.

use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use comun::api::PeticionTrabajo;
use comun::trabajo::{
    AlgoritmoPedido, Conjunto, Filtro, MAX_CAPAS, MAX_CLASES, MAX_DATOS, MAX_DIMENSIONES,
    MAX_EPOCAS, MAX_ESPERA_MS, MAX_FILTROS, MAX_FLOTANTES_LOTE, MAX_ITERACIONES,
    MAX_ITERACIONES_KMEANS, MAX_K, MAX_LADO, MAX_MUESTRAS, MAX_MUESTRAS_KMEANS, MAX_MUESTRAS_RED,
    MAX_N_AUTOVALORES, MAX_N_MATMUL, MAX_N_VECTOR, MAX_NEURONAS, MAX_PARTICULAS, MAX_PASOS,
    MAX_PIXELES, MAX_PUNTOS_FFT, MAX_REPETICIONES, MAX_SIGMA, MAX_TASA, Optimizador,
    ParamsAutovalores, ParamsFft, ParamsImagen, ParamsKmeans, ParamsRedNeuronal,
};
use comun::{Prioridad, Tipo};

/// Flags of `trabajo`.
#[derive(Debug, Args)]
pub struct ArgsTrabajo {
    /// Kernel: julia, espera, matmul, vector_add, montecarlo, nbody, red_neuronal (alias
    /// neural_network), imagen (image_processing), fft, autovalores (eigenvalue) or kmeans
    /// (kmeans_clustering). Each one's flags, defaults and limits are listed below
    /// [default: julia].
    #[arg(long)]
    pub tipo: Option<Tipo>,
    /// Secuencial, Paralelo, Cuda or Auto (the maestro picks Cuda when a GPU esclavo is free
    /// and the tipo has a GPU version); Numpy and juliaCython mean Paralelo, and the job keeps
    /// the name asked for (algoritmo_pedido) [default: Paralelo; Auto with --job-type].
    #[arg(long)]
    pub algoritmo: Option<AlgoritmoPedido>,
    /// The GPU cluster's job type instead of --tipo: matrix-multiply, vector-add,
    /// monte-carlo, neural-network, image-processing, fft, eigenvalue, kmeans-clustering (or
    /// with underscores). Runs on a GPU when one is free, unless --cpu.
    #[arg(long, value_name = "JOB_TYPE", conflicts_with = "tipo")]
    pub job_type: Option<String>,
    /// The GPU cluster's size: n of matmul, vector_add, fft, autovalores; muestras of
    /// montecarlo, kmeans, red_neuronal; both sides of an image; particulas of nbody.
    #[arg(long)]
    pub size: Option<u64>,
    /// Run on a CPU backend (Paralelo): the GPU cluster's --cpu.
    #[arg(long, conflicts_with = "algoritmo")]
    pub cpu: bool,
    /// Image width in pixels (julia; imagen's generated image).
    #[arg(long)]
    pub width: Option<u32>,
    /// Image height in pixels (julia; imagen's generated image).
    #[arg(long)]
    pub height: Option<u32>,
    /// Iterations per pixel (julia); repetitions (matmul, vector_add); Lloyd steps (kmeans).
    #[arg(long)]
    pub iteraciones: Option<u32>,
    /// Milliseconds to sleep (espera).
    #[arg(long)]
    pub ms: Option<u64>,
    /// Matrix side (matmul, autovalores), vector length (vector_add), signal length or rows
    /// (fft).
    #[arg(long)]
    pub n: Option<u64>,
    /// Columns of a 2-D FFT; 1: a 1-D transform of length --n (fft).
    #[arg(long)]
    pub m: Option<u32>,
    /// Points to draw (montecarlo); points of the data set (kmeans, red_neuronal).
    #[arg(long)]
    pub muestras: Option<u64>,
    /// Coordinates of each point (kmeans); inputs of the network (red_neuronal).
    #[arg(long)]
    pub dimensiones: Option<u32>,
    /// Clusters (kmeans).
    #[arg(long)]
    pub k: Option<u32>,
    /// Seed of the random numbers [default: 0 for montecarlo and nbody, 1 for the others].
    #[arg(long)]
    pub semilla: Option<u64>,
    /// Bodies (nbody).
    #[arg(long)]
    pub particulas: Option<u32>,
    /// Steps (nbody).
    #[arg(long)]
    pub pasos: Option<u32>,
    /// Hidden layer sizes, comma-separated: 128,64; `ninguna` for none (red_neuronal).
    #[arg(long, value_name = "N,N,...")]
    pub capas: Option<Capas>,
    /// Training epochs (red_neuronal).
    #[arg(long)]
    pub epocas: Option<u32>,
    /// Minibatch size (red_neuronal).
    #[arg(long)]
    pub lote: Option<u32>,
    /// Learning rate (red_neuronal).
    #[arg(long)]
    pub tasa: Option<f32>,
    /// sgd or adam (red_neuronal).
    #[arg(long)]
    pub optimizador: Option<Optimizador>,
    /// The synthetic set: blobs or espirales (red_neuronal).
    #[arg(long)]
    pub conjunto: Option<Conjunto>,
    /// Classes of the set, outputs of the network (red_neuronal).
    #[arg(long)]
    pub clases: Option<u32>,
    /// The chain, in order, comma-separated: desenfoque, sobel, enfocar, grises (or blur,
    /// edges, sharpen, grayscale) (imagen).
    #[arg(long, value_delimiter = ',', value_name = "FILTRO,...")]
    pub filtros: Option<Vec<Filtro>>,
    /// Gaussian sigma of desenfoque, in pixels (imagen).
    #[arg(long)]
    pub sigma: Option<f32>,
    /// A PNG file to filter instead of a generated image (uploaded first), or the id of one
    /// uploaded before (imagen).
    #[arg(long, value_name = "PNG|ID")]
    pub entrada: Option<Entrada>,
    /// 1 (alta), 2 (media) or 3 (baja); or alta, media, baja.
    #[arg(long, default_value = "2")]
    pub prioridad: Prioridad,
    /// Time limit of each attempt, in seconds (1 to 604800); the maestro's default
    /// (--plazo-trabajo-s) when absent. An attempt past it is stopped and retried.
    #[arg(long, value_name = "SEGUNDOS")]
    pub plazo_s: Option<u64>,
    /// Wait until it finishes and print its result (a spinner shows why it waits; Ctrl-C stops
    /// waiting and leaves the job queued).
    #[arg(long)]
    pub esperar: bool,
    /// Save the PNG of the finished job here (julia, imagen; implies --esperar).
    #[arg(long, value_name = "PNG")]
    pub imagen: Option<PathBuf>,
}

/// `--entrada`: an uploaded image's id (a whole number), or a PNG file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entrada {
    Id(u64),
    Archivo(PathBuf),
}

impl FromStr for Entrada {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.parse() {
            Ok(id) => Entrada::Id(id),
            Err(_) => Entrada::Archivo(s.into()),
        })
    }
}

/// `--capas`: layer sizes separated by commas, or `ninguna` (no hidden layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capas(pub Vec<u32>);

impl FromStr for Capas {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("ninguna") {
            return Ok(Capas(Vec::new()));
        }
        s.split(',')
            .map(|c| {
                c.trim()
                    .parse()
                    .map_err(|_| format!("'{c}' is not a layer size (a whole number)"))
            })
            .collect::<Result<_, _>>()
            .map(Capas)
    }
}

impl ArgsTrabajo {
    /// The job request these flags make (the maestro validates it; so does `validar`), its
    /// `entrada` the id `--entrada` gave, or `subida` (the id of the file it named, uploaded).
    pub fn peticion(&self, subida: Option<u64>) -> PeticionTrabajo {
        PeticionTrabajo {
            tipo: self.tipo,
            algoritmo: self.algoritmo,
            width: self.width,
            height: self.height,
            iteraciones: self.iteraciones,
            ms: self.ms,
            n: self.n,
            m: self.m,
            muestras: self.muestras,
            dimensiones: self.dimensiones,
            k: self.k,
            semilla: self.semilla,
            particulas: self.particulas,
            pasos: self.pasos,
            capas: self.capas.clone().map(|c| c.0),
            epocas: self.epocas,
            lote: self.lote,
            tasa: self.tasa,
            optimizador: self.optimizador,
            conjunto: self.conjunto,
            clases: self.clases,
            image_size: None,
            filtros: self.filtros.clone(),
            sigma: self.sigma,
            entrada: match &self.entrada {
                Some(Entrada::Id(id)) => Some(*id),
                _ => subida,
            },
            prioridad: Some(self.prioridad),
            plazo_s: self.plazo_s,
            job_type: self.job_type.clone(),
            size: self.size,
            prefer_gpu: self.cpu.then_some(false),
        }
    }
}

/// The line saying which tipos have no GPU version, if any.
fn sin_gpu() -> String {
    let sin: Vec<&str> = Tipo::TODOS
        .into_iter()
        .filter(|t| !t.tiene_cuda())
        .map(Tipo::nombre)
        .collect();
    if sin.is_empty() {
        return String::new();
    }
    format!(
        "\nNo GPU version (Cuda is refused, Auto runs them on a CPU): {}.\n",
        sin.join(", ")
    )
}

/// The help after the flags: each tipo's flags, with their defaults and limits.
pub fn ayuda() -> String {
    let fft = ParamsFft::default();
    let av = ParamsAutovalores::default();
    let km = ParamsKmeans::default();
    let red = ParamsRedNeuronal::default();
    let im = ParamsImagen::default();
    use comun::trabajo::parametros::lista;
    format!(
        "\
Each tipo's flags (a flag of another tipo is refused, naming it):

  julia        --width --height (1..={MAX_LADO}, width × height ≤ {MAX_PIXELES})
               --iteraciones (1..={MAX_ITERACIONES}); all three required
  espera       --ms (0..={MAX_ESPERA_MS}), required
  matmul       --n (1..={MAX_N_MATMUL}) --iteraciones (1..={MAX_REPETICIONES}), required
  vector_add   --n (1..={MAX_N_VECTOR}) --iteraciones (1..={MAX_REPETICIONES}), required
  montecarlo   --muestras (1..={MAX_MUESTRAS}), required; --semilla [0]
  nbody        --particulas (1..={MAX_PARTICULAS}) --pasos (1..={MAX_PASOS}), required; --semilla [0]

The catalogue's kernels: every flag is optional, [default] in brackets, so `--tipo fft` alone
is a job of about a second on one core.

  fft          --n [{fn_}] --m [{fm}] --semilla [{fs}]; any sizes (primes too), n × m ≤ {MAX_PUNTOS_FFT}
  autovalores  --n [{avn}] (1..={MAX_N_AUTOVALORES}) --semilla [{avs}]
  kmeans       --muestras [{kmm}] (1..={MAX_MUESTRAS_KMEANS}) --dimensiones [{kmd}] (1..={MAX_DIMENSIONES}),
               muestras × dimensiones ≤ {MAX_DATOS}; --k [{kmk}] (1..={MAX_K}, ≤ muestras)
               --iteraciones [{kmi}] (1..={MAX_ITERACIONES_KMEANS}) --semilla [{kms}]
  red_neuronal --capas [{rc}] (0..={MAX_CAPAS} layers of 1..={MAX_NEURONAS}) --epocas [{re}] (1..={MAX_EPOCAS})
               --lote [{rl}] (1..=muestras; lote × values per point ≤ {MAX_FLOTANTES_LOTE})
               --tasa [{rt}] ((0, {MAX_TASA}]) --optimizador [{ro}] (sgd, adam)
               --conjunto [{rj}] (blobs, espirales) --muestras [{rm}] (2..={MAX_MUESTRAS_RED}, 20% held out)
               --dimensiones [{rd}] (espirales: 2; blobs: 2..={MAX_DIMENSIONES}) --clases [{rk}] (2..={MAX_CLASES})
               --semilla [{rs}]
  imagen       --width --height [{iw}×{ih}] (as julia's) --filtros [{ifl}] (1..={MAX_FILTROS} of
               desenfoque, sobel, enfocar, grises) --sigma [{isg}] ((0, {MAX_SIGMA}])
               --entrada PNG|ID (a PNG file, uploaded first, or an uploaded image's id, instead
               of the generated image)
{sin_gpu}
The original system's names work too: --tipo neural_network, image_processing, eigenvalue,
kmeans_clustering (and, in JSON and jobs files, size, n_samples, n_features, n_clusters,
iterations, hidden_size, epochs, batch_size, learning_rate, input_size, output_size,
image_size).

Examples:
  cliente trabajo --tipo fft --esperar
  cliente trabajo --tipo fft --n 4096 --m 4096 --algoritmo Auto --esperar
  cliente trabajo --tipo kmeans --muestras 1000000 --k 16 --algoritmo Secuencial
  cliente trabajo --tipo red_neuronal --capas 128,64 --optimizador sgd --tasa 0.1 --esperar
  cliente trabajo --tipo imagen --width 2048 --height 2048 --filtros grises,sobel --imagen bordes.png",
        fn_ = fft.n,
        fm = fft.m,
        fs = fft.semilla,
        avn = av.n,
        avs = av.semilla,
        kmm = km.muestras,
        kmd = km.dimensiones,
        kmk = km.k,
        kmi = km.iteraciones,
        kms = km.semilla,
        rc = lista(&red.capas),
        re = red.epocas,
        rl = red.lote,
        rt = red.tasa,
        ro = red.optimizador,
        rj = red.conjunto,
        rm = red.muestras,
        rd = red.dimensiones,
        rk = red.clases,
        rs = red.semilla,
        iw = im.width,
        ih = im.height,
        ifl = lista(&im.filtros),
        isg = im.sigma,
        sin_gpu = sin_gpu(),
    )
}
