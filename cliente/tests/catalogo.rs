//! The catalogue's five tipos through the cliente's doors, the real binary against an
//! in-process maestro and esclavo: `cliente trabajo --tipo …` (its flags, by the wire name and
//! the original one, on Secuencial, Paralelo and Auto), a `trabajos.txt` of named-parameter
//! lines uploaded by `cargar_trabajos`, the text a person reads of each result, and the
//! `--help` that lists every parameter with its default and limit.

mod apoyo;

use apoyo::{Cluster, cliente, png};
use comun::api::{Detalle, EstadoCluster, RespuestaCarga, Trabajo};
use comun::trabajo::{
    MAX_CAPAS, MAX_K, MAX_N_AUTOVALORES, MAX_PUNTOS_FFT, MAX_SIGMA, ParamsKmeans, ParamsRedNeuronal,
};
use comun::{Algoritmo, Estado, Parametros, Tipo};

/// Each tipo's flags for a small job, the line of a jobs file for the same job, and a phrase
/// of the result a person reads.
const PEQUENOS: [(Tipo, &str, &[&str], &str, &str); 5] = [
    (
        Tipo::Fft,
        "fft",
        &["--n", "1000", "--m", "3"],
        "fft,n=1000,m=3",
        "Parseval error",
    ),
    (
        Tipo::Autovalores,
        "eigenvalue",
        &["--n", "48"],
        "eigenvalue,size=48",
        "eigenvalues in",
    ),
    (
        Tipo::Kmeans,
        "kmeans",
        &[
            "--muestras",
            "2000",
            "--dimensiones",
            "3",
            "--k",
            "4",
            "--iteraciones",
            "5",
        ],
        "kmeans_clustering,n_samples=2000,n_features=3,n_clusters=4,iterations=5",
        "centroid checksum",
    ),
    (
        Tipo::RedNeuronal,
        "neural_network",
        &[
            "--capas",
            "16,8",
            "--epocas",
            "2",
            "--muestras",
            "300",
            "--lote",
            "32",
        ],
        "red_neuronal,capas=16,8,epocas=2,muestras=300,lote=32",
        "loss per epoch",
    ),
    (
        Tipo::Imagen,
        "imagen",
        &[
            "--width",
            "40",
            "--height",
            "30",
            "--filtros",
            "grises,sobel",
            "--sigma",
            "1",
        ],
        "image_processing,width=40,height=30,filtros=grayscale,edges,sigma=1",
        "megapixels/s",
    ),
];

