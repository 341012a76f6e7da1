//! Property tests of every request body type of the cluster: random bytes, random JSON and
//! valid bodies with one or two things broken are decoded as the wire types. Nothing panics;
//! every rejection says where (line and column) and what; a job request that decodes either
//! validates within the limits or names the field at fault.
//!
//! The services decode with these same types (adding the path of the field at fault, see
//! `maestro/tests/malformado.rs` and `esclavo/tests/malformado.rs`).

use comun::api::{PeticionCarga, PeticionLote, PeticionTrabajo};
use comun::memoria::ReporteMemoria;
use comun::nodo::{Latido, LoteResultados, PeticionCancelar, PeticionEjecutar, Registro};
use proptest::test_runner::TestCaseError;
use pruebas::generadores::{campo_de_peticion, contar_hostiles, nombra_el_problema, todos};
use serde::de::DeserializeOwned;

/// Decodes `bytes` as a `T`; a rejection must name where and what.
fn decodificar<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, TestCaseError> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            let mensaje = e.to_string();
            if !nombra_el_problema(&mensaje, None) || e.line() == 0 {
                return Err(TestCaseError::fail(format!(
                    "rejection without a position: {mensaje:?} for {:?}",
                    String::from_utf8_lossy(bytes)
                )));
            }
            Ok(None)
        }
    }
}

fn validar_trabajo(p: &PeticionTrabajo) -> Result<(), TestCaseError> {
    match p.validar() {
        Ok(t) => {
            t.parametros
                .validar()
                .map_err(|e| TestCaseError::fail(format!("accepted out of limits: {e}")))?;
        }
        Err(e) => {
            if !campo_de_peticion(&e.campo) || e.mensaje.is_empty() {
                return Err(TestCaseError::fail(format!(
                    "rejection names no field: {e}"
                )));
            }
        }
    }
    Ok(())
}

/// Decodes as the type called `nombre`, and validates what validation exists for it.
fn comprobar(nombre: &str, bytes: &[u8]) -> Result<bool, TestCaseError> {
    Ok(match nombre {
        "PeticionTrabajo" => match decodificar::<PeticionTrabajo>(bytes)? {
            Some(p) => {
                validar_trabajo(&p)?;
                true
            }
            None => false,
        },
        "PeticionLote" => match decodificar::<PeticionLote>(bytes)? {
            Some(l) => {
                l.trabajos.iter().try_for_each(validar_trabajo)?;
                true
            }
            None => false,
        },
        "PeticionCarga" => decodificar::<PeticionCarga>(bytes)?.is_some(),
        "Registro" => decodificar::<Registro>(bytes)?.is_some(),
        "Latido" => decodificar::<Latido>(bytes)?.is_some(),
        "LoteResultados" => decodificar::<LoteResultados>(bytes)?.is_some(),
        "ReporteMemoria" => decodificar::<ReporteMemoria>(bytes)?.is_some(),
        "PeticionEjecutar" => match decodificar::<PeticionEjecutar>(bytes)? {
            Some(p) => {
                for a in &p.trabajos {
                    if let Err(e) = a.parametros.validar()
                        && (e.campo.is_empty() || e.mensaje.is_empty())
                    {
                        return Err(TestCaseError::fail(format!("rejection names nothing: {e}")));
                    }
                }
                true
            }
            None => false,
        },
        "PeticionCancelar" => decodificar::<PeticionCancelar>(bytes)?.is_some(),
        otro => panic!("no decoder for {otro}"),
    })
}

#[test]
fn every_request_body_type_survives_hostile_input_and_names_each_rejection() {
    for (nombre, valido) in todos() {
        // The valid bodies themselves decode (else the mutations test nothing), 1000 of each,
        // then 1000 hostile bodies around them.
        let (rechazados, aceptados) =
            contar_hostiles(nombre, valido, 1_000, |bytes| comprobar(nombre, bytes));
        // Both sides were exercised: hostile input is mostly refused, but not all of it.
        println!("{nombre}: {rechazados} hostile bodies refused, {aceptados} taken");
        assert!(
            rechazados > aceptados && aceptados > 0,
            "{nombre}: {rechazados} refused, {aceptados} taken"
        );
    }
}
