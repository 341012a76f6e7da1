"""What a binary's `--help` (clap) says it accepts from the environment: shared by
scripts/check-compose.sh and scripts/check-k8s.sh, which check deployment files against it."""

import re

# Read by every binary (tracing's filter), though no flag names it.
SIEMPRE = {"RUST_LOG"}
# The original system's variables, accepted where the binary's --help mentions them.
LEGADO = {"MAESTRO_IP", "MEMORIA_NODE"}


def variables(texto):
    """NAME -> default (or None) for every `[env: NAME...]` in a --help text."""
    resultado = {}
    # clap prints each option as its flag line, its help (which may hold `[default: X]`), then
    # `[env: NAME=]`, or `[env: NAME]` when the value is hidden.
    bloques = re.split(r"\n(?=\s*(?:-\w, )?--[\w-]+)", texto)
    for bloque in bloques:
        for nombre in re.findall(r"\[env: ([A-Z0-9_]+)[=\]]", bloque):
            defecto = re.search(r"\[default: ([^\]]*)\]", bloque)
            resultado[nombre] = defecto.group(1) if defecto else None
    return resultado


def aceptadas(texto):
    """Every variable a binary whose --help is `texto` reads."""
    return set(variables(texto)) | SIEMPRE | {v for v in LEGADO if v in texto}
