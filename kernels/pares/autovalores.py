#!/usr/bin/env python3
"""The numpy peer of the `autovalores` kernel, for `banco`: numpy.linalg.eigvalsh (LAPACK's
dsyevd through numpy's OpenBLAS) on the same matrix.

    python3 kernels/pares/autovalores.py [n=2048] [semilla=1] [--repeticiones N]

Builds the kernel's matrix from the same seed (kernels/src/autovalores.rs: A[i][j] = A[j][i]
for i >= j is element i(i+1)/2 + j of the SplitMix64 stream 60 of kernels/src/azar.rs, top 53
bits mapped to [-1, 1)), then times numpy.linalg.eigvalsh on it: the best of N runs (default
3), after one untimed run. Only the eigenvalues are timed, as the kernel times only its own.

Prints one line of `clave=valor` pairs: `segundos` (the best time), `gflops` ((4/3)·n³ per
second, as the kernel counts), and the spectrum's `menor`, `mayor` and `suma` with the matrix's
`traza`, so `banco` can check that both solved the same matrix to the same spectrum.
"""

import sys
import time

import numpy as np

from azar import argumentos, uniforme_f64

FLUJO_MATRIZ = 60
DEFECTO = {"n": 2048, "semilla": 1}


def matriz(n, semilla):
    """The kernel's symmetric n × n matrix: autovalores::entrada(semilla, i, j)."""
    i, j = np.indices((n, n), dtype=np.uint64)
    alto, bajo = np.maximum(i, j), np.minimum(i, j)
    return uniforme_f64(semilla, FLUJO_MATRIZ, alto * (alto + np.uint64(1)) // np.uint64(2) + bajo)


def main():
    p, repeticiones = argumentos(sys.argv[1:], DEFECTO, 3, __doc__)
    n = p["n"]
    a = matriz(n, p["semilla"])
    w = np.linalg.eigvalsh(a)
    mejor = float("inf")
    for _ in range(repeticiones):
        inicio = time.perf_counter()
        w = np.linalg.eigvalsh(a)
        mejor = min(mejor, time.perf_counter() - inicio)
    resultado = {
        "segundos": mejor,
        "gflops": 4.0 / 3.0 * n**3 / mejor / 1e9,
        "menor": w[0],
        "mayor": w[-1],
        "suma": np.sum(w),
        "traza": np.trace(a),
    }
    print(" ".join(f"{clave}={float(v)!r}" for clave, v in resultado.items()))


if __name__ == "__main__":
    main()
