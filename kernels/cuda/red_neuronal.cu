// The `Cuda` backend of red_neuronal (kernels/src/red_neuronal/cuda.rs runs them): one
// training step of a multi-layer perceptron as a sequence of launches on one stream, with the
// data, the parameters and every intermediate array resident on the GPU. Compiled by
// scripts/ptx.py to red_neuronal.ptx for compute_70 WITH fused multiply-adds: the products
// differ from the CPU's only in the order of their sums, within the tolerances written in
// kernels/src/red_neuronal.rs. Every other kernel here does, element by element, the arithmetic
// of kernels/src/red_neuronal/elementos.rs (in the same order where a sum is involved).
//
// Matrices are row-major f32; sizes are ints (every array of a job has fewer than 2^31
// elements: its limits bound them).

typedef unsigned int u32;

// ---------------------------------------------------------------------------------------------
// The products C (m×n) = op(A)·op(B), inner dimension k, overwriting C:
//   producto_nn: A stored m×k, B k×n (the forward pass, X·W);
//   producto_tn: A stored k×m (C = Aᵀ·B: the weights' gradient, Xᵀ·δ);
//   producto_nt: B stored n×k (C = A·Bᵀ: the gradient sent back, δ·Wᵀ).
// Block tile 64 × 64, k-slab of 16, 256 threads as 16 × 16, each summing a 4 × 4 register tile
// (rows ty + 16·i, columns tx + 16·j, so that a warp's stores are 16 consecutive floats).
// Each slab of op(A) and op(B) is staged in shared memory (padded against bank conflicts),
// loaded so that consecutive threads read consecutive addresses of the stored matrix
// whichever the transpose; outside the matrices it is padded with zeros. Every entry of C is
// summed in the order of k (a fused multiply-add per step).
#define TM 64
#define TN 64
#define TK 16

template <bool TA, bool TB>
__device__ __forceinline__ void producto(const float* __restrict__ A, const float* __restrict__ B,
                                         float* __restrict__ C, int m, int n, int k) {
    __shared__ float As[TK][TM + 1];
    __shared__ float Bs[TK][TN + 1];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int fila0 = blockIdx.y * TM, col0 = blockIdx.x * TN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < k; k0 += TK) {
        for (int e = threadIdx.x; e < TM * TK; e += blockDim.x) {
            const int i = TA ? e % TM : e / TK, p = TA ? e / TM : e % TK;
            const int gi = fila0 + i, gp = k0 + p;
            float v = 0.0f;
            if (gi < m && gp < k) v = TA ? A[(size_t)gp * m + gi] : A[(size_t)gi * k + gp];
            As[p][i] = v;
        }
        for (int e = threadIdx.x; e < TK * TN; e += blockDim.x) {
            const int j = TB ? e / TK : e % TN, p = TB ? e % TK : e / TN;
            const int gj = col0 + j, gp = k0 + p;
            float v = 0.0f;
            if (gj < n && gp < k) v = TB ? B[(size_t)gj * k + gp] : B[(size_t)gp * n + gj];
            Bs[p][j] = v;
        }
        __syncthreads();
#pragma unroll
        for (int p = 0; p < TK; p++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[p][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[p][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int fila = fila0 + ty + 16 * i;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int col = col0 + tx + 16 * j;
            if (fila < m && col < n) C[(size_t)fila * n + col] = acc[i][j];
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
    producto_nn(const float* A, const float* B, float* C, int m, int n, int k) {
    producto<false, false>(A, B, C, m, n, k);
}

extern "C" __global__ void __launch_bounds__(256)
    producto_tn(const float* A, const float* B, float* C, int m, int n, int k) {
    producto<true, false>(A, B, C, m, n, k);
}

extern "C" __global__ void __launch_bounds__(256)
    producto_nt(const float* A, const float* B, float* C, int m, int n, int k) {
    producto<false, true>(A, B, C, m, n, k);
}

// ---------------------------------------------------------------------------------------------
// A minibatch's rows: row r of `entrada` is row orden[desde + r] of x (d columns), and its class
// goes to yb[r]. One thread per element, grid-stride.
extern "C" __global__ void reunir(const float* __restrict__ x, const u32* __restrict__ y,
                                  const u32* __restrict__ orden, int desde, int filas, int d,
                                  float* __restrict__ entrada, u32* __restrict__ yb) {
    const int paso = gridDim.x * blockDim.x;
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < filas * d; e += paso) {
        const int r = e / d, c = e % d;
        const u32 i = orden[desde + r];
        entrada[e] = x[(size_t)i * d + c];
        if (c == 0) yb[r] = y[i];
    }
}

// z += b on every row (n columns), then max(z, 0) when relu.
extern "C" __global__ void sesgo_relu(float* __restrict__ z, const float* __restrict__ b,
                                      int filas, int n, int relu) {
    const int paso = gridDim.x * blockDim.x;
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < filas * n; e += paso) {
        const float v = z[e] + b[e % n];
        z[e] = relu ? fmaxf(v, 0.0f) : v;
    }
}

// Softmax cross-entropy, one thread per row of `clases` logits: the row's loss into
// perdidas[r], (softmax − onehot)·escala into delta. As elementos.rs: m = max z,
// e = exp(z − m), s = Σ e left to right, loss = ln s − (z_y − m).
extern "C" __global__ void softmax_entropia(const float* __restrict__ z, const u32* __restrict__ y,
                                            int filas, int clases, float escala,
                                            float* __restrict__ delta,
                                            float* __restrict__ perdidas) {
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= filas) return;
    const float* zr = z + (size_t)r * clases;
    float* dr = delta + (size_t)r * clases;
    float m = -__int_as_float(0x7f800000);
    for (int j = 0; j < clases; j++) m = fmaxf(m, zr[j]);
    float s = 0.0f;
    for (int j = 0; j < clases; j++) {
        dr[j] = expf(zr[j] - m);
        s += dr[j];
    }
    const u32 c = y[r];
    for (int j = 0; j < clases; j++) dr[j] = (dr[j] / s - (j == (int)c ? 1.0f : 0.0f)) * escala;
    perdidas[r] = logf(s) - (zr[c] - m);
}

// The biases' gradient: salida[j] = Σ_r delta[r][j], rows in order, one thread per column.
extern "C" __global__ void sumar_columnas(const float* __restrict__ delta, int filas, int n,
                                          float* __restrict__ salida) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    float s = 0.0f;
    for (int r = 0; r < filas; r++) s += delta[(size_t)r * n + j];
    salida[j] = s;
}

