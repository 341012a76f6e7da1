//! A small network of Linux network namespaces, for partitions: each node (maestro, esclavos)
//! in its own namespace with one veth link to a bridge in a namespace of its own, and one more
//! link from the bridge to the root namespace, where the test runs.
//!
//! ```text
//!   root ns (the test) ─ hf<pid> ─┐
//!   hpcf-<pid>-m   (maestro) eth0 ┼─ br0 in hpcf-<pid>-br
//!   hpcf-<pid>-a   (esclavo) eth0 ┤
//!   hpcf-<pid>-b   (esclavo) eth0 ┘
//! ```
//!
//! Addresses are `198.18.N.i/24` (198.18.0.0/15 is reserved for network tests), N picked so no
//! root-namespace address uses it. Cutting a node's link sets its bridge port down: its packets
//! go nowhere, like a pulled cable, and its TCP connections stay open to resume when the link
//! heals. Everything is removed on drop (also when the test panics); namespaces left by earlier
//! runs that were killed (their pid is gone) are removed at creation. Needs root and iproute2.

use std::net::Ipv4Addr;
use std::process::Command;

use crate::servicios::EnRed;

/// Prefix of every namespace this crate creates.
pub const PREFIJO: &str = "hpcf-";

/// `HPC_SIN_NETNS=1` excludes the namespace scenarios (machines without root): returns true
/// after printing loudly that the scenario was excluded.
pub fn excluida(escenario: &str) -> bool {
    if std::env::var("HPC_SIN_NETNS").is_ok_and(|v| v == "1") {
        let aviso = format!(
            "\n!!!!!!!! [fallos] scenario {escenario} EXCLUDED by HPC_SIN_NETNS=1: the network \
             partition was NOT tested (it needs root and iproute2) !!!!!!!!\n"
        );
        println!("{aviso}");
        eprintln!("{aviso}");
        // Its figures say so too, rather than an earlier run's standing in for this one.
        let carpeta = crate::servicios::carpeta_de_salida();
        let marca = serde_json::json!({
            "escenario": escenario,
            "excluido": "HPC_SIN_NETNS=1: not tested (needs root and iproute2)",
        });
        if std::fs::create_dir_all(&carpeta).is_ok() {
            let _ = std::fs::write(
                carpeta.join(format!("{escenario}.json")),
                format!("{marca:#}\n"),
            );
        }
        return true;
    }
    false
}

/// The namespaces, links and addresses of one scenario; removed on drop.
#[derive(Debug)]
pub struct Red {
    prefijo: String,
    /// Third octet of the subnet `198.18.N.0/24`.
    subred: u8,
    nodos: Vec<String>,
    /// The root namespace's end of its link to the bridge.
    enlace_raiz: String,
}

