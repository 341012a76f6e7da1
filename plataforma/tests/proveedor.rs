//! reqwest 0.13 built without aws-lc-rs panics on `Client::new()` in a process with no rustls
//! provider. Linking `plataforma` installs `ring` before `main`, so a bare client works even when
//! nothing of `plataforma` ran yet (this file's only test, so no other test installed it).

#[test]
fn a_bare_reqwest_client_builds_before_anything_of_arranque_runs() {
    // Keep the crate linked without calling anything that installs the provider.
    std::hint::black_box(
        plataforma::acceso::iguales_en_tiempo_constante as fn(&[u8], &[u8]) -> bool,
    );
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_some(),
        "no rustls provider installed before main"
    );
    let _ = reqwest::Client::new();
}
