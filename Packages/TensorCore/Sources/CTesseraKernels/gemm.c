// Single-precision GEMM in the BLIS structure: B is packed into kc×NR column panels, A into
// 6×kc row panels, and a micro-kernel keeps the 6×NR block of C in twelve registers over kc
// steps: 6×16 in AVX2/FMA ymm registers, or 6×32 in AVX-512 zmm registers where the CPU has
// AVX-512F (chosen at run time: on Intel cores with two 512-bit FMA units the ymm kernel
// reaches half the peak; AMD Zen 4 splits zmm operations in two, so both run alike there). Why our own instead of OpenBLAS for float32: the training steps are
// many small and medium products, where OpenBLAS pays a separate pass to scale C by beta, its
// threads spin in sched_yield between calls against our workers, and it cannot add a bias and
// apply ReLU while the block is still in registers. Any strides are read (transposed views
// need no copies); the orientation (C or Cᵀ) that wastes less of the 6×16 tiles is chosen.
#include "CTesseraKernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TESSERA_X86 1
#endif

enum { MR = 6, KC = 256, MC = 144, NC = 3072 };

// The panel widths of the two micro-kernels.
enum { NR_AVX2 = 16, NR_AVX512 = 32 };

typedef struct {
    long m, n, k;
    float alpha, beta;
    const float *a; long rsa, csa;
    const float *b; long rsb, csb;
    float *c; long rsc, csc;
    const float *bias;                     // added to every row of C (or NULL)
    int bias_on_rows;                      // after swapping to Cᵀ: added to every column
    int relu;
    const float *packed_b;                 // B already packed by tessera_sgemm_pack_b (or NULL)
    const float *packed_a;                 // A already packed by tessera_sgemm_pack_a (or NULL)
    long nr;                               // the micro-kernel's panel width (NR_AVX2 or NR_AVX512)
} gemm_problem;

static int default_nr = 0;                 // chosen once from the CPU and TESSERA_GEMM_KERNEL
static __thread int forced_nr = 0;         // tessera_sgemm_force_kernel on this thread (0: none)

static int have_avx512(void) {
#if TESSERA_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && tessera_kernels_have_avx2();
#else
    return 0;
#endif
}

// The panel width for a product started on this thread. Packed operands are sized and laid
// out by it, so the packing calls and the products that read them must agree: they do when
// made on one thread without a forced kernel changing in between.
static long active_nr(void) {
    if (forced_nr) return forced_nr;
    // Relaxed atomics: threads that race on the first call compute the same value.
    int nr = __atomic_load_n(&default_nr, __ATOMIC_RELAXED);
    if (!nr) {
        const char *choice = getenv("TESSERA_GEMM_KERNEL");
        int avx2 = choice && strcmp(choice, "avx2") == 0;
        nr = !avx2 && have_avx512() ? NR_AVX512 : NR_AVX2;
        __atomic_store_n(&default_nr, nr, __ATOMIC_RELAXED);
    }
    return nr;
}

int tessera_sgemm_kernel(void) { return active_nr() == NR_AVX512 ? 512 : 256; }

int tessera_sgemm_kernel_available(int bits) {
    return bits == 512 ? have_avx512() : (bits == 256 ? tessera_kernels_have_avx2() : 0);
}

int tessera_sgemm_force_kernel(int bits) {
    if (bits != 0 && !tessera_sgemm_kernel_available(bits)) return 0;
    forced_nr = bits == 512 ? NR_AVX512 : (bits == 256 ? NR_AVX2 : 0);
    return 1;
}

static __thread float *pack_buffer = NULL;

static float *buffers(void) {
    if (!pack_buffer) {
        void *p = NULL;
        if (posix_memalign(&p, 64, sizeof(float) * ((size_t)KC * NC + (size_t)KC * MC + 256)) != 0) return NULL;
        pack_buffer = p;
    }
    return pack_buffer;
}

