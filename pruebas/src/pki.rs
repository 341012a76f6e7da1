//! A throwaway CA and a server certificate it signed, made with rcgen at test time, for the
//! TLS tests.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// PEM files of a CA, a server certificate it signed for `localhost` and `127.0.0.1`, and the
/// server's key, in a temporary folder.
pub struct Pki {
    /// The folder holding the files; removed when the `Pki` is dropped.
    pub carpeta: tempfile::TempDir,
    /// The CA's certificate.
    pub ca: PathBuf,
    /// The server's certificate, signed by the CA.
    pub cert: PathBuf,
    /// The server's private key.
    pub clave: PathBuf,
}

/// A fresh [`Pki`].
pub fn pki() -> Pki {
    let carpeta = tempfile::tempdir().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "CA de prueba del cluster");
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    let clave = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = p.signed_by(&clave, &ca).unwrap();
    let escribir = |nombre: &str, texto: String| {
        let ruta = carpeta.path().join(nombre);
        std::fs::write(&ruta, texto).unwrap();
        ruta
    };
    Pki {
        ca: escribir("ca.pem", ca.pem()),
        cert: escribir("cert.pem", cert.pem()),
        clave: escribir("clave.pem", clave.serialize_pem()),
        carpeta,
    }
}
