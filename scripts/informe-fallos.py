#!/usr/bin/env python3
"""Prints the figures of the last fault-scenario run (target/fallos/*.json) as Markdown tables,
the tables of docs/reliability.md.

    HPC_BINARIOS=target/release cargo nextest run -p fallos -p maestro -p esclavo -p memoria
    python3 scripts/informe-fallos.py            # then paste into docs/reliability.md
"""
import json
import pathlib
import sys

carpeta = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/fallos")
escenarios = [
    "esclavo_sigkill",
    "maestro_sigkill",
    "esclavo_reinicio",
    "maestro_ausente",
    "particion",
    "memoria_caida",
    "disco_lento",
    "drenaje",
    "carga",
]
# On PostgreSQL: they pass without running (and write no figures) where it is not installed.
en_postgres = [
    "replicas_sigkill",
    "replicas_particion",
    "replicas_postgres_reinicio",
    "replicas_seguidor_sigkill",
]
filas = []
for nombre in escenarios + en_postgres:
    ruta = carpeta / f"{nombre}.json"
    if not ruta.exists():
        if nombre in en_postgres:
            print(f"(no figures of {nombre}: PostgreSQL was not installed?)", file=sys.stderr)
            continue
        print(f"missing {ruta}: run the scenario first", file=sys.stderr)
        sys.exit(1)
    filas.append(json.loads(ruta.read_text()))

print("| scenario | accepted | finished | duplicates | lost | faults injected | failed attempts | time (s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for f in filas:
    print(
        f"| `{f['escenario']}` | {f['aceptados']:,} | {f['terminados']:,} | {f['duplicados']} "
        f"| {f['perdidos']} | {f['fallos_inyectados']} | {f['intentos_fallidos']} | {f['duracion_s']:.1f} |"
    )
binarios = {f["binarios"] for f in filas}
print()
print(f"Binaries: {', '.join(sorted(binarios))}")

print()
print("Scenario-specific figures:")
print()
comunes = {
    "escenario", "binarios", "aceptados", "terminados", "completados", "duplicados", "perdidos",
    "fallos_inyectados", "intentos_fallidos", "intentos_sin_cerrar", "problemas_historial",
    "duracion_s",
}
for f in filas:
    extra = ", ".join(f"{k} {v}" for k, v in f.items() if k not in comunes)
    print(f"- `{f['escenario']}`: {extra}")

casos = 0
print()
for servicio in ["maestro", "esclavo", "memoria"]:
    ruta = carpeta / f"malformado-{servicio}.json"
    if ruta.exists():
        n = json.loads(ruta.read_text())["casos"]
        casos += n
        print(f"- bad inputs tried on the {servicio}'s endpoints: {n}")
print(f"- bad inputs in all: {casos}")
