#!/usr/bin/env python3
"""The numpy peer of the `fft` kernel, for `banco`: numpy.fft (pocketfft) on the same signal.

    python3 kernels/pares/fft.py [n=4194304] [m=1] [semilla=1] [--repeticiones N]

Builds the kernel's signal from the same seed (kernels/src/fft.rs: point i is re + i·im, re and
im from streams 70 and 71 of kernels/src/azar.rs as f64 in [-1, 1), through azar.py), then
times numpy.fft.fft (m = 1) or numpy.fft.fft2 (m > 1, n rows × m columns) on it: the best of N
runs (default 5), after one untimed run. Only the transform is timed, as the
kernel times only its own.

Prints one line of `clave=valor` pairs: `segundos` (the best time), `gflops` (5·N·log2 N per
second, as the kernel counts), and the spectrum's `checksum` (Σ re + im) and `parseval`
(|Σ|X|² / (N·Σ|x|²) − 1|), computed as the kernel computes them, so `banco` can check that
both transformed the same signal to the same spectrum.
"""

import sys
import time

import numpy as np

from azar import argumentos, uniforme_f64

FLUJO_REAL, FLUJO_IMAGINARIO = 70, 71
DEFECTO = {"n": 1 << 22, "m": 1, "semilla": 1}


def main():
    p, repeticiones = argumentos(sys.argv[1:], DEFECTO, 5, __doc__)
    n, m = p["n"], p["m"]
    puntos = n * m
    i = np.arange(puntos, dtype=np.uint64)
    x = uniforme_f64(p["semilla"], FLUJO_REAL, i) + 1j * uniforme_f64(
        p["semilla"], FLUJO_IMAGINARIO, i
    )
    transformar = np.fft.fft if m == 1 else np.fft.fft2
    if m > 1:
        x = x.reshape(n, m)
    y = transformar(x)
    mejor = float("inf")
    for _ in range(repeticiones):
        inicio = time.perf_counter()
        y = transformar(x)
        mejor = min(mejor, time.perf_counter() - inicio)
    energia = np.sum(np.abs(x) ** 2)
    parseval = abs(np.sum(np.abs(y) ** 2) / (puntos * energia) - 1.0) if energia else 0.0
    gflops = 5 * puntos * np.log2(puntos) / mejor / 1e9 if puntos > 1 else 0.0
    checksum = float(np.sum(y.real) + np.sum(y.imag))
    valores = {"segundos": mejor, "gflops": gflops, "checksum": checksum, "parseval": parseval}
    print(" ".join(f"{clave}={float(v)!r}" for clave, v in valores.items()))


if __name__ == "__main__":
    main()