/// `cliente trabajo --tipo <nombre> <flags> --algoritmo <a> --esperar`, which must complete;
/// with `--json`, the job as the maestro shows it, else the text.
async fn trabajo(url: &str, nombre: &str, flags: &[&str], a: Algoritmo, json: bool) -> String {
    let mut args = vec!["--maestro", url, "trabajo", "--tipo", nombre];
    args.extend(flags);
    args.extend(["--algoritmo", a.nombre(), "--esperar"]);
    if json {
        args.push("--json");
    }
    let s = cliente(&args).await;
    s.esperar_codigo(0);
    s.stdout.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_catalogue_tipo_completes_through_cliente_trabajo_on_every_cpu_backend() {
    let c = Cluster::new(1).await;
    for (tipo, nombre, flags, _, frase) in PEQUENOS {
        let mut checksums = Vec::new();
        for a in [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Auto] {
            let texto = trabajo(c.url(), nombre, flags, a, true).await;
            let t: Trabajo = serde_json::from_str(&texto).unwrap();
            assert_eq!(t.estado, Estado::Completado, "{tipo} {a}: {t:#?}");
            assert_eq!(t.parametros.tipo(), tipo);
            assert_eq!(t.algoritmo, a);
            let r = t.resultado.expect("a result");
            if let Detalle::Kmeans { checksum, .. } = r.detalle {
                checksums.push(checksum);
            }
        }
        if tipo == Tipo::Kmeans {
            let (s, p) = (checksums[0], checksums[1]);
            assert!(
                (s - p).abs() <= 1e-4 * s.abs().max(1.0),
                "same seed, same centroids: {checksums:?}"
            );
        }
        let texto = trabajo(c.url(), nombre, flags, Algoritmo::Paralelo, false).await;
        assert!(texto.contains("completado"), "{texto}");
        assert!(texto.contains(frase), "{tipo}: {texto}");
    }
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imagen_job_saves_its_png_and_bad_flags_are_named_before_anything_is_queued() {
    let c = Cluster::new(1).await;
    let dir = tempfile::tempdir().unwrap();
    let ruta = dir.path().join("bordes.png");
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--tipo",
        "image_processing",
        "--width",
        "24",
        "--height",
        "16",
        "--imagen",
        ruta.to_str().unwrap(),
    ])
    .await;
    s.esperar_codigo(0);
    assert_eq!(png(&ruta), (24, 16));

    for (args, campo) in [
        (
            &["--tipo", "fft", "--k", "3"][..],
            "k: not a parameter of tipo fft",
        ),
        (
            &["--tipo", "kmeans", "--muestras", "5", "--k", "6"],
            "k: 6 clusters exceed",
        ),
        (
            &["--tipo", "red_neuronal", "--capas", "1,2,3,4,5"],
            "capas:",
        ),
        (&["--tipo", "imagen", "--sigma", "100"], "sigma:"),
        (&["--tipo", "imagen", "--filtros", "emboss"], "emboss"),
        (
            &["--tipo", "red_neuronal", "--optimizador", "rmsprop"],
            "rmsprop",
        ),
        (&["--tipo", "autovalores", "--n", "9000"], "8192"),
    ] {
        let mut todos = vec!["--maestro", c.url(), "trabajo"];
        todos.extend(args);
        let s = cliente(&todos).await;
        assert!(matches!(s.codigo, Some(1 | 2)), "{args:?}: {s:#?}");
        assert!(s.stderr.contains(campo), "{args:?}: {s:#?}");
    }
    let s = cliente(&["--maestro", c.url(), "--json", "estado"]).await;
    let e: EstadoCluster = s.esperar_codigo(0).json();
    assert_eq!(
        e.resumen.total(),
        1,
        "only the imagen job was queued: {e:?}"
    );
    c.parar().await;
}

