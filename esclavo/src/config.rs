//! What an esclavo needs to know to start: where the maestro is, who it is, how much it takes.

use std::time::Duration;

use comun::nodo::Gpu;

/// Port an esclavo listens on when none is given.
pub const PUERTO_POR_DEFECTO: u16 = 5011;

/// The maestro an esclavo reports to when neither `--maestro` nor `MAESTRO_IP` says.
pub const MAESTRO_POR_DEFECTO: &str = "http://127.0.0.1:5001";

/// Heartbeat period when none is given.
pub const LATIDO_POR_DEFECTO: Duration = Duration::from_secs(2);

/// How long a stopping esclavo (SIGTERM) lets its running jobs finish when none is given:
/// under Kubernetes' default 30 s between SIGTERM and SIGKILL, with room to hand the rest back.
pub const GRACIA_POR_DEFECTO: Duration = Duration::from_secs(20);

/// `Cuda` jobs each GPU runs at once when none is given: one, so a job has the device to
/// itself and its kernel time is its own.
pub const RANURAS_POR_GPU: u32 = 1;

/// Settings of one esclavo process. `main.rs` fills it from flags and environment; tests and
/// `cliente local` build it directly, usually with [`Config::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Base URL of the maestro (`http://127.0.0.1:5001`), without a trailing path.
    pub maestro: String,
    /// Name of this esclavo, unique in the cluster: results and heartbeats are signed with it.
    pub nombre: String,
    /// How the maestro reaches this esclavo; `None` derives it from the bound address.
    pub url_publica: Option<String>,
    /// How many jobs may run at once; further jobs are refused as busy.
    pub capacidad: u32,
    /// How many `Cuda` jobs each GPU runs at once (each also takes one of `capacidad`).
    pub ranuras_por_gpu: u32,
    /// The GPUs to offer: `None` detects them (every device the `Cuda` backend can use);
    /// `Some` offers exactly these, as described. The test seam of registration and device
    /// choice, on machines with any number of GPUs or none: the kernels still run on the
    /// real devices, so a described GPU that is not there fails its `Cuda` jobs, saying why.
    pub gpus: Option<Vec<Gpu>>,
    /// The host this esclavo runs on, so the maestro can apply memoria alerts of that host.
    pub nodo: String,
    /// Bearer token expected on every request but `GET /ping` and sent to the maestro; `None`
    /// disables both.
    pub token: Option<String>,
    /// Whether reads (`GET /estado`) pass without the token.
    pub lecturas_abiertas: bool,
    /// How the API is served: plain HTTP or TLS (then the default URL says `https://`), and
    /// the limits of each connection.
    pub transporte: plataforma::Transporte,
    /// The cluster's CA, trusted when calling the maestro over https.
    pub ca: Option<plataforma::Ca>,
    /// Heartbeat period (the maestro's requested period wins when it is shorter).
    pub latido: Duration,
    /// On shutdown, how long running jobs may go on finishing before they are handed back to
    /// the maestro ([`crate::drenaje`]); zero hands them back at once.
    pub gracia: Duration,
}

impl Config {
    /// A config with the defaults of the command line: one slot per core (and one per GPU for
    /// `Cuda` jobs, GPUs detected), this host's name as the node, no token, a heartbeat every
    /// two seconds, 20 s of grace at shutdown, the URL taken from the bound address.
    pub fn new(maestro: impl Into<String>, nombre: impl Into<String>) -> Self {
        Self {
            maestro: maestro.into(),
            nombre: nombre.into(),
            url_publica: None,
            capacidad: nucleos(),
            ranuras_por_gpu: RANURAS_POR_GPU,
            gpus: None,
            nodo: nombre_de_host(),
            token: None,
            lecturas_abiertas: false,
            transporte: plataforma::Transporte::default(),
            ca: None,
            latido: LATIDO_POR_DEFECTO,
            gracia: GRACIA_POR_DEFECTO,
        }
    }
}

/// Cores this process may use (at least 1).
pub fn nucleos() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// This host's name, or `localhost` where the system does not say.
pub fn nombre_de_host() -> String {
    sysinfo::System::host_name()
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
