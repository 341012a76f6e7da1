// The `Cuda` backend of fft (kernels/src/fft/cuda.rs runs them): complex f64, forward
// (X_k = Σ_j x_j·e^{−2πi·jk/N}), batches of contiguous sequences. Compiled by scripts/ptx.py to
// fft.ptx for compute_70, fused multiply-adds allowed (the tolerance in docs/kernels.md allows
// for them).
//
// - A power-of-two length N: Stockham autosort passes (no bit reversal), radix 4 while the
//   remaining sub-length allows, one radix-2 pass when log2 N is odd. Each pass reads one
//   buffer and writes the other; the twiddles come from a table of ω_N^k (fft_raices).
// - Any other length L: Bluestein, X_k = w_k · Σ_j (x_j w_j) conj(w_(k−j)) with the chirp
//   w_t = e^{−πi·t²/L}, t² taken mod 2L in 64-bit integers before sincospi; the convolution
//   through FFTs of a power of two M ≥ 2L − 1, the inverse one as conj(FFT(conj(·))).
// - 2-D: the rows as a batch, a tiled transpose, the columns as a batch, a transpose back.
//
// Every kernel is a grid-stride loop over 64-bit indices, so any grid covers any size.

typedef long long i64;

#define PARA_CADA(t, total) \
    for (i64 t = (i64)blockIdx.x * blockDim.x + threadIdx.x; t < (total); \
         t += (i64)gridDim.x * blockDim.x)

