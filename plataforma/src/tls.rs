//! TLS with rustls and its `ring` provider: a server's certificate and key ([`Tls`]), the CA
//! its clients trust ([`Ca`]), and the one builder of every HTTP client ([`cliente_http`]).
//!
//! Files are read once, at start, and every error names the file: unreadable, no certificate
//! or no key in it, a key that does not match the certificate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How long a client keeps an idle connection for reuse: less than the shortest time a server
/// keeps one open (`--plazo-cabeceras-ms`, at least 5 s), so a client never sends a request
/// on a connection the server is closing.
pub const INACTIVIDAD_CLIENTE: Duration = Duration::from_secs(4);

/// Makes `ring` the process's rustls provider, unless one is installed already.
///
/// reqwest 0.13 without its aws-lc-rs default panics when a client is built in a process with
/// no provider ("No provider set"), even for plain http. So this runs before `main` in every
/// program that links this crate (every service, `cliente`, their tests), and again, harmlessly,
/// from [`cliente_http`] and [`Tls::cargar`] where constructors do not run.
pub fn instalar_proveedor_tls() {
    static INSTALADO: OnceLock<()> = OnceLock::new();
    INSTALADO.get_or_init(|| {
        // An error means another provider was installed first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

// SAFETY (life before main): it only allocates and sets rustls' `OnceLock`; no I/O, no
// thread-locals, nothing of the runtime.
#[ctor::ctor(unsafe)]
fn instalar_al_cargar() {
    instalar_proveedor_tls();
}

fn proveedor() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server's TLS identity: its certificate chain and private key, loaded and checked.
///
/// Two values are equal when they were loaded from the same files.
#[derive(Clone)]
pub struct Tls {
    /// The PEM file of the certificate chain (leaf first).
    cert: PathBuf,
    /// The PEM file of the private key.
    clave: PathBuf,
    /// What the acceptor uses: the chain, the key, HTTP/1.1 by ALPN.
    pub(crate) config: Arc<rustls::ServerConfig>,
}

impl Tls {
    /// Loads the certificate chain in `cert` and the private key in `clave` (PEM files) and
    /// checks that they belong together.
    pub fn cargar(cert: &Path, clave: &Path) -> anyhow::Result<Self> {
        instalar_proveedor_tls();
        let cadena = leer_certificados(cert, "TLS certificate")?;
        let texto = leer(clave, "TLS key")?;
        let llave = PrivateKeyDer::from_pem_slice(&texto).map_err(|e| match e {
            pem::Error::NoItemsFound => anyhow!(
                "the TLS key file {} holds no private key (expected a PEM block \
                 `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY` or `BEGIN EC PRIVATE KEY`)",
                clave.display()
            ),
            e => anyhow!("the TLS key file {} is not valid PEM: {e}", clave.display()),
        })?;
        let mut config = rustls::ServerConfig::builder_with_provider(proveedor())
            .with_safe_default_protocol_versions()
            .context("rustls supports no TLS version")?
            .with_no_client_auth()
            .with_single_cert(cadena, llave)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => anyhow!(
                    "the TLS key in {} does not match the certificate in {}",
                    clave.display(),
                    cert.display()
                ),
                e => anyhow!(
                    "cannot use the TLS certificate {} with the key {}: {e}",
                    cert.display(),
                    clave.display()
                ),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            cert: cert.to_owned(),
            clave: clave.to_owned(),
            config: Arc::new(config),
        })
    }

    /// The PEM file of the certificate chain.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    /// The PEM file of the private key.
    pub fn clave(&self) -> &Path {
        &self.clave
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("cert", &self.cert)
            .field("clave", &self.clave)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Tls {
    fn eq(&self, otro: &Self) -> bool {
        self.cert == otro.cert && self.clave == otro.clave
    }
}

impl Eq for Tls {}

/// The certificates of a cluster's own CA, which its clients trust besides the system's roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ca {
    /// The PEM file they were read from.
    ruta: PathBuf,
    /// Every certificate in it, each usable as a trust anchor.
    certificados: Vec<CertificateDer<'static>>,
}

impl Ca {
    /// Reads every certificate of the PEM file `ruta`; each must be usable as a trust anchor.
    pub fn cargar(ruta: &Path) -> anyhow::Result<Self> {
        let certificados = leer_certificados(ruta, "CA certificate")?;
        let mut raices = rustls::RootCertStore::empty();
        for (i, c) in certificados.iter().enumerate() {
            raices.add(c.clone()).map_err(|e| {
                anyhow!(
                    "certificate {} of the CA file {} cannot be a trust anchor: {e}",
                    i + 1,
                    ruta.display()
                )
            })?;
        }
        Ok(Self {
            ruta: ruta.to_owned(),
            certificados,
        })
    }

    /// [`Ca::cargar`] as a clap value parser: `--ca PEM`.
    pub fn de_argumento(texto: &str) -> Result<Self, String> {
        Self::cargar(Path::new(texto)).map_err(|e| format!("{e:#}"))
    }

    /// The PEM file.
    pub fn ruta(&self) -> &Path {
        &self.ruta
    }
}

/// The builder of every HTTP client of the cluster (maestro to esclavos, esclavo and memoria
/// to the maestro, `cliente`): rustls with `ring`, trusting the system's roots and `ca`, and
/// idle connections dropped after [`INACTIVIDAD_CLIENTE`]. Callers add their own timeouts.
pub fn cliente_http(ca: Option<&Ca>) -> reqwest::ClientBuilder {
    instalar_proveedor_tls();
    let propias = ca.into_iter().flat_map(|ca| &ca.certificados);
    let raices = raices_del_sistema()
        .iter()
        .chain(propias)
        .map(|der| reqwest::Certificate::from_der(der).expect("from_der only copies the bytes"));
    reqwest::Client::builder()
        .pool_idle_timeout(INACTIVIDAD_CLIENTE)
        .tls_certs_only(raices)
}

/// The system's root certificates (`SSL_CERT_FILE`, `SSL_CERT_DIR` or the usual bundle), read
/// once; those that cannot be trust anchors are left out. None on a system without a bundle:
/// then only `--ca` is trusted.
fn raices_del_sistema() -> &'static [CertificateDer<'static>] {
    static RAICES: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    RAICES.get_or_init(|| {
        let cargadas = rustls_native_certs::load_native_certs();
        for e in &cargadas.errors {
            tracing::debug!(error = %e, "a system root certificate could not be read");
        }
        let mut prueba = rustls::RootCertStore::empty();
        cargadas
            .certs
            .into_iter()
            .filter(|c| prueba.add(c.clone()).is_ok())
            .collect()
    })
}

fn leer(ruta: &Path, que: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(ruta).with_context(|| format!("cannot read the {que} file {}", ruta.display()))
}

/// Every certificate of a PEM file; none is an error naming the file.
fn leer_certificados(ruta: &Path, que: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let texto = leer(ruta, que)?;
    let certificados = CertificateDer::pem_slice_iter(&texto)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("the {que} file {} is not valid PEM: {e}", ruta.display()))?;
    if certificados.is_empty() {
        bail!(
            "the {que} file {} holds no certificate (expected a PEM block `BEGIN CERTIFICATE`)",
            ruta.display()
        );
    }
    Ok(certificados)
}
