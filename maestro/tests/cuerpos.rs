//! Hostile bodies through the maestro's decoder: random bytes, random JSON and mutated valid
//! bodies of every body the maestro takes, through [`maestro::http::decodificar`] (what every
//! handler decodes with) and the job requests' validation. Nothing panics; every rejection is a
//! 400/422 naming a field or a position. (The same bodies over HTTP, route by route, are
//! `tests/malformado.rs`.)

use comun::api::{PeticionCarga, PeticionLote, PeticionTrabajo};
use comun::memoria::ReporteMemoria;
use comun::nodo::{Latido, LoteResultados, Registro};
use maestro::http::{ErrorApi, decodificar};
use proptest::test_runner::TestCaseError;
use pruebas::generadores::{campo_de_peticion, contar_hostiles, nombra_el_problema, todos};
use serde::de::DeserializeOwned;

/// What [`decodificar`] made of `bytes`: `Ok(Some)` taken, `Ok(None)` refused properly.
fn decodificar_como<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, TestCaseError> {
    match decodificar::<T>(bytes) {
        Ok(t) => Ok(Some(t)),
        Err(ErrorApi::Cliente(status, e)) => {
            let texto = String::from_utf8_lossy(bytes);
            if status != 400 && status != 422 {
                return Err(TestCaseError::fail(format!("{status} for {texto:?}")));
            }
            if !nombra_el_problema(&e.error, e.campo.as_deref()) {
                return Err(TestCaseError::fail(format!(
                    "{e:?} names nothing, for {texto:?}"
                )));
            }
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!("not a client error: {e:?}"))),
    }
}

fn validar(p: &PeticionTrabajo, prefijo: &str) -> Result<(), TestCaseError> {
    match p.validar() {
        Ok(t) => t
            .parametros
            .validar()
            .map_err(|e| TestCaseError::fail(format!("accepted beyond a limit: {e}"))),
        Err(e) if campo_de_peticion(&e.campo) && !e.mensaje.is_empty() => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("{prefijo}{e} names no field"))),
    }
}

/// Decodes `bytes` as the body called `nombre`, and validates it as its handler would.
fn comprobar(nombre: &str, bytes: &[u8]) -> Result<bool, TestCaseError> {
    Ok(match nombre {
        "PeticionTrabajo" => decodificar_como::<PeticionTrabajo>(bytes)?
            .map(|p| validar(&p, ""))
            .transpose()?
            .is_some(),
        "PeticionLote" => decodificar_como::<PeticionLote>(bytes)?
            .map(|l| {
                l.trabajos
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, p)| validar(p, &format!("trabajos[{i}].")))
            })
            .transpose()?
            .is_some(),
        "PeticionCarga" => decodificar_como::<PeticionCarga>(bytes)?.is_some(),
        "Registro" => decodificar_como::<Registro>(bytes)?.is_some(),
        "Latido" => decodificar_como::<Latido>(bytes)?.is_some(),
        "LoteResultados" => decodificar_como::<LoteResultados>(bytes)?.is_some(),
        "ReporteMemoria" => decodificar_como::<ReporteMemoria>(bytes)?.is_some(),
        otro => panic!("the maestro takes no {otro}"),
    })
}

#[test]
fn hostile_bodies_never_panic_and_every_rejection_names_the_problem() {
    let maestro_recibe = [
        "PeticionTrabajo",
        "PeticionLote",
        "PeticionCarga",
        "Registro",
        "Latido",
        "LoteResultados",
        "ReporteMemoria",
    ];
    for (nombre, valido) in todos() {
        if !maestro_recibe.contains(&nombre) {
            continue;
        }
        let (rechazados, tomados) =
            contar_hostiles(nombre, valido, 300, |bytes| comprobar(nombre, bytes));
        println!("maestro {nombre}: {rechazados} hostile bodies refused, {tomados} taken");
        assert!(rechazados > tomados && tomados > 0, "{nombre}");
    }
}
