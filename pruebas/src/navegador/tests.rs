//! Tests of the browser harness against small pages of its own (data: URLs).

use super::*;

/// A page with a button that logs, and one that throws after a click.
const PAGINA: &str = "data:text/html,<title>t</title><p id=p>hola</p>\
    <button id=b onclick=\"document.getElementById('p').textContent='adios'\">b</button>\
    <button id=x onclick=\"console.error('mal'); throw new Error('roto')\">x</button>\
    <input id=i>";

#[test]
fn a_page_is_driven_waited_for_and_photographed() {
    let n = Navegador::lanzar("navegador");
    let p = n.pagina();
    p.ir(PAGINA);
    assert_eq!(p.texto("#p").as_deref(), Some("hola"));
    assert_eq!(p.contar("button"), 2);
    p.clic("#b");
    p.esperar_texto(PLAZO_CARGA, "#p", "says adios", |t| t == "adios");
    p.escribir("#i", "abc");
    assert_eq!(
        p.evaluar("document.getElementById('i').value"),
        Ok("abc".into())
    );
    p.sin_errores();
    let png = std::fs::read(p.captura("datos")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn console_errors_and_uncaught_exceptions_are_recorded() {
    let n = Navegador::lanzar("navegador");
    let p = n.pagina();
    p.ir(PAGINA);
    p.clic("#x");
    let errores = p.esperar_errores(PLAZO_CARGA, 2);
    assert!(
        errores
            .iter()
            .any(|m| m.origen == "console" && m.texto == "mal"),
        "{errores:?}"
    );
    assert!(
        errores
            .iter()
            .any(|m| m.origen == "exception" && m.texto.contains("roto")),
        "{errores:?}"
    );
}

#[test]
fn the_browser_is_found_on_path_or_where_debian_puts_it_or_its_install_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let en_path = dir.path().join("bin");
    std::fs::create_dir(&en_path).unwrap();
    let debian = dir.path().join("usr-bin-chromium");
    let falta = buscar_chromium(Some(en_path.clone().into()), &debian).unwrap_err();
    assert!(falta.contains("apt-get install chromium"), "{falta}");
    std::fs::write(&debian, "").unwrap();
    assert_eq!(buscar_chromium(None, &debian), Ok(debian.clone()));
    std::fs::write(en_path.join("chromium"), "").unwrap();
    let encontrado = buscar_chromium(Some(en_path.clone().into()), &debian);
    assert_eq!(encontrado, Ok(en_path.join("chromium")));
}

#[test]
#[should_panic(expected = "waiting until the title changes")]
fn a_wait_that_times_out_names_what_it_waited_for() {
    let n = Navegador::lanzar("navegador");
    let p = n.pagina();
    p.ir(PAGINA);
    p.esperar_js(
        Duration::from_millis(200),
        "the title changes",
        "document.title === 'u'",
    );
}
