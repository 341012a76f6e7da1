#!/usr/bin/env python3
"""Runs `Cuda` jobs through a real cluster on a GPU machine: one maestro, one cuda-featured
esclavo, jobs sent over HTTP, and prints a Markdown report of what came back.

    python3 scripts/gpu-cluster.py --maestro target/release/maestro \\
        --esclavo target/cuda/release/esclavo [--salida DIR]

It checks that the esclavo registered a GPU, that each `Cuda` job completes on it, and that its
checksum equals the CPU's (`Paralelo`) for the same image. With --salida, the logs and the PNG
of the first job are written there. Exits 1 when any check fails. Only the standard library is
used (no Rust, no pip) and only the loopback address is contacted.
"""

import argparse
import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# (algoritmo, width, height, iteraciones); pairs of the same image compare checksums.
TRABAJOS = [
    ("Cuda", 512, 512, 500),
    ("Secuencial", 512, 512, 500),
    ("Cuda", 8192, 8192, 1000),
    ("Paralelo", 8192, 8192, 1000),
]


def pedir(url, cuerpo=None, timeout=90):
    datos = None if cuerpo is None else json.dumps(cuerpo).encode()
    peticion = urllib.request.Request(
        url, data=datos, headers={"Content-Type": "application/json"} if datos else {}
    )
    with urllib.request.urlopen(peticion, timeout=timeout) as r:
        contenido = r.read()
        if r.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(contenido)
        return contenido


def arrancar(orden, registro):
    """Starts a service on port 0 and returns it with the URL of its first output line."""
    proceso = subprocess.Popen(orden, stdout=subprocess.PIPE, stderr=registro, text=True)
    linea = proceso.stdout.readline().strip()
    if "http://" not in linea:
        proceso.kill()
        raise SystemExit(f"{orden[0]} did not start: {linea!r} (see its log)")
    return proceso, linea[linea.index("http://") :]