#if TESSERA_X86
// 8×8 transpose: row i of the input becomes column i of dst (rows ldd apart).
__attribute__((target("avx2,fma")))
static inline void transpose_store(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5, __m256 r6,
                                   __m256 r7, float *dst, long ldd) {
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

__attribute__((target("avx2,fma")))
static inline void transpose8x8(const float *src, long ld, float *dst, long ldd) {
    transpose_store(_mm256_loadu_ps(src + 0 * ld), _mm256_loadu_ps(src + 1 * ld), _mm256_loadu_ps(src + 2 * ld),
                    _mm256_loadu_ps(src + 3 * ld), _mm256_loadu_ps(src + 4 * ld), _mm256_loadu_ps(src + 5 * ld),
                    _mm256_loadu_ps(src + 6 * ld), _mm256_loadu_ps(src + 7 * ld), dst, ldd);
}

// Lanes 0..<count of a vector (count 0...8).
static const int32_t lane_masks[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

__attribute__((target("avx2,fma")))
static inline __m256i lanes(int count) {
    return _mm256_loadu_si256((const __m256i *)(lane_masks + 8 - (count < 0 ? 0 : (count > 8 ? 8 : count))));
}

// 8×8 transpose of rows[i][p..<p+8] into dst[j·8 + i].
__attribute__((target("avx2,fma")))
static inline void transpose_rows(const float *const rows[8], long p, float *dst) {
    __m256 r0 = _mm256_loadu_ps(rows[0] + p), r1 = _mm256_loadu_ps(rows[1] + p);
    __m256 r2 = _mm256_loadu_ps(rows[2] + p), r3 = _mm256_loadu_ps(rows[3] + p);
    __m256 r4 = _mm256_loadu_ps(rows[4] + p), r5 = _mm256_loadu_ps(rows[5] + p);
    __m256 r6 = _mm256_loadu_ps(rows[6] + p), r7 = _mm256_loadu_ps(rows[7] + p);
    transpose_store(r0, r1, r2, r3, r4, r5, r6, r7, dst, 8);
}

// Stores the six values of one panel row: eight lanes (the next row overwrites the extra
// two) except at the panel's last row, whose spill would land in the next panel, which
// another task may be packing at the same time.
__attribute__((target("avx2,fma")))
static inline void store_six(float *dst, __m256 v, int last) {
    if (!last) { _mm256_storeu_ps(dst, v); return; }
    _mm_storeu_ps(dst, _mm256_castps256_ps128(v));
    _mm_storel_pi((__m64 *)(dst + 4), _mm256_extractf128_ps(v, 1));
}

// Packs rows i0..<i0+mc, depths p0..<p0+kc of A into MR-row panels [kc][MR], zero-padding
// the last panel's missing rows.
__attribute__((target("avx2,fma")))
static void pack_a(const gemm_problem *P, long i0, long mc, long p0, long kc, float *dst) {
    for (long ip = 0; ip < mc; ip += MR) {
        long mr = mc - ip < MR ? mc - ip : MR;
        const float *src = P->a + (i0 + ip) * P->rsa + p0 * P->csa;
        if (P->rsa == 1 && mr == MR) {
            // Six contiguous values per depth; masked loads never touch memory past them, and
            // each 8-wide store's two extra lanes are overwritten by the next.
            __m256i six = lanes(MR);
            for (long p = 0; p < kc; p++) store_six(dst + p * MR, _mm256_maskload_ps(src + p * P->csa, six), p + 1 == kc);
        } else if (P->csa == 1 && mr == MR) {
            // Rows are contiguous along the depth: transpose 8×8 blocks whose last two rows
            // repeat row 5, storing 8 wide and letting the next store overwrite the two extra
            // lanes (the buffer has slack after the last panel).
            long p = 0;
            for (; p + 8 <= kc; p += 8) {
                float t[8][8] __attribute__((aligned(32)));
                const float *rows[8] = {src, src + P->rsa, src + 2 * P->rsa, src + 3 * P->rsa, src + 4 * P->rsa,
                                        src + 5 * P->rsa, src + 5 * P->rsa, src + 5 * P->rsa};
                transpose_rows(rows, p, &t[0][0]);
                for (int q = 0; q < 8; q++) store_six(dst + (p + q) * MR, _mm256_load_ps(t[q]), p + q + 1 == kc);
            }
            for (; p < kc; p++)
                for (int r = 0; r < MR; r++) dst[p * MR + r] = src[r * P->rsa + p];
        } else {
            for (long p = 0; p < kc; p++)
                for (int r = 0; r < MR; r++)
                    dst[p * MR + r] = r < mr ? src[r * P->rsa + p * P->csa] : 0.0f;
        }
        dst += kc * MR;
    }
}

// Packs depths p0..<p0+kc, columns j0..<j0+nc of B into NR-column panels [kc][NR].
__attribute__((target("avx2,fma")))
static void pack_b(const gemm_problem *P, long p0, long kc, long j0, long nc, float *dst) {
    const long NR = P->nr;
    for (long jp = 0; jp < nc; jp += NR) {
        long nr = nc - jp < NR ? nc - jp : NR;
        const float *src = P->b + p0 * P->rsb + (j0 + jp) * P->csb;
        if (P->csb == 1 && nr == NR) {
            for (long p = 0; p < kc; p++) {
                const float *s = src + p * P->rsb;
                for (long q = 0; q < NR; q += 8) _mm256_store_ps(dst + p * NR + q, _mm256_loadu_ps(s + q));
            }
        } else if (P->rsb == 1 && nr == NR) {
            // Columns are contiguous along the depth: transpose 8×8 blocks.
            long p = 0;
            for (; p + 8 <= kc; p += 8)
                for (long q = 0; q < NR; q += 8) transpose8x8(src + q * P->csb + p, P->csb, dst + p * NR + q, NR);
            for (; p < kc; p++)
                for (int j = 0; j < NR; j++) dst[p * NR + j] = src[j * P->csb + p];
        } else {
            for (long p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++)
                    dst[p * NR + j] = j < nr ? src[p * P->rsb + j * P->csb] : 0.0f;
        }
        dst += kc * NR;
    }
}

// Stores lanes 0..<count of v (vmaskmovps stores are microcoded and slow on AMD cores).
__attribute__((target("avx2,fma")))
static inline void store_lanes(float *c, __m256 v, int count) {
    if (count >= 8) { _mm256_storeu_ps(c, v); return; }
    __m128 part = _mm256_castps256_ps128(v);
    if (count >= 4) { _mm_storeu_ps(c, part); part = _mm256_extractf128_ps(v, 1); c += 4; count -= 4; }
    if (count >= 2) { _mm_storel_pi((__m64 *)c, part); part = _mm_movehl_ps(part, part); c += 2; count -= 2; }
    if (count >= 1) _mm_store_ss(c, part);
}

// v·alpha + beta·C (+ bias, ReLU) into lanes 0..<count of C.
__attribute__((target("avx2,fma")))
static inline void finish(__m256 v, float *c, int count, __m256 alpha, float beta, __m256 bias, int relu) {
    v = _mm256_mul_ps(v, alpha);
    if (beta != 0.0f) {
        __m256 old = count >= 8 ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, lanes(count));
        v = _mm256_fmadd_ps(_mm256_set1_ps(beta), old, v);
    }
    v = _mm256_add_ps(v, bias);
    // max(0, v) keeps a NaN (the second operand wins when either is NaN), as ReLU does.
    if (relu) v = _mm256_max_ps(_mm256_setzero_ps(), v);
    store_lanes(c, v, count);
}

// Writes one finished MR×16 register block (nr ≤ 16 columns of it): C = alpha·acc + beta·C (+ bias, ReLU when `last`),
// as masked vectors along C's rows, or along its columns after a transpose when C is read
// transposed (the Cᵀ orientation); element by element only for other layouts.
__attribute__((target("avx2,fma")))
static inline void store_block(const gemm_problem *P, __m256 acc[MR][2], long i, long j, int mr, int nr,
                               float beta, int last) {
    __m256 alpha = _mm256_set1_ps(P->alpha), zero = _mm256_setzero_ps();
    const float *bias = last ? P->bias : NULL;
    int relu = last && P->relu;
    if (P->csc == 1) {
        int n0 = nr < 8 ? nr : 8, n1 = nr - 8;
        __m256 b0 = zero, b1 = zero;
        if (bias && !P->bias_on_rows) {
            b0 = _mm256_maskload_ps(bias + j, lanes(n0));
            b1 = _mm256_maskload_ps(bias + j + 8, lanes(n1));
        }
        for (int r = 0; r < mr; r++) {
            float *c = P->c + (i + r) * P->rsc + j;
            if (bias && P->bias_on_rows) b0 = b1 = _mm256_set1_ps(bias[i + r]);
            finish(acc[r][0], c, n0, alpha, beta, b0, relu);
            if (n1 > 0) finish(acc[r][1], c + 8, n1, alpha, beta, b1, relu);
        }
        return;
    }
    float tile[16][8] __attribute__((aligned(32)));
    transpose_store(acc[0][0], acc[1][0], acc[2][0], acc[3][0], acc[4][0], acc[5][0], zero, zero, tile[0], 8);
    transpose_store(acc[0][1], acc[1][1], acc[2][1], acc[3][1], acc[4][1], acc[5][1], zero, zero, tile[8], 8);
    if (P->rsc == 1) {
        __m256 b = zero;
        if (bias && P->bias_on_rows) b = _mm256_maskload_ps(bias + i, lanes(mr));
        for (int s = 0; s < nr; s++) {
            if (bias && !P->bias_on_rows) b = _mm256_set1_ps(bias[j + s]);
            finish(_mm256_load_ps(tile[s]), P->c + (j + s) * P->csc + i, mr, alpha, beta, b, relu);
        }
        return;
    }
    for (int s = 0; s < nr; s++)
        for (int r = 0; r < mr; r++) {
            float *c = P->c + (i + r) * P->rsc + (j + s) * P->csc;
            float v = tile[s][r] * P->alpha;
            if (beta != 0.0f) v += beta * *c;
            if (bias) v += bias[P->bias_on_rows ? i + r : j + s];
            if (relu && v < 0.0f) v = 0.0f;
            *c = v;
        }
}

// acc = Σ_p pa[p][0..6] ⊗ pb[p][0..16] over kc steps, then stored.
__attribute__((target("avx2,fma")))
static void micro_kernel(const gemm_problem *P, long kc, const float *pa, const float *pb, long i, long j,
                         int mr, int nr, float beta, int last) {
    // Fetch the C block now: its rows are a row stride apart (often a power of two, so they
    // miss together), and the k loop below hides the latency. Reading C for beta ≠ 0 was a
    // sixth of a 1024³ product without this.
    if (P->csc == 1)
        for (int r = 0; r < mr; r++) {
            const char *row = (const char *)(P->c + (i + r) * P->rsc + j);
            _mm_prefetch(row, _MM_HINT_T0);
            _mm_prefetch(row + 63, _MM_HINT_T0);
        }
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
        __m256 a;
        a = _mm256_broadcast_ss(pa + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(pa + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(pa + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(pa + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(pa + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(pa + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        pa += MR;
        pb += NR_AVX2;
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    store_block(P, acc, i, j, mr, nr, beta, last);
}

#define HALF_LOW(v) _mm512_castps512_ps256(v)
#define HALF_HIGH(v) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))

// The AVX-512 kernel: a 6×32 block of C in twelve zmm registers (the same count as the ymm
// kernel, twice the columns), stored as two 6×16 halves by store_block.
__attribute__((target("avx512f,avx2,fma")))
static void micro_kernel_512(const gemm_problem *P, long kc, const float *pa, const float *pb, long i, long j,
                             int mr, int nr, float beta, int last) {
    if (P->csc == 1)
        for (int r = 0; r < mr; r++) {
            const char *row = (const char *)(P->c + (i + r) * P->rsc + j);
            _mm_prefetch(row, _MM_HINT_T0);
            _mm_prefetch(row + 64, _MM_HINT_T0);
            _mm_prefetch(row + 127, _MM_HINT_T0);
        }
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(pb), b1 = _mm512_loadu_ps(pb + 16);
        __m512 a;
        a = _mm512_set1_ps(pa[0]); c00 = _mm512_fmadd_ps(a, b0, c00); c01 = _mm512_fmadd_ps(a, b1, c01);
        a = _mm512_set1_ps(pa[1]); c10 = _mm512_fmadd_ps(a, b0, c10); c11 = _mm512_fmadd_ps(a, b1, c11);
        a = _mm512_set1_ps(pa[2]); c20 = _mm512_fmadd_ps(a, b0, c20); c21 = _mm512_fmadd_ps(a, b1, c21);
        a = _mm512_set1_ps(pa[3]); c30 = _mm512_fmadd_ps(a, b0, c30); c31 = _mm512_fmadd_ps(a, b1, c31);
        a = _mm512_set1_ps(pa[4]); c40 = _mm512_fmadd_ps(a, b0, c40); c41 = _mm512_fmadd_ps(a, b1, c41);
        a = _mm512_set1_ps(pa[5]); c50 = _mm512_fmadd_ps(a, b0, c50); c51 = _mm512_fmadd_ps(a, b1, c51);
        pa += MR;
        pb += NR_AVX512;
    }
    __m256 low[MR][2] = {{HALF_LOW(c00), HALF_HIGH(c00)}, {HALF_LOW(c10), HALF_HIGH(c10)}, {HALF_LOW(c20), HALF_HIGH(c20)},
                         {HALF_LOW(c30), HALF_HIGH(c30)}, {HALF_LOW(c40), HALF_HIGH(c40)}, {HALF_LOW(c50), HALF_HIGH(c50)}};
    store_block(P, low, i, j, mr, nr < 16 ? nr : 16, beta, last);
    if (nr <= 16) return;
    __m256 high[MR][2] = {{HALF_LOW(c01), HALF_HIGH(c01)}, {HALF_LOW(c11), HALF_HIGH(c11)}, {HALF_LOW(c21), HALF_HIGH(c21)},
                          {HALF_LOW(c31), HALF_HIGH(c31)}, {HALF_LOW(c41), HALF_HIGH(c41)}, {HALF_LOW(c51), HALF_HIGH(c51)}};
    store_block(P, high, i, j + 16, mr, nr - 16, beta, last);
}

// Equal depth blocks (784 = 4 × 196, not 3 × 256 + 16): a short last block would reload and
// store C for few products.
static long depth_step(long k) {
    long blocks = (k + KC - 1) / KC;
    return (k + blocks - 1) / blocks;
}

static long round_up(long n, long unit) { return (n + unit - 1) / unit * unit; }

// The whole product for rows i0..<i1 and columns j0..<j1 on the calling thread.
__attribute__((target("avx2,fma")))
static void gemm_block(const gemm_problem *P, long i0, long i1, long j0, long j1) {
    const long NR = P->nr;
    float *bp = buffers();
    float *ap = bp + (size_t)KC * NC;
    for (long jc = j0; jc < j1; jc += NC) {
        long nc = j1 - jc < NC ? j1 - jc : NC;
        long kstep = depth_step(P->k);
        for (long pc = 0; pc < P->k; pc += kstep) {
            long kc = P->k - pc < kstep ? P->k - pc : kstep;
            float beta = pc == 0 ? P->beta : 1.0f;
            int last = pc + kc >= P->k;
            if (P->packed_b) bp = (float *)P->packed_b + pc * round_up(P->n, NR) + jc * kc;
            else pack_b(P, pc, kc, jc, nc, bp);
            for (long ic = i0; ic < i1; ic += MC) {
                long mc = i1 - ic < MC ? i1 - ic : MC;
                if (P->packed_a) ap = (float *)P->packed_a + pc * round_up(P->m, MR) + ic * kc;
                else pack_a(P, ic, mc, pc, kc, ap);
                for (long jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? (int)(nc - jr) : NR;
                    for (long ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? (int)(mc - ir) : MR;
                        if (NR == NR_AVX512)
                            micro_kernel_512(P, kc, ap + ir * kc, bp + jr * kc, ic + ir, jc + jr, mr, nr, beta, last);
                        else
                            micro_kernel(P, kc, ap + ir * kc, bp + jr * kc, ic + ir, jc + jr, mr, nr, beta, last);
                    }
                }
            }
        }
    }
}
#endif

typedef struct {
    const gemm_problem *problem;
    long parts;
    int split_rows;
} gemm_job;

static void gemm_task(void *context, long index) {
#if TESSERA_X86
    const gemm_job *job = context;
    const gemm_problem *P = job->problem;
    long extent = job->split_rows ? P->m : P->n, unit = job->split_rows ? MR : P->nr;
    long units = (extent + unit - 1) / unit;
    long u0 = units * index / job->parts, u1 = units * (index + 1) / job->parts;
    long s0 = u0 * unit, s1 = u1 * unit < extent ? u1 * unit : extent;
    if (s0 >= s1) return;
    if (job->split_rows) gemm_block(P, s0, s1, 0, P->n);
    else gemm_block(P, 0, P->m, s0, s1);
#else
    (void)context; (void)index;
#endif
}

static void run_problem(gemm_problem *problem, int threads);

static double tile_use(long m, long n, long NR) {
    return (double)m / (double)(((m + MR - 1) / MR) * MR) * (double)n / (double)(((n + NR - 1) / NR) * NR);
}

int tessera_sgemm_available(void) {
#if TESSERA_X86
    return tessera_kernels_have_avx2() && buffers() != NULL;
#else
    return 0;
#endif
}

void tessera_sgemm(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                   const float *b, long rsb, long csb, float beta, float *c, long rsc, long csc,
                   const float *bias, int relu, int threads) {
    if (m <= 0 || n <= 0) return;
    gemm_problem P = {m, n, k, alpha, beta, a, rsa, csa, b, rsb, csb, c, rsc, csc, bias, 0, relu, NULL, NULL, active_nr()};
    if (k <= 0) {
        // No products: C = beta·C (+ bias, ReLU).
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                float *e = c + i * rsc + j * csc;
                float v = beta == 0.0f ? 0.0f : beta * *e;
                if (bias) v += bias[j];
                if (relu && v < 0.0f) v = 0.0f;
                *e = v;
            }
        return;
    }
    // Cᵀ = Bᵀ·Aᵀ when that fills the register tiles better.
    if (tile_use(n, m, P.nr) > tile_use(m, n, P.nr) * 1.1) {
        gemm_problem S = {n, m, k, alpha, beta, b, csb, rsb, a, csa, rsa, c, csc, rsc, bias, 1, relu, NULL, NULL, P.nr};
        P = S;
    }
    run_problem(&P, threads);
}

// The calling thread's buffer for operands packed once and shared by a job's tasks.
static __thread float *shared_pack = NULL;
static __thread size_t shared_capacity = 0;

static float *shared_buffer(size_t floats) {
    if (floats > shared_capacity) {
        free(shared_pack);
        shared_pack = NULL;
        shared_capacity = 0;
        void *p = NULL;
        if (posix_memalign(&p, 64, sizeof(float) * (floats + 64)) != 0) return NULL;
        shared_pack = p;
        shared_capacity = floats;
    }
    return shared_pack;
}

typedef struct {
    const gemm_problem *problem;
    float *dst;
    long parts;
    int rows;        // pack A's row panels (else B's column panels)
} pack_job;

static void pack_task(void *context, long index) {
#if TESSERA_X86
    const pack_job *job = context;
    const gemm_problem *P = job->problem;
    long extent = job->rows ? P->m : P->n, unit = job->rows ? MR : P->nr;
    long units = (extent + unit - 1) / unit;
    long s0 = units * index / job->parts * unit, s1 = units * (index + 1) / job->parts * unit;
    if (s1 > extent) s1 = extent;
    if (s0 >= s1) return;
    long kstep = depth_step(P->k);
    for (long pc = 0; pc < P->k; pc += kstep) {
        long kc = P->k - pc < kstep ? P->k - pc : kstep;
        if (job->rows) pack_a(P, s0, s1 - s0, pc, kc, job->dst + pc * round_up(P->m, MR) + s0 * kc);
        else pack_b(P, pc, kc, s0, s1 - s0, job->dst + pc * round_up(P->n, P->nr) + s0 * kc);
    }
#else
    (void)context; (void)index;
#endif
}

// When rows are split, every task needs all of B (columns: all of A): pack it once, in
// parallel, and let the tasks read the shared copy instead of each packing its own (which
// was an eighth of an MLP step, and bounded how finely a product could be split).
static void share_packing(gemm_problem *P, int split_rows, long threads) {
    long floats = split_rows ? round_up(P->n, P->nr) * P->k : round_up(P->m, MR) * P->k + 8;
    if (floats < 4096) return;
    float *buffer = shared_buffer((size_t)floats);
    if (!buffer) return;
    pack_job job = {P, buffer, threads, !split_rows};
    tessera_pool_run(pack_task, &job, threads);
    if (split_rows) P->packed_b = buffer;
    else P->packed_a = buffer;
}

static void run_problem(gemm_problem *problem, int threads) {
    gemm_problem P = *problem;
    double flops = 2.0 * (double)P.m * (double)P.n * (double)P.k;
    // Split the larger extent into three tasks per thread, so that a helper waking late costs
    // part of its share rather than all of it; the operand every task needs is packed once
    // and shared (`share_packing`). Few-row products (recurrent steps, short tasks whose A each
    // task packs itself) take at least 128 columns per task.
    // Rows against 16-column units whatever the kernel's panel width, so the choice of split
    // (and the work per task) does not change with the kernel.
    int split_rows = (P.m / MR) >= (P.n / NR_AVX2);
    long units = split_rows ? (P.m + MR - 1) / MR : (P.n + P.nr - 1) / P.nr;
    long threads_ = threads < 1 ? 1 : threads, parts = threads_;
    if (flops < 4e5) parts = 1;
    else if (flops > 1.2e7) {
        long most = threads_ * (!split_rows && P.m <= 64 ? 8 : 3);
        long by_size = P.m > 64 ? most : P.n / 128;
        parts = by_size < threads_ ? threads_ : (by_size > most ? most : by_size);
    }
    // A weight packed once for many products (a recurrent step's): one task per thread, so
    // that each thread keeps reading the same rows of it, from its own cache (3 % faster
    // LSTM forward than three tasks per thread, whose rows change threads between steps).
    if (P.packed_a && split_rows && parts > threads_) parts = threads_;
    if (parts > units) parts = units;
    if (parts > 1 && (split_rows ? !P.packed_b : !P.packed_a)) share_packing(&P, split_rows, threads_);
    gemm_job job = {&P, parts, split_rows};
    tessera_pool_run(gemm_task, &job, parts);
}

long tessera_sgemm_packed_size(long k, long n) { return round_up(n, active_nr()) * (k > 0 ? k : 0); }

// Operands packed once for many products are packed on all threads when large (a recurrent
// weight of 4h × h floats took a third of a millisecond on one).
static void pack_whole(const gemm_problem *P, int rows, float *packed) {
    long floats = rows ? P->m * P->k : P->n * P->k, threads = tessera_pool_threads();
    pack_job job = {P, packed, floats >= (1L << 17) && threads > 1 ? threads : 1, rows};
    tessera_pool_run(pack_task, &job, job.parts);
}

void tessera_sgemm_pack_b(long k, long n, const float *b, long rsb, long csb, float *packed) {
#if TESSERA_X86
    gemm_problem P = {0, n, k, 1, 0, NULL, 0, 0, b, rsb, csb, NULL, 0, 0, NULL, 0, 0, NULL, NULL, active_nr()};
    if (k > 0) pack_whole(&P, 0, packed);
#else
    (void)k; (void)n; (void)b; (void)rsb; (void)csb; (void)packed;
#endif
}

void tessera_sgemm_packed(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                          const float *packed_b, float beta, float *c, long rsc, long csc, int threads) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        tessera_sgemm(m, n, k, alpha, a, rsa, csa, NULL, 0, 0, beta, c, rsc, csc, NULL, 0, threads);
        return;
    }
    gemm_problem P = {m, n, k, alpha, beta, a, rsa, csa, NULL, 0, 0, c, rsc, csc, NULL, 0, 0, packed_b, NULL, active_nr()};
    run_problem(&P, threads);
}

// Eight floats of slack: packing stores eight lanes where a panel row has six.
long tessera_sgemm_packed_a_size(long m, long k) { return round_up(m, MR) * (k > 0 ? k : 0) + 8; }

void tessera_sgemm_pack_a(long m, long k, const float *a, long rsa, long csa, float *packed) {
#if TESSERA_X86
    gemm_problem P = {m, 0, k, 1, 0, a, rsa, csa, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, NULL, active_nr()};
    if (k > 0) pack_whole(&P, 1, packed);
#else
    (void)m; (void)k; (void)a; (void)rsa; (void)csa; (void)packed;
#endif
}

void tessera_sgemm_packed_a(long m, long n, long k, float alpha, const float *packed_a, const float *b, long rsb,
                            long csb, float beta, float *c, long rsc, long csc, int threads) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        tessera_sgemm(m, n, k, alpha, NULL, 0, 0, b, rsb, csb, beta, c, rsc, csc, NULL, 0, threads);
        return;
    }
    gemm_problem P = {m, n, k, alpha, beta, NULL, 0, 0, b, rsb, csb, c, rsc, csc, NULL, 0, 0, NULL, packed_a, active_nr()};
    run_problem(&P, threads);
}
