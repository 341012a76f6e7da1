// autovalores: Householder tridiagonalisation of a symmetric n x n double matrix on the GPU, one
// column per step, the same algorithm and storage as Secuencial's
// (kernels/src/autovalores/tridiagonal.rs, `reducir`): row-major, full storage, both triangles
// updated. Step k runs the four kernels below in order on one stream; afterwards row k holds
// the reflector v_k in columns k+1..n (v_k[k+1] = 1) and d, e, tau the tridiagonal and the
// reflectors' factors. The host then finds the eigenvalues of the tridiagonal (QL) and applies
// the reflectors to the sampled eigenvector, with the CPU's code.
//
// Step k, with m = n - k - 1, x = row k from column k+1 and S the trailing m x m block:
//   autovalores_reflector: H = I - tau v v^T with H x = beta e_0 (LAPACK's dlarfg); v into x.
//   autovalores_symv:      p = tau S v              (one warp per row of S)
//   autovalores_w:         p -= (tau/2)(p^T v) v    (one block)
//   autovalores_rango2:    S -= v p^T + p v^T       (2-D grid-stride over S)
// When tau = 0 (x is already beta e_0) the last three do nothing.
//
// Every kernel takes n and k as int: n <= 8192 (comun's MAX_N_AUTOVALORES), so every index
// below n * n fits in size_t arithmetic, done in size_t.

// Threads of the one-block kernels (a power of two).
#define HILOS_BLOQUE 1024

// Sum of `valor` over the block (blockDim.x == HILOS_BLOQUE), returned to every thread.
__device__ double suma_bloque(double valor, double* compartida)
{
    compartida[threadIdx.x] = valor;
    __syncthreads();
    for (int paso = HILOS_BLOQUE / 2; paso > 0; paso >>= 1) {
        if (threadIdx.x < paso) {
            compartida[threadIdx.x] += compartida[threadIdx.x + paso];
        }
        __syncthreads();
    }
    double total = compartida[0];
    __syncthreads();
    return total;
}

// One block of HILOS_BLOQUE threads.
extern "C" __global__ void autovalores_reflector(double* a, int n, int k, double* d, double* e,
                                                 double* tau)
{
    __shared__ double compartida[HILOS_BLOQUE];
    const int m = n - k - 1;
    double* x = a + (size_t)k * n + k + 1;
    double s = 0.0;
    for (int i = 1 + threadIdx.x; i < m; i += HILOS_BLOQUE) {
        s += x[i] * x[i];
    }
    const double cola = sqrt(suma_bloque(s, compartida));
    const double alfa = x[0];
    double beta = alfa;
    double t = 0.0;
    if (cola != 0.0) {
        beta = -copysign(hypot(alfa, cola), alfa);
        t = (beta - alfa) / beta;
        const double escala = 1.0 / (alfa - beta);
        for (int i = 1 + threadIdx.x; i < m; i += HILOS_BLOQUE) {
            x[i] *= escala;
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        d[k] = a[(size_t)k * n + k];
        e[k] = beta;
        tau[k] = t;
        x[0] = 1.0;
    }
}

// Warps over the rows of S (grid-stride), 32 lanes along each row.
extern "C" __global__ void autovalores_symv(const double* a, int n, int k, const double* tau,
                                            double* p)
{
    const double t = tau[k];
    if (t == 0.0) {
        return;
    }
    const int m = n - k - 1;
    const int carril = threadIdx.x & 31;
    const int urdimbres = (gridDim.x * blockDim.x) >> 5;
    const double* v = a + (size_t)k * n + k + 1;
    for (int fila = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; fila < m; fila += urdimbres) {
        const double* s = a + (size_t)(k + 1 + fila) * n + k + 1;
        double acumulado = 0.0;
        for (int j = carril; j < m; j += 32) {
            acumulado += s[j] * v[j];
        }
        for (int desplazamiento = 16; desplazamiento > 0; desplazamiento >>= 1) {
            acumulado += __shfl_down_sync(0xffffffffu, acumulado, desplazamiento);
        }
        if (carril == 0) {
            p[fila] = t * acumulado;
        }
    }
}

// One block of HILOS_BLOQUE threads.
extern "C" __global__ void autovalores_w(const double* a, int n, int k, const double* tau,
                                         double* p)
{
    __shared__ double compartida[HILOS_BLOQUE];
    const double t = tau[k];
    if (t == 0.0) {
        return;
    }
    const int m = n - k - 1;
    const double* v = a + (size_t)k * n + k + 1;
    double s = 0.0;
    for (int i = threadIdx.x; i < m; i += HILOS_BLOQUE) {
        s += p[i] * v[i];
    }
    const double k2 = 0.5 * t * suma_bloque(s, compartida);
    for (int i = threadIdx.x; i < m; i += HILOS_BLOQUE) {
        p[i] -= k2 * v[i];
    }
}

// Blocks of 32 x 8 threads, grid-stride over the m x m block S: x along its rows (coalesced),
// y over its rows.
extern "C" __global__ void autovalores_rango2(double* a, int n, int k, const double* tau,
                                              const double* w)
{
    if (tau[k] == 0.0) {
        return;
    }
    const int m = n - k - 1;
    const double* v = a + (size_t)k * n + k + 1;
    for (int i = blockIdx.y * blockDim.y + threadIdx.y; i < m; i += gridDim.y * blockDim.y) {
        const double vi = v[i];
        const double wi = w[i];
        double* fila = a + (size_t)(k + 1 + i) * n + k + 1;
        for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < m; j += gridDim.x * blockDim.x) {
            fila[j] -= vi * w[j] + wi * v[j];
        }
    }
}
