#!/usr/bin/env python3
"""The scipy peer of the `imagen` kernel's Gaussian blur, for `banco`.

    python3 kernels/pares/imagen.py LADO SIGMA [repeticiones]

Blurs one LADO × LADO float32 plane (seeded uniform values in [0, 255)) with
`scipy.ndimage.gaussian_filter(plano, sigma, mode="nearest", truncate=r / sigma,
output=float32)`, where r = ceil(3 sigma): the kernel's `desenfoque` exactly as it is defined
(separable, 2r + 1 taps normalised to sum 1, edges clamped = scipy's "nearest"), on one
channel of float32, which is what banco times `kernels::imagen::desenfocar_plano` on.

Prints one line: `segundos=` the best time of `repeticiones` runs (default 5) in seconds, and
`scipy=` its version.
"""

import math
import sys
import time

import numpy as np
import scipy
from scipy import ndimage


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    lado, sigma = int(sys.argv[1]), float(sys.argv[2])
    repeticiones = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    radio = math.ceil(3 * sigma)
    plano = np.random.default_rng(1).uniform(0, 255, (lado, lado)).astype(np.float32)
    salida = np.empty_like(plano)
    mejor = math.inf
    for _ in range(repeticiones):
        inicio = time.perf_counter()
        ndimage.gaussian_filter(
            plano, sigma, mode="nearest", truncate=radio / sigma, output=salida
        )
        mejor = min(mejor, time.perf_counter() - inicio)
    print(f"segundos={mejor} scipy={scipy.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