def puerto_libre():
    """A loopback port free now, so the esclavo can be told its own URL before it starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def buscar(objeto, clave):
    """The first value of `clave` anywhere in a JSON value."""
    if isinstance(objeto, dict):
        if clave in objeto:
            return objeto[clave]
        objeto = list(objeto.values())
    if isinstance(objeto, list):
        for valor in objeto:
            encontrado = buscar(valor, clave)
            if encontrado is not None:
                return encontrado
    return None


def segundos(resultado, campo):
    """A time of the result in seconds, four decimals; `-` where it has none."""
    valor = resultado.get(campo)
    return "-" if valor is None else f"{valor:.4f}"


# The other kernels: (parameters, the result field that must agree, relative tolerance).
OTROS = [
    ({"tipo": "matmul", "n": 2048, "iteraciones": 3}, "checksum", 1e-4),
    ({"tipo": "vector_add", "n": 50_000_000, "iteraciones": 5}, "checksum", 0.0),
    ({"tipo": "montecarlo", "muestras": 1_000_000_000, "semilla": 7}, "dentro", 0.0),
    ({"tipo": "nbody", "particulas": 4096, "pasos": 10, "semilla": 3}, "energia_final", 1e-4),
]


def otros_kernels(url, espera_s):
    """Each other kernel as Cuda, Paralelo and Auto through the cluster: the values agree, and
    Auto ran on the GPU. Returns the number of failed checks."""
    fallos = 0
    print("\n# The other kernels through the cluster: Cuda, Paralelo and Auto\n")
    print("| job | tipo | algoritmo | estado | agreeing value | duracion_s | "
          "duracion_con_copias_s | dispositivo |")
    print("|---:|---|---|---|---:|---:|---:|---|")
    for parametros, campo, tolerancia in OTROS:
        valores = {}
        for algoritmo in ("Cuda", "Paralelo", "Auto"):
            r = pedir(f"{url}/agregar_trabajo", {**parametros, "algoritmo": algoritmo})
            trabajo = pedir(f"{url}/trabajos/{r['id']}?esperar_ms={espera_s * 1000}")
            resultado = trabajo.get("resultado") or {}
            valor = buscar(resultado, campo)
            dispositivo = resultado.get("dispositivo", trabajo.get("motivo", ""))
            print(f"| {r['id']} | {parametros['tipo']} | {algoritmo} | {trabajo['estado']} | "
                  f"{valor} | {segundos(resultado, 'duracion_s')} | "
                  f"{segundos(resultado, 'duracion_con_copias_s')} | {dispositivo} |")
            if trabajo["estado"] != "completado" or valor is None:
                fallos += 1
                continue
            if algoritmo == "Auto" and not dispositivo.startswith("cuda"):
                print(f"\n**Auto did not run on the GPU**: {dispositivo}")
                fallos += 1
            valores[algoritmo] = valor
        if len(valores) == 3:
            referencia = valores["Paralelo"]
            for algoritmo, valor in valores.items():
                diferencia = abs(valor - referencia) / max(abs(referencia), 1e-300)
                if diferencia > tolerancia:
                    print(f"\n**{parametros['tipo']} {algoritmo} differs** from Paralelo by "
                          f"{diferencia:.2e} (tolerance {tolerancia})")
                    fallos += 1
    return fallos


def main():
    argumentos = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    argumentos.add_argument("--maestro", required=True)
    argumentos.add_argument("--esclavo", required=True)
    argumentos.add_argument("--salida", type=pathlib.Path)
    argumentos.add_argument("--espera-s", type=int, default=60,
                            help="longest wait for each job (default 60)")
    a = argumentos.parse_args()
    salida = a.salida or pathlib.Path(tempfile.mkdtemp())
    salida.mkdir(parents=True, exist_ok=True)
    datos = pathlib.Path(tempfile.mkdtemp())
    (datos / "trabajos.txt").write_text("")
    procesos = []
    fallos = 0
    try:
        maestro, url = arrancar(
            [a.maestro, "--puerto", "0", "--datos", str(datos / "datos"),
             "--archivo", str(datos / "trabajos.txt")],
            open(salida / "maestro.log", "w"),
        )
        procesos.append(maestro)
        puerto = puerto_libre()
        esclavo, _ = arrancar(
            [a.esclavo, "--puerto", str(puerto), "--maestro", url, "--nombre", "gpu-0",
             "--url-publica", f"http://127.0.0.1:{puerto}"],
            open(salida / "esclavo.log", "w"),
        )
        procesos.append(esclavo)
        limite = time.monotonic() + 60
        esclavos = []
        while not esclavos and time.monotonic() < limite:
            time.sleep(0.2)
            esclavos = pedir(f"{url}/esclavos")
        if not esclavos:
            raise SystemExit("the esclavo did not register within 60 s (see esclavo.log)")
        gpus = buscar(esclavos, "gpus")
        print("# Cuda jobs through the cluster (maestro + one cuda esclavo)\n")
        print(f"- esclavo registered with GPUs: `{json.dumps(gpus)}`\n")
        if not gpus:
            fallos += 1
        print("| job | algoritmo | image | estado | checksum (suma_conteos) | duracion_s | "
              "duracion_con_copias_s | iterations/s | dispositivo |")
        print("|---:|---|---|---|---:|---:|---:|---:|---|")
        sumas = {}
        for algoritmo, width, height, iteraciones in TRABAJOS:
            r = pedir(f"{url}/agregar_trabajo", {
                "algoritmo": algoritmo, "width": width, "height": height,
                "iteraciones": iteraciones,
            })
            ident = r["id"]
            trabajo = pedir(f"{url}/trabajos/{ident}?esperar_ms={a.espera_s * 1000}")
            resultado = trabajo.get("resultado") or {}
            suma = buscar(resultado, "suma_conteos")
            ips = buscar(resultado, "iteraciones_por_segundo")
            print(
                f"| {ident} | {algoritmo} | {width}×{height} × {iteraciones} | "
                f"{trabajo['estado']} | {suma} | "
                f"{segundos(resultado, 'duracion_s')} | "
                f"{segundos(resultado, 'duracion_con_copias_s')} | "
                f"{'-' if ips is None else f'{ips:.3e}'} | "
                f"{resultado.get('dispositivo', trabajo.get('motivo', ''))} |"
            )
            if trabajo["estado"] != "completado":
                fallos += 1
            sumas.setdefault((width, height, iteraciones), set()).add(suma)
            if ident == 1 and resultado.get("imagen"):
                (salida / "julia-cuda.png").write_bytes(pedir(f"{url}/trabajos/1/imagen"))
        for imagen, valores in sumas.items():
            if len(valores) != 1:
                print(f"\n**checksums differ** for {imagen}: {sorted(map(str, valores))}")
                fallos += 1
        fallos += otros_kernels(url, a.espera_s)
        print("\nRESULT: " + ("all checks passed" if fallos == 0 else f"{fallos} check(s) failed"))
    finally:
        for p in procesos:
            p.terminate()
        for p in procesos:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0 if fallos == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
