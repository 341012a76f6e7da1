// The `Cuda` backend of kmeans (kernels/src/kmeans/cuda.rs runs it): one step of Lloyd is
// kmeans_asignar (the nearest centroid of every point) then kmeans_sumar (each cluster's sum
// and count); the host updates the centroids between steps with the CPU's own code.
//
// Compiled by scripts/ptx.py to kmeans.ptx for compute_70 WITH fused multiply-adds: the f32
// distances decide a point's cluster only when the nearest wins by more than twice their error
// bound, which holds for any rounding order, FMA or not (kernels/src/kmeans/paralelo.rs gives
// the bound); closer calls are settled with exact lattice distances in 64-bit integers, and
// the sums are 64-bit integers too, so every backend computes the same assignment and sums.
//
// The lattice (kernels/src/kmeans/datos.rs): every coordinate is a multiple of 2^-19 of
// magnitude below 32, so x * 2^19 is an exact integer below 2^24 in magnitude.

typedef unsigned int u32;
typedef unsigned long long u64;

#define HILOS 256
#define TK 32 // centroids in a shared-memory tile
#define DC 32 // coordinates in a shared-memory tile
#define ESCALA 524288.0f

// The lattice integer of a coordinate (exact: a multiple of 2^-19 times 2^19).
__device__ __forceinline__ int entero(float v) { return (int)(v * ESCALA); }

// The first nearest centroid of point x by exact squared lattice distance (sum of (X - C)^2,
// below 2^60): the definition every backend computes.
__device__ u32 mas_cercano(const float* __restrict__ x, const float* __restrict__ c, int d,
                           int k) {
    u64 mejor = ~0ull;
    u32 j_mejor = 0;
    for (int j = 0; j < k; j++) {
        long long s = 0;
        for (int l = 0; l < d; l++) {
            long long t = entero(x[l]) - entero(c[(size_t)j * d + l]);
            s += t * t;
        }
        if ((u64)s < mejor) {
            mejor = (u64)s;
            j_mejor = j;
        }
    }
    return j_mejor;
}