__device__ __forceinline__ double2 suma(double2 a, double2 b) {
    return make_double2(a.x + b.x, a.y + b.y);
}
__device__ __forceinline__ double2 resta(double2 a, double2 b) {
    return make_double2(a.x - b.x, a.y - b.y);
}
__device__ __forceinline__ double2 producto(double2 a, double2 b) {
    return make_double2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
__device__ __forceinline__ double2 conjugado(double2 a) { return make_double2(a.x, -a.y); }
// i·a
__device__ __forceinline__ double2 por_i(double2 a) { return make_double2(-a.y, a.x); }

// w[k] = ω_N^k = e^{−2πi·k/N}, k < N = 2^log_n (k/N is exact, so sincospi sees the exact angle).
extern "C" __global__ void fft_raices(double2* __restrict__ w, int log_n) {
    const i64 n = 1LL << log_n;
    PARA_CADA(k, n) {
        double s, c;
        sincospi(-2.0 * (double)k / (double)n, &s, &c);
        w[k] = make_double2(c, s);
    }
}

// Thread t of a Stockham pass with 2^log_r-point butterflies over sequences of N = 2^log_n
// points, stride s = 2^log_s: its sequence starts at `base`; it takes butterfly p at offset q
// (t = p·s + q within its sequence).
struct Mariposa {
    i64 base, p, q;
};
__device__ __forceinline__ Mariposa mariposa(i64 t, int log_n, int log_s, int log_r) {
    const i64 r = t & ((1LL << (log_n - log_r)) - 1);
    Mariposa m;
    m.base = (t >> (log_n - log_r)) << log_n;
    m.p = r >> log_s;
    m.q = r & ((1LL << log_s) - 1);
    return m;
}

// One radix-4 Stockham pass over `lotes` sequences of N = 2^log_n points: remaining sub-length
// N/s ≥ 4, m = N/(4s). total = lotes · N/4.
extern "C" __global__ void fft_radix4(const double2* __restrict__ x, double2* __restrict__ y,
                                      const double2* __restrict__ w, int log_n, int log_s,
                                      i64 total) {
    const i64 s = 1LL << log_s;
    const i64 m = 1LL << (log_n - log_s - 2);
    PARA_CADA(t, total) {
        const Mariposa b = mariposa(t, log_n, log_s, 2);
        const i64 p = b.p, q = b.q;
        const double2* xb = x + b.base;
        double2* yb = y + b.base;
        const double2 a0 = xb[q + s * p];
        const double2 a1 = xb[q + s * (p + m)];
        const double2 a2 = xb[q + s * (p + 2 * m)];
        const double2 a3 = xb[q + s * (p + 3 * m)];
        const double2 apc = suma(a0, a2), amc = resta(a0, a2);
        const double2 bpd = suma(a1, a3), jbmd = por_i(resta(a1, a3));
        const i64 e = p * s; // < N/4, so 3e < N
        yb[q + s * (4 * p)] = suma(apc, bpd);
        yb[q + s * (4 * p + 1)] = producto(w[e], resta(amc, jbmd));
        yb[q + s * (4 * p + 2)] = producto(w[2 * e], resta(apc, bpd));
        yb[q + s * (4 * p + 3)] = producto(w[3 * e], suma(amc, jbmd));
    }
}

// One radix-2 Stockham pass (as fft_radix4, sub-length N/s ≥ 2, m = N/(2s)); total = lotes · N/2.
extern "C" __global__ void fft_radix2(const double2* __restrict__ x, double2* __restrict__ y,
                                      const double2* __restrict__ w, int log_n, int log_s,
                                      i64 total) {
    const i64 s = 1LL << log_s;
    const i64 m = 1LL << (log_n - log_s - 1);
    PARA_CADA(t, total) {
        const Mariposa b = mariposa(t, log_n, log_s, 1);
        const double2* xb = x + b.base;
        double2* yb = y + b.base;
        const double2 a0 = xb[b.q + s * b.p];
        const double2 a1 = xb[b.q + s * (b.p + m)];
        yb[b.q + s * (2 * b.p)] = suma(a0, a1);
        yb[b.q + s * (2 * b.p + 1)] = producto(w[b.p * s], resta(a0, a1));
    }
}

// b = aᵀ: a is filas × cols row-major, b cols × filas. 32 × 32 tiles through shared memory
// (one column of padding against bank conflicts), blocks of 32 × 8 threads, grid-stride over
// the tiles.
#define TESELA 32
extern "C" __global__ void fft_trasponer(const double2* __restrict__ a, double2* __restrict__ b,
                                         i64 filas, i64 cols) {
    __shared__ double2 tesela[TESELA][TESELA + 1];
    const i64 por_fila = (cols + TESELA - 1) / TESELA;
    const i64 teselas = por_fila * ((filas + TESELA - 1) / TESELA);
    for (i64 k = blockIdx.x; k < teselas; k += gridDim.x) {
        const i64 c0 = (k % por_fila) * TESELA, f0 = (k / por_fila) * TESELA;
        for (int j = threadIdx.y; j < TESELA; j += blockDim.y) {
            const i64 f = f0 + j, c = c0 + threadIdx.x;
            if (f < filas && c < cols) tesela[j][threadIdx.x] = a[f * cols + c];
        }
        __syncthreads();
        for (int j = threadIdx.y; j < TESELA; j += blockDim.y) {
            const i64 c = c0 + j, f = f0 + threadIdx.x;
            if (c < cols && f < filas) b[c * filas + f] = tesela[threadIdx.x][j];
        }
        __syncthreads();
    }
}

// Bluestein's chirp w_t = e^{−πi·t²/L}, t < 2^27: t² < 2^54 is reduced mod 2L exactly first.
__device__ __forceinline__ double2 chirp(i64 t, i64 l) {
    const i64 e = (i64)(((unsigned long long)t * (unsigned long long)t) % (unsigned long long)(2 * l));
    double s, c;
    sincospi(-(double)e / (double)l, &s, &c);
    return make_double2(c, s);
}

// a (lotes × M) = x (lotes × L) times the chirp, padded with zeros; total = lotes · M.
extern "C" __global__ void fft_bluestein_entrada(const double2* __restrict__ x,
                                                 double2* __restrict__ a, i64 l, int log_m,
                                                 i64 total) {
    const i64 m = 1LL << log_m;
    PARA_CADA(t, total) {
        const i64 b = t >> log_m, j = t & (m - 1);
        a[t] = j < l ? producto(x[b * l + j], chirp(j, l)) : make_double2(0.0, 0.0);
    }
}

// f (M points) = conj(w_t) for t in (−L, L), wrapped around M; zeros between.
extern "C" __global__ void fft_bluestein_filtro(double2* __restrict__ f, i64 l, int log_m) {
    const i64 m = 1LL << log_m;
    PARA_CADA(t, m) {
        double2 v = make_double2(0.0, 0.0);
        if (t < l) v = conjugado(chirp(t, l));
        else if (t > m - l) v = conjugado(chirp(m - t, l));
        f[t] = v;
    }
}

// a = conj(a · f), f shared by the lotes sequences of M points; total = lotes · M.
extern "C" __global__ void fft_bluestein_producto(double2* __restrict__ a,
                                                  const double2* __restrict__ f, int log_m,
                                                  i64 total) {
    const i64 m = 1LL << log_m;
    PARA_CADA(t, total) { a[t] = conjugado(producto(a[t], f[t & (m - 1)])); }
}

// x (lotes × L) = w_k · conj(a) / M: a holds FFT(conj(Â·F̂)) = M·conj(the convolution).
// total = lotes · L.
extern "C" __global__ void fft_bluestein_salida(const double2* __restrict__ a,
                                                double2* __restrict__ x, i64 l, int log_m,
                                                i64 total) {
    const double escala = 1.0 / (double)(1LL << log_m);
    PARA_CADA(t, total) {
        const i64 b = t / l, k = t - b * l;
        const double2 y = conjugado(a[(b << log_m) + k]);
        const double2 v = producto(chirp(k, l), y);
        x[t] = make_double2(v.x * escala, v.y * escala);
    }
}
