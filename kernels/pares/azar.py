"""What the peer scripts of kernels/pares/ share: the kernels' seeded generator and the command
line every peer takes.

- `valor(semilla, flujo, i)`: kernels/src/azar.rs's `valor` over an array of indices (uint64):
  the SplitMix64 finaliser of semilla + flujo·K + i·φ, wrapping like Rust's u64.
- `uniforme_f64(semilla, flujo, i)`: `azar::uniforme_f64` in [-1, 1): the top 53 bits of
  `valor`, exact.
- `argumentos(args, defecto, repeticiones)`: `clave=valor` pairs over the job's integer
  parameters (`defecto` names them and gives the kernel's defaults) and `--repeticiones N`.
"""

import numpy as np

PHI = np.uint64(0x9E3779B97F4A7C15)
FLUJO = np.uint64(0xD1B54A32D192ED03)


def valor(semilla, flujo, i):
    """Elements `i` (an array, any integer type) of stream `flujo`: azar::valor."""
    i = np.asarray(i).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(semilla) + np.uint64(flujo) * FLUJO + i * PHI
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniforme_f64(semilla, flujo, i):
    """Elements `i` of stream `flujo` as f64 in [-1, 1): azar::uniforme_f64(.., -1.0, 1.0)."""
    u = (valor(semilla, flujo, i) >> np.uint64(11)).astype(np.float64)
    return -1.0 + 2.0 * (u * (1.0 / 9007199254740992.0))


def argumentos(args, defecto, repeticiones, uso):
    """The parameters (a copy of `defecto` with the `clave=valor` pairs of `args` applied, as
    integers) and the number of timed runs; exits with `uso` on an unknown argument."""
    p = dict(defecto)
    it = iter(args)
    for a in it:
        if a == "--repeticiones":
            repeticiones = int(next(it))
        elif "=" in a and a.split("=", 1)[0] in p:
            clave, texto = a.split("=", 1)
            p[clave] = int(texto)
        else:
            raise SystemExit(f"unknown argument {a!r}\n{uso}")
    return p, repeticiones