// One thread per point, HILOS points a block. For each tile of TK centroids, the points'
// coordinates pass through shared memory DC at a time, transposed (sx[l][point], one column of
// padding so that neither the stores nor the loads conflict), the centroids' as rows read four
// coordinates at once; each thread accumulates its TK dot products in registers, then keeps
// the least v = |c|^2 - 2 x.c, its centroid and the second least. A point whose second least is
// within 2E of its least, E = (d + 8) 2^-23 (|x| + radio)^2, is settled by mas_cercano.
// contadores[0] counts the points whose cluster changed, contadores[1] the exact settlements.
extern "C" __global__ void __launch_bounds__(HILOS)
    kmeans_asignar(const float* __restrict__ x, const float* __restrict__ normas,
                   const float* __restrict__ c, const float* __restrict__ cc, int n, int d, int k,
                   float radio, u32* __restrict__ etiquetas, u32* __restrict__ contadores) {
    __shared__ float sx[DC][HILOS + 1];
    __shared__ __align__(16) float sc[TK][DC];
    __shared__ float scc[TK];
    const int t = threadIdx.x;
    const int i0 = blockIdx.x * HILOS;
    float minimo = __int_as_float(0x7f800000), segundo = minimo;
    u32 mejor = 0;
    for (int j0 = 0; j0 < k; j0 += TK) {
        float acc[TK];
#pragma unroll
        for (int q = 0; q < TK; q++) acc[q] = 0.0f;
        for (int l0 = 0; l0 < d; l0 += DC) {
            __syncthreads();
#pragma unroll 4
            for (int q = 0; q < DC; q++) {
                const int e = q * HILOS + t, s = e / DC, l = e % DC;
                sx[l][s] = (i0 + s < n && l0 + l < d) ? x[(size_t)(i0 + s) * d + l0 + l] : 0.0f;
            }
#pragma unroll
            for (int q = 0; q < TK * DC / HILOS; q++) {
                const int e = q * HILOS + t, j = e / DC, l = e % DC;
                sc[j][l] = (j0 + j < k && l0 + l < d) ? c[(size_t)(j0 + j) * d + l0 + l] : 0.0f;
            }
            if (t < TK) scc[t] = j0 + t < k ? cc[j0 + t] : __int_as_float(0x7f800000);
            __syncthreads();
            const int hasta = min(DC, d - l0);
            for (int l = 0; l < hasta; l += 4) {
                const float x0 = sx[l][t], x1 = sx[l + 1][t], x2 = sx[l + 2][t],
                            x3 = sx[l + 3][t];
#pragma unroll
                for (int q = 0; q < TK; q++) {
                    const float4 v = *reinterpret_cast<const float4*>(&sc[q][l]);
                    acc[q] = fmaf(x0, v.x, acc[q]);
                    acc[q] = fmaf(x1, v.y, acc[q]);
                    acc[q] = fmaf(x2, v.z, acc[q]);
                    acc[q] = fmaf(x3, v.w, acc[q]);
                }
            }
        }
#pragma unroll
        for (int q = 0; q < TK; q++) {
            const float v = scc[q] - 2.0f * acc[q];
            if (v < minimo) {
                segundo = minimo;
                minimo = v;
                mejor = j0 + q;
            } else if (v < segundo) {
                segundo = v;
            }
        }
    }
    const int i = i0 + t;
    bool cambio = false, exacto = false;
    if (i < n) {
        const float r = normas[i] + radio;
        const float e = (float)(d + 8) * 1.1920928955078125e-7f * r * r;
        if (segundo <= minimo + 2.0f * e) {
            exacto = true;
            mejor = mas_cercano(x + (size_t)i * d, c, d, k);
        }
        cambio = etiquetas[i] != mejor;
        etiquetas[i] = mejor;
    }
    const u32 cambios = __popc(__ballot_sync(0xffffffffu, cambio));
    const u32 exactos = __popc(__ballot_sync(0xffffffffu, exacto));
    if ((t & 31) == 0) {
        if (cambios) atomicAdd(&contadores[0], cambios);
        if (exactos) atomicAdd(&contadores[1], exactos);
    }
}

// Each cluster's sum of lattice integers (exact in 64 bits, below 2^48 in magnitude, two's
// complement) and count of points, grid-stride over the n * d coordinates (below 2^28, so
// 32-bit indices). With `compartida`, a block first sums into shared memory (k * d sums then k
// counts, zeroed here) and adds its totals to the global ones at the end; otherwise it adds to
// the global ones directly. Integer additions commute: the result is the same in any order.
extern "C" __global__ void __launch_bounds__(HILOS)
    kmeans_sumar(const float* __restrict__ x, const u32* __restrict__ etiquetas, int n, int d,
                 int k, int compartida, u64* __restrict__ sumas, u64* __restrict__ cuentas) {
    extern __shared__ u64 propias[];
    const u32 kd = (u32)k * d;
    u64* s = compartida ? propias : sumas;
    u64* cnt = compartida ? propias + kd : cuentas;
    if (compartida) {
        for (u32 e = threadIdx.x; e < kd + k; e += blockDim.x) propias[e] = 0;
        __syncthreads();
    }
    const u32 total = (u32)n * d, paso = gridDim.x * blockDim.x;
    for (u32 e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += paso) {
        const u32 i = e / d, l = e - i * d, j = etiquetas[i];
        atomicAdd(&s[j * d + l], (u64)(long long)entero(x[e]));
        if (l == 0) atomicAdd(&cnt[j], 1ull);
    }
    if (compartida) {
        __syncthreads();
        for (u32 e = threadIdx.x; e < kd + k; e += blockDim.x) {
            const u64 v = propias[e];
            if (v != 0) atomicAdd(e < kd ? &sumas[e] : &cuentas[e - kd], v);
        }
    }
}