// The gradient through a ReLU: delta = 0 where the layer's output a is not positive.
extern "C" __global__ void mascara_relu(float* __restrict__ delta, const float* __restrict__ a,
                                        int total) {
    const int paso = gridDim.x * blockDim.x;
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += paso)
        if (a[e] <= 0.0f) delta[e] = 0.0f;
}

// SGD: w -= tasa·g.
extern "C" __global__ void sgd(float* __restrict__ w, const float* __restrict__ g, int n,
                               float tasa) {
    const int paso = gridDim.x * blockDim.x;
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < n; e += paso) w[e] -= tasa * g[e];
}

// Adam with the host's bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t (β1 = 0.9, β2 = 0.999,
// ε = 1e-8), element by element as elementos.rs (its multiplies and adds may be fused here).
extern "C" __global__ void adam(float* __restrict__ w, const float* __restrict__ g,
                                float* __restrict__ m, float* __restrict__ v, int n, float tasa,
                                float c1, float c2) {
    const float b1 = 0.9f, b2 = 0.999f;
    const int paso = gridDim.x * blockDim.x;
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < n; e += paso) {
        const float gi = g[e];
        const float mi = b1 * m[e] + (1.0f - b1) * gi;
        const float vi = b2 * v[e] + (1.0f - b2) * gi * gi;
        m[e] = mi;
        v[e] = vi;
        w[e] -= tasa * (mi / c1) / (sqrtf(vi / c2) + 1e-8f);
    }
}

// Rows whose largest logit (the first, on a tie) is at their class: one thread per row, each
// right one adding 1 to *cuenta (the accuracy is measured once, after the training).
extern "C" __global__ void aciertos(const float* __restrict__ z, const u32* __restrict__ y,
                                    int filas, int clases, u32* cuenta) {
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= filas) return;
    const float* zr = z + (size_t)r * clases;
    int mejor = 0;
    for (int j = 1; j < clases; j++)
        if (zr[j] > zr[mejor]) mejor = j;
    if (mejor == (int)y[r]) atomicAdd(cuenta, 1u);
}
