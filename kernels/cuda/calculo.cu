// The `Cuda` backend of matmul, vector_add, montecarlo and nbody (kernels/src/cuda.rs runs
// them). Compiled by scripts/ptx.py to calculo.ptx for compute_70 WITH fused multiply-adds
// (unlike julia.cu): matmul and nbody agree with the CPU within the tolerances written in
// kernels/src/matmul.rs and nbody.rs; vector_add (one add per element) and montecarlo (integer
// arithmetic only) are exact anyway.

typedef unsigned int u32;
typedef unsigned long long u64;

// ---------------------------------------------------------------------------------------------
// matmul: C = A·B, n × n row-major f32. Block tile 128 × 128, k-slab of 8, 256 threads, each
// computing an 8 × 8 register tile: rows tr·4 + {0..3} and 64 + tr·4 + {0..3}, the same for
// columns with tc, so that the shared-memory reads of a warp are consecutive float4s (no bank
// conflicts). A is stored transposed in shared memory. Blocks fully inside the matrix (and n a
// multiple of 8) load with float4; edge blocks load element by element with bounds checks,
// padding with zeros.
#define BM 128
#define BN 128
#define BK 8

extern "C" __global__ void __launch_bounds__(256, 2)
    matmul(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, int n) {
    __shared__ __align__(16) float As[BK][BM];
    __shared__ __align__(16) float Bs[BK][BN];
    const int tid = threadIdx.x;
    const int tr = tid / 16, tc = tid % 16;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const bool completo = (n % BK == 0) && row0 + BM <= n && col0 + BN <= n;
    const int ar = tid / 2, ak = (tid % 2) * 4;   // A: row ar, k ak..ak+3
    const int bk = tid / 32, bc = (tid % 32) * 4; // B: k bk, columns bc..bc+3
    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < n; k0 += BK) {
        if (completo) {
            float4 a = *reinterpret_cast<const float4*>(&A[(size_t)(row0 + ar) * n + k0 + ak]);
            As[ak + 0][ar] = a.x;
            As[ak + 1][ar] = a.y;
            As[ak + 2][ar] = a.z;
            As[ak + 3][ar] = a.w;
            *reinterpret_cast<float4*>(&Bs[bk][bc]) =
                *reinterpret_cast<const float4*>(&B[(size_t)(k0 + bk) * n + col0 + bc]);
        } else {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                int gr = row0 + ar, gk = k0 + ak + q;
                As[ak + q][ar] = (gr < n && gk < n) ? A[(size_t)gr * n + gk] : 0.0f;
                int hk = k0 + bk, hc = col0 + bc + q;
                Bs[bk][bc + q] = (hk < n && hc < n) ? B[(size_t)hk * n + hc] : 0.0f;
            }
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float4 a0 = *reinterpret_cast<const float4*>(&As[k][tr * 4]);
            float4 a1 = *reinterpret_cast<const float4*>(&As[k][64 + tr * 4]);
            float4 b0 = *reinterpret_cast<const float4*>(&Bs[k][tc * 4]);
            float4 b1 = *reinterpret_cast<const float4*>(&Bs[k][64 + tc * 4]);
            float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 8; i++) {
        int r = row0 + (i < 4 ? tr * 4 + i : 64 + tr * 4 + i - 4);
#pragma unroll
        for (int h = 0; h < 2; h++) {
            int c = col0 + h * 64 + tc * 4;
            if (completo) {
                *reinterpret_cast<float4*>(&C[(size_t)r * n + c]) = make_float4(
                    acc[i][h * 4], acc[i][h * 4 + 1], acc[i][h * 4 + 2], acc[i][h * 4 + 3]);
            } else if (r < n) {
#pragma unroll
                for (int q = 0; q < 4; q++)
                    if (c + q < n) C[(size_t)r * n + c + q] = acc[i][h * 4 + q];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// vector_add: c = a + b, grid-stride, float4 loads and stores (the buffers come from cuMemAlloc,
// 256-byte aligned), then the last n % 4 elements one by one.
extern "C" __global__ void vector_add(const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ c, u64 n) {
    const u64 paso = (u64)gridDim.x * blockDim.x;
    const u64 t = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    const u64 n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* c4 = reinterpret_cast<float4*>(c);
    for (u64 i = t; i < n4; i += paso) {
        float4 x = a4[i], y = b4[i];
        c4[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
    for (u64 i = n4 * 4 + t; i < n; i += paso) c[i] = a[i] + b[i];
}

// ---------------------------------------------------------------------------------------------
// montecarlo: Philox4x32-10 as kernels/src/azar.rs; block b = counter (b, b >> 32, 0, 0), two
// samples each; every thread counts its blocks of [desde, hasta) (grid-stride; the host launches
// ranges one after another so that it can stop between them), a warp sums by shuffles and one
// lane adds to the u64 total with an atomic: integer arithmetic only, exact.
__device__ __forceinline__ u32 dentro_de(u32 a, u32 b) {
    u64 x = a >> 8, y = b >> 8;
    return x * x + y * y < (1ull << 48);
}

extern "C" __global__ void montecarlo(u64 desde, u64 hasta, u32 k0, u32 k1, u64* dentro) {
    u64 cuenta = 0;
    const u64 paso = (u64)gridDim.x * blockDim.x;
    for (u64 b = desde + (u64)blockIdx.x * blockDim.x + threadIdx.x; b < hasta; b += paso) {
        u32 c0 = (u32)b, c1 = (u32)(b >> 32), c2 = 0, c3 = 0;
        u32 ka = k0, kb = k1;
#pragma unroll
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                ka += 0x9E3779B9u;
                kb += 0xBB67AE85u;
            }
            u32 hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
            u32 hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
            u32 n0 = hi1 ^ c1 ^ ka, n2 = hi0 ^ c3 ^ kb;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
        }
        cuenta += dentro_de(c0, c1) + dentro_de(c2, c3);
    }
#pragma unroll
    for (int d = 16; d > 0; d /= 2) cuenta += __shfl_down_sync(0xffffffffu, cuenta, d);
    if ((threadIdx.x & 31) == 0 && cuenta != 0) atomicAdd(dentro, cuenta);
}

// ---------------------------------------------------------------------------------------------
// nbody: one step of kernels/src/nbody.rs's model. Body i (one thread) sums the accelerations
// from every body j, tile by tile of blockDim.x bodies staged in shared memory (GPU Gems 3,
// ch. 31); padding bodies have mass 0. Positions are (x, y, z, m), read from `pos` and written
// to `pos_nueva` (double buffer), velocities (vx, vy, vz, 0) updated in place:
// v += a·dt, then r += v·dt.
extern "C" __global__ void nbody(const float4* __restrict__ pos, float4* __restrict__ pos_nueva,
                                 float4* __restrict__ vel, int n, float eps2, float dt) {
    extern __shared__ float4 tile[];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const float4 p = i < n ? pos[i] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    float ax = 0.0f, ay = 0.0f, az = 0.0f;
    for (int t0 = 0; t0 < n; t0 += blockDim.x) {
        const int j = t0 + threadIdx.x;
        tile[threadIdx.x] = j < n ? pos[j] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        __syncthreads();
#pragma unroll 16
        for (int q = 0; q < blockDim.x; q++) {
            const float4 o = tile[q];
            const float dx = o.x - p.x, dy = o.y - p.y, dz = o.z - p.z;
            const float d2 = dx * dx + dy * dy + dz * dz + eps2;
            const float inv = rsqrtf(d2);
            const float s = o.w * (inv * inv * inv);
            ax += dx * s;
            ay += dy * s;
            az += dz * s;
        }
        __syncthreads();
    }
    if (i < n) {
        float4 v = vel[i];
        v.x += ax * dt;
        v.y += ay * dt;
        v.z += az * dt;
        vel[i] = v;
        pos_nueva[i] = make_float4(p.x + v.x * dt, p.y + v.y * dt, p.z + v.z * dt, p.w);
    }
}
