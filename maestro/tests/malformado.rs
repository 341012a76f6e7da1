//! Bad input, at scale, on every route of a running maestro (real HTTP on loopback): each
//! malformed, mistyped, incomplete, out-of-range, unknown or oversize request gets a 4xx whose
//! JSON body names the problem (the field, the parameter or the parse position), and nothing
//! changes: the same counts and version, no esclavo, no memoria report, no job touched.
//! (Random and mutated bodies through the handlers' decoder are `tests/cuerpos.rs`.)
//!
//! Deliberate tolerances: the `Content-Type` is not checked (the original system's clients do
//! not always send one), so bad bodies are also sent under wrong ones and must be named the
//! same; `POST /limpiar_cola` ignores its body (the cliente sends `{}`), asserted at the end.

mod apoyo;

use apoyo::*;
use comun::Prioridad;
use pruebas::malformado::{Caso, U32_MAS_1, U64_MAS_1, caso, con, con_crudo, get, probar_todos};
use serde_json::{Value, json};

fn registro() -> Value {
    json!({"nombre": "e-malo", "instancia": 1, "url": "http://127.0.0.1:9", "nodo": "n1",
        "capacidad": 2, "capacidades": {"nucleos": 2, "memoria_bytes": 1024}})
}

fn latido() -> Value {
    json!({"nombre": "e-malo", "instancia": 1,
        "carga": {"cpu": 1.0, "memoria_usada": 1, "memoria_total": 2}, "ejecutando": []})
}

/// A result for a job that does not exist (so even a good one would change nothing).
fn resultado() -> Value {
    json!({"resultados": [{"id": 999_999, "intento": 1, "esclavo": "e-malo", "instancia": 1,
        "salida": {"estado": "fallido", "error": "boom"}}]})
}

fn reporte() -> Value {
    json!({"nodo": "n1", "instancia": 1, "intervalo_ms": 5000, "alertas": [
            {"recurso": {"tipo": "cpu"}, "nivel": "aviso", "valor": 91.0, "umbral": 90.0,
             "desde_ms": 1}],
        "muestra": {"nodo": "n1", "instante_ms": 1, "cpu_porcentaje": 91.0, "carga_1": 0.0,
            "carga_5": 0.0, "carga_15": 0.0, "memoria_usada": 1, "memoria_total": 2,
            "swap_usada": 0, "swap_total": 0, "discos": []}})
}