/// A `width × height` RGB PNG of a gradient, written to `ruta`.
fn escribir_png(ruta: &std::path::Path, width: u32, height: u32) {
    let archivo = std::fs::File::create(ruta).unwrap();
    let mut e = png::Encoder::new(std::io::BufWriter::new(archivo), width, height);
    e.set_color(png::ColorType::Rgb);
    let datos: Vec<u8> = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    e.write_header().unwrap().write_image_data(&datos).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imagen_job_filters_a_png_file_it_uploads_and_refuses_one_that_is_not() {
    let c = Cluster::new(1).await;
    let dir = tempfile::tempdir().unwrap();
    let foto = dir.path().join("foto.png");
    escribir_png(&foto, 20, 10);
    let salida = dir.path().join("bordes.png");
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--tipo",
        "imagen",
        "--entrada",
        foto.to_str().unwrap(),
        "--filtros",
        "grises,sobel",
        "--imagen",
        salida.to_str().unwrap(),
    ])
    .await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("uploaded"), "{s:#?}");
    assert_eq!(
        png(&salida),
        (20, 10),
        "the output has the uploaded image's size"
    );

    let falsa = dir.path().join("falsa.png");
    std::fs::write(&falsa, b"not a png at all").unwrap();
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--tipo",
        "imagen",
        "--entrada",
    ])
    .await;
    assert_eq!(s.codigo, Some(2), "{s:#?}");
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--tipo",
        "imagen",
        "--entrada",
        falsa.to_str().unwrap(),
    ])
    .await;
    s.esperar_codigo(1);
    assert!(
        s.stderr.contains("falsa.png") && s.stderr.contains("png"),
        "{s:#?}"
    );
    let s = cliente(&["--maestro", c.url(), "--json", "estado"]).await;
    let e: EstadoCluster = s.esperar_codigo(0).json();
    assert_eq!(
        e.resumen.total(),
        1,
        "the refused file queued nothing: {e:?}"
    );
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_file_of_catalogue_lines_loads_and_completes() {
    let c = Cluster::new(1).await;
    let dir = tempfile::tempdir().unwrap();
    let archivo = dir.path().join("trabajos.txt");
    let mut texto = String::from("# the catalogue\n");
    for (_, _, _, linea, _) in PEQUENOS {
        texto.push_str(linea);
        texto.push('\n');
    }
    texto.push_str("kmeans,Auto,muestras=500,k=3,iteraciones=2   # Auto: Paralelo here\n");
    texto.push_str("fft,Secuencial\n");
    texto.push_str("red_neuronal,capas=8,8,8,8,8\n");
    std::fs::write(&archivo, texto).unwrap();
    let s = cliente(&[
        "--maestro",
        c.url(),
        "cargar_trabajos",
        "--archivo",
        archivo.to_str().unwrap(),
        "--esperar",
        "--json",
    ])
    .await;
    let v: serde_json::Value = s.esperar_codigo(0).json();
    let carga: RespuestaCarga = serde_json::from_value(v["carga"].clone()).unwrap();
    assert_eq!(carga.cargados, 7, "{carga:#?}");
    assert_eq!(carga.rechazadas.len(), 1);
    assert_eq!(carga.rechazadas[0].linea, 9);
    assert!(
        carga.rechazadas[0].motivo.starts_with("capas:"),
        "{carga:#?}"
    );
    let trabajos: Vec<Trabajo> = serde_json::from_value(v["trabajos"].clone()).unwrap();
    let tipos: Vec<Tipo> = trabajos.iter().map(|t| t.parametros.tipo()).collect();
    let esperados: Vec<Tipo> = PEQUENOS
        .iter()
        .map(|p| p.0)
        .chain([Tipo::Kmeans, Tipo::Fft])
        .collect();
    assert_eq!(tipos, esperados);
    assert!(
        trabajos.iter().all(|t| t.estado == Estado::Completado),
        "{trabajos:#?}"
    );
    let Parametros::RedNeuronal(r) = &trabajos[3].parametros else {
        panic!("{:?}", trabajos[3])
    };
    assert_eq!(r.capas, [16, 8], "a list runs on over the fields");
    assert_eq!(trabajos[5].algoritmo, Algoritmo::Auto);
    assert_eq!(
        trabajos[6].parametros,
        Parametros::por_defecto(Tipo::Fft).unwrap(),
        "every parameter defaults"
    );
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trabajo_help_lists_each_parameter_with_its_default_and_limit() {
    let s = cliente(&["trabajo", "--help"]).await;
    s.esperar_codigo(0);
    let km = ParamsKmeans::default();
    let red = ParamsRedNeuronal::default();
    for frase in [
        "red_neuronal".to_string(),
        "neural_network".into(),
        format!("--k [{}] (1..={MAX_K}", km.k),
        format!("--muestras [{}]", km.muestras),
        format!("n × m ≤ {MAX_PUNTOS_FFT}"),
        format!("(1..={MAX_N_AUTOVALORES})"),
        format!("--capas [{}] (0..={MAX_CAPAS}", "64,64"),
        format!("--epocas [{}]", red.epocas),
        format!("((0, {MAX_SIGMA}])"),
        "desenfoque, sobel, enfocar, grises".into(),
        "--filtros <FILTRO,...>".into(),
    ] {
        assert!(s.stdout.contains(&frase), "{frase}: {}", s.stdout);
    }
    let s = cliente(&["cargar_trabajos", "--help"]).await;
    s.esperar_codigo(0);
    assert!(
        s.stdout.contains("red_neuronal,Auto,capas=64,64"),
        "{}",
        s.stdout
    );
}
