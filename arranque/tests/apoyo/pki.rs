//! A throwaway CA and a server certificate it signed, made with rcgen at test time. The tests
//! of other crates include this file (`#[path = "../../arranque/tests/apoyo/pki.rs"]`); they
//! need `rcgen` and `tempfile` as dev-dependencies.
#![allow(dead_code)]

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// PEM files of a CA, a server certificate it signed for `localhost` and `127.0.0.1`, and the
/// server's key, in a temporary folder.
pub struct Pki {
    pub carpeta: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
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
