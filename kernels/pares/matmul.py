#!/usr/bin/env python3
"""The numpy peer of the `matmul` kernel, for `banco`: numpy's `a @ b` (OpenBLAS's sgemm).

    python3 kernels/pares/matmul.py [n=2048] [nucleo=Haswell] [--repeticiones N]

Times `a @ b` on two n x n float32 matrices: the best of N runs (default 5), after one
untimed run. Which OpenBLAS kernels run is OpenBLAS's choice for this CPU, unless `nucleo`
names one (it becomes OPENBLAS_CORETYPE before numpy loads OpenBLAS). `banco` runs this
script twice: as is, and with `nucleo=Haswell`, OpenBLAS's AVX2 kernels, the like-for-like
peer of gemm's AVX2 path.

Prints one line of `clave=valor` pairs: `segundos` (the best time), `gflops` (2·n³ per
second) and `nucleo` (the kernels OpenBLAS chose, from threadpoolctl when installed, else
OPENBLAS_CORETYPE or "auto").
"""

import os
import sys
import time


def argumentos(args):
    n, repeticiones = 2048, 5
    it = iter(args)
    for a in it:
        if a == "--repeticiones":
            repeticiones = int(next(it))
        elif a.startswith("n="):
            n = int(a[2:])
        elif a.startswith("nucleo="):
            os.environ["OPENBLAS_CORETYPE"] = a[len("nucleo=") :]
        else:
            raise SystemExit(f"unknown argument {a!r}\n{__doc__}")
    return n, repeticiones


def nucleo():
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("internal_api") == "openblas":
                return info.get("architecture") or "auto"
    except ImportError:
        pass
    return os.environ.get("OPENBLAS_CORETYPE", "auto")


def main():
    n, repeticiones = argumentos(sys.argv[1:])
    import numpy as np  # after argumentos: OpenBLAS reads OPENBLAS_CORETYPE when it loads

    r = np.random.default_rng(1)
    a = r.random((n, n), dtype=np.float32)
    b = r.random((n, n), dtype=np.float32)
    a @ b
    mejor = float("inf")
    for _ in range(repeticiones):
        inicio = time.perf_counter()
        a @ b
        mejor = min(mejor, time.perf_counter() - inicio)
    print(f"segundos={mejor!r} gflops={2 * n**3 / mejor / 1e9!r} nucleo={nucleo()}")


if __name__ == "__main__":
    main()