impl Red {
    /// Builds the network for `nodos` (short names such as `m`, `a`, `b`). Panics, saying what
    /// is needed, if the process is not root or `ip` is missing.
    pub fn crear(nodos: &[&str]) -> Red {
        exigir_root_e_iproute2();
        limpiar_restos();
        let pid = std::process::id();
        let mut red = Red {
            prefijo: format!("{PREFIJO}{pid}"),
            subred: elegir_subred(pid),
            nodos: Vec::new(),
            enlace_raiz: format!("hf{pid}"),
        };
        let br = red.puente();
        ip(&["netns", "add", &br]);
        red.nodos.push("br".into());
        ip(&["-n", &br, "link", "set", "lo", "up"]);
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &br, "link", "set", "br0", "up"]);
        for (i, nodo) in nodos.iter().enumerate() {
            let espacio = red.espacio(nodo);
            ip(&["netns", "add", &espacio]);
            red.nodos.push((*nodo).to_string());
            let puerto = format!("p{i}");
            ip(&[
                "-n", &espacio, "link", "add", "eth0", "type", "veth", "peer", "name", &puerto,
                "netns", &br,
            ]);
            ip(&["-n", &br, "link", "set", &puerto, "master", "br0", "up"]);
            let direccion = format!("{}/24", red.ip_de(i));
            ip(&["-n", &espacio, "addr", "add", &direccion, "dev", "eth0"]);
            ip(&["-n", &espacio, "link", "set", "eth0", "up"]);
            ip(&["-n", &espacio, "link", "set", "lo", "up"]);
        }
        let raiz = red.enlace_raiz.clone();
        ip(&[
            "link", "add", &raiz, "type", "veth", "peer", "name", "praiz", "netns", &br,
        ]);
        ip(&["-n", &br, "link", "set", "praiz", "master", "br0", "up"]);
        let direccion = format!("198.18.{}.254/24", red.subred);
        ip(&["addr", "add", &direccion, "dev", &raiz]);
        ip(&["link", "set", &raiz, "up"]);
        println!(
            "[fallos] network namespaces {}-{{br,{}}} on 198.18.{}.0/24",
            red.prefijo,
            nodos.join(","),
            red.subred
        );
        red
    }

    fn puente(&self) -> String {
        format!("{}-br", self.prefijo)
    }

    /// The namespace of a node.
    pub fn espacio(&self, nodo: &str) -> String {
        format!("{}-{nodo}", self.prefijo)
    }

    fn indice(&self, nodo: &str) -> usize {
        self.nodos
            .iter()
            .skip(1)
            .position(|n| n == nodo)
            .unwrap_or_else(|| panic!("no node {nodo} in this network"))
    }

    fn ip_de(&self, indice: usize) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, self.subred, indice as u8 + 1)
    }

    /// The address of a node.
    pub fn ip(&self, nodo: &str) -> Ipv4Addr {
        self.ip_de(self.indice(nodo))
    }

    /// Where a service on `nodo` runs.
    pub fn en(&self, nodo: &str) -> EnRed {
        EnRed {
            espacio: self.espacio(nodo),
            ip: self.ip(nodo),
        }
    }

    /// Cuts the node off: its bridge port goes down.
    pub fn cortar(&self, nodo: &str) {
        let puerto = format!("p{}", self.indice(nodo));
        println!("[fallos] cutting the link of {nodo}");
        ip(&["-n", &self.puente(), "link", "set", &puerto, "down"]);
    }

    /// Heals the node's link.
    pub fn curar(&self, nodo: &str) {
        let puerto = format!("p{}", self.indice(nodo));
        println!("[fallos] healing the link of {nodo}");
        ip(&["-n", &self.puente(), "link", "set", &puerto, "up"]);
    }

    /// One more address of the root namespace on the nodes' subnet, `198.18.N.253`: a service
    /// of the test listening there (PostgreSQL) can be cut from one node alone
    /// ([`Red::bloquear`]) while the node still reaches the test at `198.18.N.254`.
    pub fn segunda_ip_raiz(&self) -> Ipv4Addr {
        let dir = Ipv4Addr::new(198, 18, self.subred, 253);
        let ya = Command::new("ip")
            .args(["-4", "addr", "show", "dev", &self.enlace_raiz])
            .output()
            .is_ok_and(|s| String::from_utf8_lossy(&s.stdout).contains(&format!("{dir}/")));
        if !ya {
            ip(&[
                "addr",
                "add",
                &format!("{dir}/32"),
                "dev",
                &self.enlace_raiz,
            ]);
        }
        dir
    }

    /// The subnet of the scenario, as `198.18.N.0/24`.
    pub fn subred(&self) -> String {
        format!("198.18.{}.0/24", self.subred)
    }

    /// Cuts `nodo` off from one address only: a blackhole route in its namespace, so its
    /// packets to `destino` go nowhere while the rest of its traffic flows.
    pub fn bloquear(&self, nodo: &str, destino: Ipv4Addr) {
        println!("[fallos] cutting {nodo} off from {destino}");
        let ruta = format!("{destino}/32");
        ip(&[
            "-n",
            &self.espacio(nodo),
            "route",
            "add",
            "blackhole",
            &ruta,
        ]);
    }

    /// Undoes [`Red::bloquear`].
    pub fn desbloquear(&self, nodo: &str, destino: Ipv4Addr) {
        println!("[fallos] reconnecting {nodo} to {destino}");
        let ruta = format!("{destino}/32");
        ip(&[
            "-n",
            &self.espacio(nodo),
            "route",
            "del",
            "blackhole",
            &ruta,
        ]);
    }
}

impl Drop for Red {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.enlace_raiz])
            .output();
        for nodo in self.nodos.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", &format!("{}-{nodo}", self.prefijo)])
                .output();
        }
    }
}

/// Runs `ip` with `args`; panics with its error output if it fails.
fn ip(args: &[&str]) {
    let salida = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running `ip {}`: {e}", args.join(" ")));
    assert!(
        salida.status.success(),
        "`ip {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&salida.stderr).trim()
    );
}

fn exigir_root_e_iproute2() {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let ip = Command::new("ip").arg("-V").output();
    let falta = match (uid, ip) {
        (0, Ok(s)) if s.status.success() => return,
        (0, _) => "the `ip` command of iproute2 is missing".to_string(),
        (uid, _) => format!("this process runs as uid {uid}, not root"),
    };
    panic!(
        "the network partition scenario needs root and iproute2 (`ip netns`, veth, bridge), \
         and {falta}. Run it as root on Linux, or set HPC_SIN_NETNS=1 to exclude it (it then \
         says so loudly and tests nothing)."
    );
}

/// Removes the namespaces (and root links) of earlier runs whose process is gone.
fn limpiar_restos() {
    let Ok(salida) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for linea in String::from_utf8_lossy(&salida.stdout).lines() {
        let Some(nombre) = linea.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = nombre
            .strip_prefix(PREFIJO)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        println!("[fallos] removing namespace {nombre} left by an earlier run (pid {pid})");
        let _ = Command::new("ip")
            .args(["link", "del", &format!("hf{pid}")])
            .output();
        let _ = Command::new("ip").args(["netns", "del", nombre]).output();
    }
}

/// A subnet `198.18.N.0/24` that no address of the root namespace uses.
fn elegir_subred(pid: u32) -> u8 {
    let usadas = Command::new("ip")
        .args(["-4", "addr", "show"])
        .output()
        .map(|s| String::from_utf8_lossy(&s.stdout).into_owned())
        .unwrap_or_default();
    (0..250u32)
        .map(|k| ((pid + k) % 250 + 1) as u8)
        .find(|n| !usadas.contains(&format!("198.18.{n}.")))
        .expect("a free subnet in 198.18.0.0/16")
}