#[rustfmt::skip] // A table: one case a line.
fn casos_trabajos() -> Vec<Caso> {
    let r = "/agregar_trabajo";
    let julia = json!({"width": 8, "height": 8, "iteraciones": 5});
    let espera = json!({"tipo": "espera", "ms": 0});
    let matmul = json!({"tipo": "matmul", "n": 8, "iteraciones": 1});
    let vector = json!({"tipo": "vector_add", "n": 8, "iteraciones": 1});
    let monte = json!({"tipo": "montecarlo", "muestras": 8});
    let nbody = json!({"tipo": "nbody", "particulas": 8, "pasos": 1});
    let mut v = vec![
        // Malformed JSON: 400 with the position.
        caso(r, "", 400, None, "EOF while parsing a value at line 1 column 0"),
        caso(r, r#"{"width": 8, "#, 400, None, "EOF while parsing a value at line 1 column 13"),
        caso(r, "hola", 400, None, "expected value at line 1 column 1"),
        caso(r, "{width: 8}", 400, None, "key must be a string at line 1 column 2"),
        caso(r, r#"{"width": 8,}"#, 400, None, "trailing comma at line 1 column 13"),
        caso(r, format!("{espera} {espera}"), 400, None, "trailing characters"),
        caso(r, format!("{espera}x"), 400, None, "trailing characters"),
        caso(r, r#"{"tipo": "espera", "ms": 0"#, 400, None, "EOF while parsing an object"),
        caso(r, "{\"tipo\": \"esp\u{0}era\"}", 400, None, "control character"),
        caso(r, r#"{"tipo": "\ud800"}"#, 400, Some("tipo"), "unexpected end of hex escape at line 1 column 17"),
        caso(r, r#"{"tipo": "\ud800\u0041"}"#, 400, Some("tipo"), "lone leading surrogate"),
        // Wrong types.
        caso(r, "[]", 422, None, "the body is a JSON array (at line 1 column 1); it must be a JSON object"),
        caso(r, "[null, null, 8, 8, 5]", 422, None, "the body is a JSON array (at line 1 column 1); it must be a JSON object"),
        caso(r, "\"espera\"", 422, None, "expected struct PeticionTrabajo"),
        caso(r, "7", 422, None, "expected struct PeticionTrabajo"),
        caso(r, "null", 422, None, "expected struct PeticionTrabajo"),
        caso(r, con(&julia, "/width", Some(json!("ocho"))), 422, Some("width"), "invalid type: string \"ocho\""),
        caso(r, con(&julia, "/height", Some(json!([8]))), 422, Some("height"), "invalid type: sequence"),
        caso(r, con(&julia, "/iteraciones", Some(json!({"n": 5}))), 422, Some("iteraciones"), "invalid type: map"),
        caso(r, con(&julia, "/width", Some(json!(8.5))), 422, Some("width"), "floating point `8.5`"),
        caso(r, con(&julia, "/width", Some(json!(true))), 422, Some("width"), "invalid type: boolean"),
        caso(r, con(&espera, "/ms", Some(json!("0"))), 422, Some("ms"), "invalid type: string \"0\""),
        // serde_json calls a number where an enum goes a syntax error: a 400, still naming the field.
        caso(r, con(&espera, "/tipo", Some(json!(1))), 400, Some("tipo"), "malformed JSON at tipo: expected value at line 1 column 16"),
        caso(r, con(&julia, "/algoritmo", Some(json!(["Paralelo"]))), 422, Some("algoritmo"), "invalid type: sequence"),
        caso(r, con(&julia, "/prioridad", Some(json!([1]))), 422, Some("prioridad"), "prioridad"),
        caso(r, con(&julia, "/plazo_s", Some(json!("60"))), 422, Some("plazo_s"), "invalid type: string \"60\""),
        // Missing required fields (for the tipo).
        caso(r, "{}", 422, Some("width"), "missing (required for tipo julia)"),
        caso(r, con(&julia, "/width", None), 422, Some("width"), "missing (required for tipo julia)"),
        caso(r, con(&julia, "/height", None), 422, Some("height"), "missing"),
        caso(r, con(&espera, "/ms", None), 422, Some("ms"), "missing (required for tipo espera)"),
        caso(r, con(&matmul, "/n", None), 422, Some("n"), "missing (required for tipo matmul)"),
        caso(r, con(&vector, "/iteraciones", None), 422, Some("iteraciones"), "missing"),
        caso(r, con(&monte, "/muestras", None), 422, Some("muestras"), "missing"),
        caso(r, con(&nbody, "/pasos", None), 422, Some("pasos"), "missing"),
        caso(r, con(&espera, "/width", Some(json!(8))), 422, Some("width"), "not a parameter of tipo espera"),
        // Huge numbers: past u64, past f64, past each documented limit.
        caso(r, con_crudo(&julia, "/width", U32_MAS_1), 422, Some("width"), "expected u32"),
        caso(r, con_crudo(&espera, "/ms", U64_MAS_1), 422, Some("ms"), "expected u64"),
        caso(r, con_crudo(&espera, "/ms", "1e400"), 400, None, "number out of range"),
        caso(r, con_crudo(&espera, "/ms", "1e19"), 422, Some("ms"), "expected u64"),
        caso(r, con_crudo(&julia, "/prioridad", U64_MAS_1), 422, Some("prioridad"), "prioridad"),
        caso(r, con(&julia, "/width", Some(json!(16_385))), 422, Some("width"), "exceeds the limit of 16384"),
        caso(r, con(&julia, "/height", Some(json!(u32::MAX))), 422, Some("height"), "exceeds the limit of 16384"),
        caso(r, json!({"width": 16_384, "height": 16_384, "iteraciones": 1}).to_string(), 422, Some("width"), "width × height = 268435456 exceeds the limit of 67108864"),
        caso(r, con(&julia, "/iteraciones", Some(json!(100_001))), 422, Some("iteraciones"), "exceeds the limit of 100000"),
        caso(r, con(&espera, "/ms", Some(json!(3_600_001))), 422, Some("ms"), "exceeds the limit of 3600000 ms"),
        caso(r, con(&espera, "/ms", Some(json!(u64::MAX))), 422, Some("ms"), "exceeds the limit"),
        caso(r, con(&matmul, "/n", Some(json!(8193))), 422, Some("n"), "exceeds the limit of 8192"),
        caso(r, con(&matmul, "/n", Some(json!(u64::MAX))), 422, Some("n"), "exceeds the limit of 8192"),
        caso(r, con(&matmul, "/iteraciones", Some(json!(1001))), 422, Some("iteraciones"), "exceeds the limit of 1000"),
        caso(r, con(&vector, "/n", Some(json!((1u64 << 28) + 1))), 422, Some("n"), "exceeds the limit of 268435456"),
        caso(r, con(&monte, "/muestras", Some(json!(1_000_000_000_001u64))), 422, Some("muestras"), "exceeds the limit"),
        caso(r, con(&nbody, "/particulas", Some(json!(65_537))), 422, Some("particulas"), "exceeds the limit of 65536"),
        caso(r, con(&nbody, "/pasos", Some(json!(100_001))), 422, Some("pasos"), "exceeds the limit of 100000"),
        caso(r, con(&espera, "/plazo_s", Some(json!(604_801))), 422, Some("plazo_s"), "outside 1 ..= 604800"),
        caso(r, con(&espera, "/plazo_s", Some(json!(u64::MAX))), 422, Some("plazo_s"), "outside 1 ..= 604800"),
        // Zero and negative numbers.
        caso(r, con(&julia, "/width", Some(json!(-5))), 422, Some("width"), "invalid value: integer `-5`"),
        caso(r, con(&julia, "/width", Some(json!(0))), 422, Some("width"), "must be at least 1"),
        caso(r, con(&julia, "/iteraciones", Some(json!(0))), 422, Some("iteraciones"), "must be at least 1"),
        caso(r, con(&espera, "/ms", Some(json!(-1))), 422, Some("ms"), "invalid value: integer `-1`"),
        caso(r, con(&matmul, "/n", Some(json!(0))), 422, Some("n"), "must be at least 1"),
        caso(r, con(&monte, "/semilla", Some(json!(-7))), 422, Some("semilla"), "invalid value: integer `-7`"),
        caso(r, con(&espera, "/plazo_s", Some(json!(0))), 422, Some("plazo_s"), "outside 1 ..= 604800"),
        caso(r, con(&espera, "/plazo_s", Some(json!(-60))), 422, Some("plazo_s"), "invalid value: integer `-60`"),
        caso(r, con(&julia, "/prioridad", Some(json!(0))), 422, Some("prioridad"), "0 is not a priority"),
        caso(r, con(&julia, "/prioridad", Some(json!(-1))), 422, Some("prioridad"), "-1 is not a priority"),
        caso(r, con(&julia, "/prioridad", Some(json!(4))), 422, Some("prioridad"), "4 is not a priority"),
        // Unknown enum values.
        caso(r, con(&julia, "/tipo", Some(json!("svd"))), 422, Some("tipo"), "unknown variant `svd`"),
        caso(r, con(&julia, "/tipo", Some(json!(""))), 422, Some("tipo"), "unknown variant ``"),
        caso(r, con(&julia, "/algoritmo", Some(json!("Fortran"))), 422, Some("algoritmo"), "unknown algoritmo 'Fortran'"),
        caso(r, con(&julia, "/algoritmo", Some(json!("GPU"))), 422, Some("algoritmo"), "unknown algoritmo 'GPU'"),
        caso(r, con(&julia, "/prioridad", Some(json!("urgente"))), 422, Some("prioridad"), "'urgente' is not a priority"),
        caso(r, con(&julia, "/prioridad", Some(json!(1.5))), 422, Some("prioridad"), "prioridad"),
        // Unknown fields.
        caso(r, con(&julia, "/anchura", Some(json!(8))), 422, None, "unknown field `anchura`"),
        caso(r, con(&espera, "/estado", Some(json!("completado"))), 422, None, "unknown field `estado`"),
        caso(r, con(&espera, "/id", Some(json!(1))), 422, None, "unknown field `id`"),
        // The Content-Type is not checked: a bad body is named whatever the header says.
        Caso { tipo_contenido: Some("text/plain"), ..caso(r, "{", 400, None, "EOF while parsing an object") },
        Caso { tipo_contenido: Some("application/x-www-form-urlencoded"), ..caso(r, "width=8&height=8", 400, None, "expected value at line 1 column 1") },
        Caso { tipo_contenido: Some("application/xml"), ..caso(r, "<trabajo/>", 400, None, "expected value at line 1 column 1") },
        Caso { tipo_contenido: None, ..caso(r, con(&julia, "/width", Some(json!(0))), 422, Some("width"), "must be at least 1") },
        // Oversize: just past the 16 MiB of a job route.
        caso(r, format!(r#"{{"tipo": "{}"}}"#, "x".repeat(16 * 1024 * 1024)), 413, None, "request body too large"),
    ];

    // POST /trabajos: the same checks, naming the job's index; a bad one refuses the batch.
    let r = "/trabajos";
    let mut lote: Vec<Value> = (0..20).map(|_| espera.clone()).collect();
    lote[13] = json!({"tipo": "espera", "ms": 3_600_001});
    let mut lote_bueno_malo = vec![espera.clone(); 3];
    lote_bueno_malo[2] = json!({"tipo": "espera"});
    v.extend([
        caso(r, "", 400, None, "EOF while parsing a value"),
        caso(r, r#"{"trabajos": [{"tipo": "espera", "ms": 0}"#, 400, None, "EOF while parsing a list"),
        caso(r, "[]", 422, None, "must be a JSON object"),
        caso(r, "{}", 422, None, "missing field `trabajos`"),
        caso(r, r#"{"trabajos": null}"#, 422, Some("trabajos"), "expected a sequence"),
        caso(r, r#"{"trabajos": {"tipo": "espera"}}"#, 422, Some("trabajos"), "expected a sequence"),
        caso(r, r#"{"trabajos": [7]}"#, 422, Some("trabajos[0]"), "expected struct PeticionTrabajo"),
        caso(r, json!({"trabajos": lote}).to_string(), 422, Some("trabajos[13].ms"), "exceeds the limit"),
        caso(r, json!({"trabajos": lote_bueno_malo}).to_string(), 422, Some("trabajos[2].ms"), "missing"),
        caso(r, json!({"trabajos": [{"tipo": "svd"}]}).to_string(), 422, Some("trabajos[0].tipo"), "unknown variant `svd`"),
        caso(r, json!({"trabajos": [{"tipo": "espera", "ms": -1}]}).to_string(), 422, Some("trabajos[0].ms"), "invalid value: integer `-1`"),
        caso(r, json!({"trabajos": [{"tipo": "espera", "ms": 0, "prioridad": 9}]}).to_string(), 422, Some("trabajos[0].prioridad"), "9 is not a priority"),
        caso(r, json!({"trabajos": [espera], "prioridad": 1}).to_string(), 422, None, "unknown field `prioridad`"),
        caso(r, json!({"trabajos": vec![espera.clone(); 100_001]}).to_string(), 422, Some("trabajos"), "100001 jobs in one request; the limit is 100000"),
        caso(r, format!(r#"{{"trabajos": [], "x": "{}"}}"#, "x".repeat(16 * 1024 * 1024)), 413, None, "request body too large"),
    ]);

    // POST /cargar_trabajos.
    let r = "/cargar_trabajos";
    v.extend([
        caso(r, "", 400, None, "EOF while parsing a value"),
        caso(r, "espera,0", 400, None, "expected value at line 1 column 1"),
        caso(r, "{}", 400, None, "give exactly one of 'contenido'"),
        caso(r, r#"{"contenido": "espera,0", "archivo": "a.txt"}"#, 400, None, "give exactly one of 'contenido'"),
        caso(r, r#"{"contenido": null, "archivo": null}"#, 400, None, "give exactly one of 'contenido'"),
        caso(r, r#"{"contenido": 5}"#, 422, Some("contenido"), "invalid type: integer `5`"),
        caso(r, r#"{"contenido": ["espera,0"]}"#, 422, Some("contenido"), "invalid type: sequence"),
        caso(r, r#"{"archivo": {"nombre": "a"}}"#, 422, Some("archivo"), "invalid type: map"),
        caso(r, r#"{"texto": "espera,0"}"#, 422, None, "unknown field `texto`"),
        caso(r, r#"{"archivo": ""}"#, 422, Some("archivo"), "is not a plain relative path"),
        caso(r, r#"{"archivo": "."}"#, 422, Some("archivo"), "is not a plain relative path"),
        caso(r, r#"{"archivo": "../../etc/passwd"}"#, 422, Some("archivo"), "is not a plain relative path"),
        caso(r, r#"{"archivo": "/etc/passwd"}"#, 422, Some("archivo"), "is not a plain relative path"),
        caso(r, r#"{"archivo": "no-existe.txt"}"#, 422, Some("archivo"), "does not exist"),
        caso(r, json!({"archivo": "a\u{0}b"}).to_string(), 422, Some("archivo"), "archivo"),
        caso(r, json!({"archivo": "x".repeat(5000)}).to_string(), 422, Some("archivo"), "archivo"),
        caso(r, format!(r#"{{"contenido": "{}"}}"#, "espera,0\\n".repeat(1_700_000)), 413, None, "request body too large"),
    ]);

    // Job ids in the path, and the query parameters of the reading routes.
    for id in [
        "abc",
        "-1",
        U64_MAS_1,
        "1e3",
        "0x10",
        "1.0",
        "%20",
        &"9".repeat(500),
    ] {
        let texto = "is not a job id (a whole number)";
        v.push(get(format!("/trabajos/{id}"), 400, None, texto));
        v.push(get(format!("/trabajos/{id}/imagen"), 400, None, texto));
        v.push(Caso {
            metodo: "DELETE",
            ..get(format!("/trabajos/{id}"), 400, None, texto)
        });
    }
    v.extend([
        get("/trabajos/%FF", 400, None, "Invalid UTF-8 in `id`"),
        get("/trabajos/%FF/imagen", 400, None, "Invalid UTF-8 in `id`"),
        Caso { metodo: "DELETE", ..get("/trabajos/%C3%28", 400, None, "Invalid UTF-8 in `id`") },
        get("/trabajos/999999", 404, None, "no job 999999"),
        get("/trabajos/0", 404, None, "no job 0"),
        get("/trabajos/999999/imagen", 404, None, "no job 999999"),
        Caso { metodo: "DELETE", ..get("/trabajos/999999", 404, None, "no job 999999") },
        Caso { metodo: "DELETE", ..get(format!("/trabajos/{}", u64::MAX), 404, None, "no job 18446744073709551615") },
        get("/trabajos/999999?esperar_ms=18446744073709551615", 404, None, "no job 999999"),
        get("/trabajos/1?esperar_ms=abc", 400, None, "esperar_ms"),
        get("/trabajos/1?esperar_ms=-1", 400, None, "esperar_ms"),
        get(format!("/trabajos/1?esperar_ms={U64_MAS_1}"), 400, None, "esperar_ms"),
        get("/trabajos/1?esperar=5", 400, None, "unknown field `esperar`"),
        get("/trabajos?estado=perdido", 422, Some("estado"), "unknown estado 'perdido'"),
        get("/trabajos?estado=", 422, Some("estado"), "unknown estado ''"),
        get("/trabajos?estado=1", 422, Some("estado"), "unknown estado '1'"),
        get("/trabajos?limite=abc", 400, None, "limite"),
        get("/trabajos?limite=-1", 400, None, "limite"),
        get("/trabajos?limite=1.5", 400, None, "limite"),
        get(format!("/trabajos?limite={U32_MAS_1}"), 400, None, "limite"),
        get("/trabajos?limite=1&limite=2", 400, None, "duplicate field `limite`"),
        get("/trabajos?orden=asc", 400, None, "unknown field `orden`"),
        get("/trabajos?tipo=svd", 422, Some("tipo"), "unknown tipo 'svd'"),
        get("/trabajos?origen=web", 422, Some("origen"), "unknown origen 'web'"),
        get("/trabajos?prioridad=0", 422, Some("prioridad"), "0 is not a priority"),
        get("/trabajos?cursor=5", 422, Some("cursor"), "'5' is not a cursor"),
        Caso { metodo: "POST", ..get("/trabajos/999999/reintentar", 404, None, "no job 999999") },
        get("/resumen?version=abc", 400, None, "version"),
        get("/resumen?version=-1", 400, None, "version"),
        get(format!("/resumen?version={U64_MAS_1}"), 400, None, "version"),
        get("/resumen?version=1&espera_ms=-5", 400, None, "espera_ms"),
        get("/resumen?version=1&espera_ms=1e3", 400, None, "espera_ms"),
        get("/resumen?desde=1", 400, None, "unknown field `desde`"),
    ]);
    v
}

#[rustfmt::skip] // A table: one case a line.
fn casos_nodos() -> Vec<Caso> {
    let mut v = Vec::new();
    // POST /registrar_esclavo.
    let r = "/registrar_esclavo";
    let g = registro();
    v.extend([
        caso(r, "", 400, None, "EOF while parsing a value"),
        caso(r, &g.to_string()[..40], 400, None, "EOF while parsing"),
        caso(r, "[]", 422, None, "must be a JSON object"),
        caso(r, con(&g, "/nombre", None), 422, None, "missing field `nombre`"),
        caso(r, con(&g, "/instancia", None), 422, None, "missing field `instancia`"),
        caso(r, con(&g, "/url", None), 422, None, "missing field `url`"),
        caso(r, con(&g, "/capacidades", None), 422, None, "missing field `capacidades`"),
        caso(r, con(&g, "/capacidades/nucleos", None), 422, Some("capacidades"), "missing field `nucleos`"),
        caso(r, con(&g, "/nombre", Some(json!(5))), 422, Some("nombre"), "invalid type: integer `5`"),
        caso(r, con(&g, "/capacidad", Some(json!("2"))), 422, Some("capacidad"), "invalid type: string \"2\""),
        caso(r, con(&g, "/capacidades", Some(json!([]))), 422, Some("capacidades"), "invalid length 0, expected struct Capacidades"),
        caso(r, con(&g, "/capacidades/gpus", Some(json!("H100"))), 422, Some("capacidades.gpus"), "invalid type: string \"H100\""),
        caso(r, con(&g, "/capacidades/gpus", Some(json!([{"nombre": "H100"}]))), 422, Some("capacidades.gpus[0]"), "missing field `memoria_bytes`"),
        caso(r, con(&g, "/capacidad_gpu", Some(json!(2))), 422, Some("capacidad_gpu"), "2 GPU slots, but capacidades.gpus lists no GPU"),
        caso(r, con(&g, "/nombre", Some(json!(""))), 422, Some("nombre"), "must not be empty"),
        caso(r, con(&g, "/nombre", Some(json!("   "))), 422, Some("nombre"), "must not be empty"),
        caso(r, con(&g, "/capacidad", Some(json!(0))), 422, Some("capacidad"), "must be at least 1"),
        caso(r, con(&g, "/capacidad", Some(json!(-2))), 422, Some("capacidad"), "invalid value: integer `-2`"),
        caso(r, con_crudo(&g, "/capacidad", U32_MAS_1), 422, Some("capacidad"), "expected u32"),
        caso(r, con_crudo(&g, "/instancia", U64_MAS_1), 422, Some("instancia"), "expected u64"),
        caso(r, con_crudo(&g, "/capacidades/memoria_bytes", "1e400"), 400, None, "number out of range"),
        caso(r, con(&g, "/instancia", Some(json!(-1))), 422, Some("instancia"), "invalid value: integer `-1`"),
        caso(r, con(&g, "/url", Some(json!("ftp://x:1"))), 422, Some("url"), "'ftp://x:1' is not an http(s) URL"),
        caso(r, con(&g, "/url", Some(json!("127.0.0.1:5011"))), 422, Some("url"), "is not an http(s) URL"),
        caso(r, con(&g, "/url", Some(json!(""))), 422, Some("url"), "is not an http(s) URL"),
        caso(r, con(&g, "/url", Some(json!("http://"))), 422, Some("url"), "'http://' is not an http(s) URL with a host"),
        Caso { tipo_contenido: Some("text/plain"), ..caso(r, "nombre=e1", 400, None, "expected ident at line 1 column 2") },
        caso(r, format!(r#"{{"nombre": "{}"}}"#, "x".repeat(16 * 1024 * 1024)), 413, None, "request body too large"),
    ]);
    // POST /latido.
    let r = "/latido";
    let l = latido();
    v.extend([
        caso(r, "", 400, None, "EOF while parsing a value"),
        caso(r, "{\"nombre\": ", 400, None, "EOF while parsing a value"),
        caso(r, "{}", 422, None, "missing field `nombre`"),
        caso(r, con(&l, "/carga", None), 422, None, "missing field `carga`"),
        caso(r, con(&l, "/ejecutando", None), 422, None, "missing field `ejecutando`"),
        caso(r, con(&l, "/carga/cpu", Some(json!("alta"))), 422, Some("carga.cpu"), "invalid type: string \"alta\""),
        caso(r, con_crudo(&l, "/carga/cpu", "1e400"), 400, None, "number out of range"),
        caso(r, con(&l, "/carga/memoria_usada", Some(json!(-1))), 422, Some("carga.memoria_usada"), "invalid value: integer `-1`"),
        caso(r, con(&l, "/ejecutando", Some(json!([-1]))), 422, Some("ejecutando[0]"), "invalid value: integer `-1`"),
        caso(r, con_crudo(&l, "/ejecutando", &format!("[{U64_MAS_1}]")), 422, Some("ejecutando[0]"), "expected u64"),
        caso(r, con(&l, "/ejecutando", Some(json!(3))), 422, Some("ejecutando"), "expected a sequence"),
        caso(r, con_crudo(&l, "/instancia", U64_MAS_1), 422, Some("instancia"), "expected u64"),
        // Well-formed, from an esclavo nobody registered: 404, and it is not registered by it.
        caso(r, l.to_string(), 404, None, "esclavo e-malo (instance 1) is not registered"),
    ]);
    // POST /resultado.
    let r = "/resultado";
    let s = resultado();
    v.extend([
        caso(r, "", 400, None, "EOF while parsing a value"),
        caso(r, &s.to_string()[..30], 400, None, "EOF while parsing"),
        caso(r, format!("{s}]"), 400, None, "trailing characters"),
        caso(r, "{}", 422, None, "missing field `resultados`"),
        caso(r, r#"{"resultados": {}}"#, 422, Some("resultados"), "expected a sequence"),
        caso(r, con(&s, "/resultados/0/id", Some(json!(-1))), 422, Some("resultados[0].id"), "invalid value: integer `-1`"),
        caso(r, con(&s, "/resultados/0/id", Some(json!("7"))), 422, Some("resultados[0].id"), "invalid type: string \"7\""),
        caso(r, con_crudo(&s, "/resultados/0/intento", U32_MAS_1), 422, Some("resultados[0].intento"), "expected u32"),
        caso(r, con(&s, "/resultados/0/esclavo", None), 422, Some("resultados[0]"), "missing field `esclavo`"),
        caso(r, con(&s, "/resultados/0/salida", None), 422, Some("resultados[0]"), "missing field `salida`"),
        caso(r, con(&s, "/resultados/0/salida/estado", Some(json!("perdido"))), 422, Some("resultados[0].salida.estado"), "unknown variant `perdido`"),
        caso(r, con(&s, "/resultados/0/salida/estado", None), 422, Some("resultados[0].salida"), "missing field `estado`"),
        caso(r, con(&s, "/resultados/0/salida/error", None), 422, Some("resultados[0].salida"), "missing field `error`"),
        caso(
            r,
            con(
                &s,
                "/resultados/0/salida",
                Some(
                    json!({"estado": "completado", "resultado": {"duracion_s": 1.0,
                "dispositivo": "cpu", "imagen": false, "detalle": {"tipo": "svd"}}}),
                ),
            ),
            422,
            Some("resultados[0].salida"),
            "unknown variant `svd`",
        ),
        // Oversize is not tried here: the limit of this route is 1 GiB (results carry PNGs),
        // and axum enforces it only on the bytes that arrive, not on a declared length.
    ]);
    // POST /reporte_memoria.
    let r = "/reporte_memoria";
    let m = reporte();
    v.extend([
        caso(r, "", 400, None, "EOF while parsing a value"),
        caso(r, "{\"nodo\": \"n1\"", 400, None, "EOF while parsing an object"),
        caso(r, "[]", 422, None, "must be a JSON object"),
        caso(r, con(&m, "/muestra", None), 422, None, "missing field `muestra`"),
        caso(r, con(&m, "/muestra/discos", None), 422, Some("muestra"), "missing field `discos`"),
        caso(r, con(&m, "/nodo", Some(json!(""))), 422, Some("nodo"), "must not be empty"),
        caso(r, con(&m, "/nodo", Some(json!(null))), 422, Some("nodo"), "invalid type: null"),
        caso(r, con(&m, "/intervalo_ms", Some(json!(-1))), 422, Some("intervalo_ms"), "invalid value: integer `-1`"),
        caso(r, con_crudo(&m, "/intervalo_ms", U64_MAS_1), 422, Some("intervalo_ms"), "expected u64"),
        caso(r, con_crudo(&m, "/muestra/cpu_porcentaje", "1e400"), 400, None, "number out of range"),
        caso(r, con(&m, "/muestra/cpu_porcentaje", Some(json!("91%"))), 422, Some("muestra.cpu_porcentaje"), "invalid type: string \"91%\""),
        caso(r, con(&m, "/alertas/0/nivel", Some(json!("grave"))), 422, Some("alertas[0].nivel"), "unknown variant `grave`"),
        caso(r, con(&m, "/alertas/0/recurso", Some(json!({"tipo": "red"}))), 422, Some("alertas[0].recurso.tipo"), "unknown variant `red`"),
        caso(r, con(&m, "/alertas/0/recurso", Some(json!({"tipo": "disco"}))), 422, Some("alertas[0].recurso"), "missing field `punto_montaje`"),
        caso(r, con(&m, "/alertas", Some(json!({}))), 422, Some("alertas"), "expected a sequence"),
        caso(r, format!(r#"{{"nodo": "{}"}}"#, "n".repeat(16 * 1024 * 1024)), 413, None, "request body too large"),
    ]);
    // Wrong methods and unknown routes.
    for (metodo, ruta, status, texto) in [
        ("GET", "/agregar_trabajo", 405, "GET /agregar_trabajo"),
        ("PUT", "/trabajos", 405, "PUT /trabajos"),
        ("PUT", "/trabajos/1", 405, "PUT /trabajos/1"),
        ("GET", "/trabajos/1/reintentar", 405, "GET /trabajos/1/reintentar"),
        ("POST", "/trabajos/1/imagen", 405, "POST /trabajos/1/imagen"),
        ("GET", "/cargar_trabajos", 405, "GET /cargar_trabajos"),
        ("GET", "/limpiar_cola", 405, "GET /limpiar_cola"),
        ("DELETE", "/limpiar_cola", 405, "DELETE /limpiar_cola"),
        ("POST", "/resumen", 405, "POST /resumen"),
        ("GET", "/registrar_esclavo", 405, "GET /registrar_esclavo"),
        ("GET", "/latido", 405, "GET /latido"),
        ("GET", "/resultado", 405, "GET /resultado"),
        ("GET", "/reporte_memoria", 405, "GET /reporte_memoria"),
        ("POST", "/memoria", 405, "POST /memoria"),
        (
            "POST",
            "/agregar_trabajos",
            404,
            "no endpoint POST /agregar_trabajos",
        ),
        (
            "GET",
            "/trabajos/1/png",
            404,
            "no endpoint GET /trabajos/1/png",
        ),
        ("DELETE", "/trabajos", 405, "DELETE /trabajos"),
    ] {
        v.push(Caso {
            metodo,
            ..caso(ruta, r#"{"tipo": "espera", "ms": 0}"#, status, None, texto)
        });
    }
    v
}

async fn foto(url: &str) -> (comun::api::Resumen, Value, Value, Value) {
    let leer = |ruta: &'static str| async move {
        reqwest::get(format!("{url}{ruta}"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let mut trabajos = leer("/trabajos").await;
    // What changes by itself: how long ago, and the pending job's explanation.
    for t in trabajos["trabajos"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("motivo");
    }
    (
        resumen(url).await,
        leer("/esclavos").await,
        leer("/memoria").await["nodos"].clone(),
        trabajos,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_a_4xx_naming_the_problem_and_changes_nothing() {
    let datos = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(datos.path().join("trabajos")).unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    // One pending job (no esclavo will take it), so there is something a bad request could
    // wrongly touch.
    let id = espera(&m.url, 0, Prioridad::BAJA).await;
    let antes = foto(&m.url).await;
    assert_eq!(antes.0.pendientes, 1);

    let casos: Vec<Caso> = casos_trabajos().into_iter().chain(casos_nodos()).collect();
    let http = reqwest::Client::new();
    probar_todos(&http, &m.url, "maestro", &casos).await;

    let despues = foto(&m.url).await;
    assert_eq!(despues.0, antes.0, "counts and version unchanged");
    assert_eq!(despues.1, json!([]), "no esclavo registered");
    assert_eq!(despues.2, json!([]), "no memoria report taken");
    assert_eq!(despues.3, antes.3, "jobs unchanged");
    assert_eq!(trabajo(&m.url, id).await.estado, comun::Estado::Pendiente);

    // The one route whose body is ignored: `limpiar_cola` cancels the pending job whatever
    // it is sent (the cliente sends `{}`).
    let r = http
        .post(format!("{}/limpiar_cola", m.url))
        .body("no es json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(resumen(&m.url).await.cancelados, 1);
    m.parar().await;
}
