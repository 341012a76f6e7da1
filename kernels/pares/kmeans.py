#!/usr/bin/env python3
"""The scikit-learn peer of the `kmeans` kernel, for `banco`.

    python3 kernels/pares/kmeans.py PROBLEMA [--repeticiones N]

PROBLEMA is the file `banco` writes (kernels/src/bin/banco/kmeans.rs): four little-endian u32
(muestras, dimensiones, k, iteraciones), then the points as muestras x dimensiones float32,
row-major, then the initial centroids as k x dimensiones float32: the kernel's own blobs and
k-means++ start, so both sides solve the same problem.

Runs `KMeans(n_clusters=k, algorithm="lloyd", n_init=1, init=<those centroids>,
max_iter=iteraciones, tol=0).fit(points)` N times (default 3), as a user would time it (the
whole `fit`: scikit-learn's set-up, its Lloyd loop on every core through OpenMP and BLAS, and
its final inertia), and prints one line of `clave=valor` pairs: `segundos`, the best time;
`iteraciones`, the steps the last run took (`n_iter_`); `inercia`, its final inertia.
"""

import sys
import time

import numpy as np
from sklearn.cluster import KMeans


def leer(ruta):
    """The problem banco wrote: the points and the initial centroids, and the step count."""
    with open(ruta, "rb") as f:
        n, d, k, iteraciones = (int(v) for v in np.fromfile(f, dtype="<u4", count=4))
        x = np.fromfile(f, dtype="<f4", count=n * d).reshape(n, d)
        iniciales = np.fromfile(f, dtype="<f4", count=k * d).reshape(k, d)
    if x.shape != (n, d) or iniciales.shape != (k, d):
        raise SystemExit(f"{ruta}: truncated file")
    return x, iniciales, iteraciones


def main():
    args = sys.argv[1:]
    repeticiones = 3
    if "--repeticiones" in args:
        i = args.index("--repeticiones")
        repeticiones = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    x, iniciales, iteraciones = leer(args[0])
    mejor = float("inf")
    for _ in range(repeticiones):
        modelo = KMeans(
            n_clusters=len(iniciales),
            algorithm="lloyd",
            n_init=1,
            init=iniciales,
            max_iter=iteraciones,
            tol=0,
        )
        inicio = time.perf_counter()
        modelo.fit(x)
        mejor = min(mejor, time.perf_counter() - inicio)
    print(f"segundos={mejor} iteraciones={modelo.n_iter_} inercia={modelo.inertia_}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
