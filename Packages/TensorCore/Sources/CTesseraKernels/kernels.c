// Hot loops that need instructions beyond baseline x86-64. Each vector path is compiled
// for its target with a function attribute, so the package needs no compiler flags, and
// is chosen at run time from the CPU's features.
#include "CTesseraKernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TESSERA_X86 1
#endif

static float exp_scalar(float v) {
    float x = v < -87.33654f ? -87.33654f : (v > 88.72283f ? 88.72283f : v);
    float t = x * 1.442695040888963f + 0.5f;
    int32_t k = (int32_t)t;
    k -= t < (float)k;
    float n = (float)k;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * (r * r) + r + 1.0f;
    uint32_t bits = (uint32_t)(k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float result = y * scale;
    if (v < -87.33654f) result = 0.0f;
    if (v > 88.72283f) result = INFINITY;
    if (v != v) result = v;
    return result;
}

static float exp_shifted_sum_scalar(const float *x, float shift, float *out, ptrdiff_t n) {
    double total = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        out[i] = exp_scalar(x[i] - shift);
        total += out[i];
    }
    return (float)total;
}

#if TESSERA_X86
__attribute__((target("avx2,fma")))
static inline __m256 exp_avx2(__m256 v) {
    const __m256 lo = _mm256_set1_ps(-87.33654f), hi = _mm256_set1_ps(88.72283f);
    __m256 x = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.442695040888963f), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i k = _mm256_cvttps_epi32(n);
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
    __m256 result = _mm256_mul_ps(y, scale);
    result = _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
    result = _mm256_blendv_ps(result, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(v, hi, _CMP_GT_OQ));
    result = _mm256_blendv_ps(result, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return result;
}

__attribute__((target("avx2,fma")))
static float exp_shifted_sum_avx2(const float *x, float shift, float *out, ptrdiff_t n) {
    const __m256 s = _mm256_set1_ps(shift);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 e0 = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        __m256 e1 = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s));
        _mm256_storeu_ps(out + i, e0);
        _mm256_storeu_ps(out + i + 8, e1);
        acc0 = _mm256_add_ps(acc0, e0);
        acc1 = _mm256_add_ps(acc1, e1);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
    double total = 0;
    for (int j = 0; j < 8; j++) total += lanes[j];
    for (; i < n; i++) {
        out[i] = exp_scalar(x[i] - shift);
        total += out[i];
    }
    return (float)total;
}
#endif

static int have_avx2 = -1;

int tessera_kernels_have_avx2(void) {
#if TESSERA_X86
    // Relaxed atomics: threads racing on the first call compute the same value.
    int known = __atomic_load_n(&have_avx2, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        __atomic_store_n(&have_avx2, known, __ATOMIC_RELAXED);
    }
    return known;
#else
    return 0;
#endif
}

float tessera_exp_shifted_sum_f32(const float *x, float shift, float *out, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) return exp_shifted_sum_avx2(x, shift, out, n);
#endif
    return exp_shifted_sum_scalar(x, shift, out, n);
}

static float row_max_scalar(const float *x, ptrdiff_t n) {
    float m = x[0];
    for (ptrdiff_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static void scale_scalar(float *x, float s, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] *= s;
}

#if TESSERA_X86
__attribute__((target("avx2,fma")))
static float row_max_avx2(const float *x, ptrdiff_t n) {
    if (n < 8) return row_max_scalar(x, n);
    __m256 m = _mm256_loadu_ps(x);
    ptrdiff_t i = 8;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float best = lanes[0];
    for (int j = 1; j < 8; j++) best = lanes[j] > best ? lanes[j] : best;
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}

__attribute__((target("avx2,fma")))
static void scale_avx2(float *x, float s, ptrdiff_t n) {
    __m256 v = _mm256_set1_ps(s);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), v));
    for (; i < n; i++) x[i] *= s;
}
#endif

void tessera_softmax_rows_f32(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, int log_output) {
    int vector = tessera_kernels_have_avx2();
    for (ptrdiff_t row = 0; row < rows; row++) {
        const float *xr = x + row * n;
        float *orow = out + row * n;
#if TESSERA_X86
        float m = vector ? row_max_avx2(xr, n) : row_max_scalar(xr, n);
#else
        float m = row_max_scalar(xr, n);
#endif
        if (isinf(m) && m < 0) m = 0;
        float total = tessera_exp_shifted_sum_f32(xr, m, orow, n);
        if (log_output) {
            float shift = logf(total) + m;
            for (ptrdiff_t i = 0; i < n; i++) orow[i] = xr[i] - shift;
        } else {
#if TESSERA_X86
            if (vector) { scale_avx2(orow, 1.0f / total, n); continue; }
#endif
            scale_scalar(orow, 1.0f / total, n);
        }
    }
}

static float sum_scalar(const float *x, ptrdiff_t n) {
    double total = 0;
    ptrdiff_t i = 0;
    while (i < n) {
        ptrdiff_t end = i + 4096 < n ? i + 4096 : n;
        float a[8] = {0};
        for (; i + 8 <= end; i += 8)
            for (int j = 0; j < 8; j++) a[j] += x[i + j];
        float s = 0;
        for (int j = 0; j < 8; j++) s += a[j];
        for (; i < end; i++) s += x[i];
        total += s;
    }
    return (float)total;
}

#if TESSERA_X86
__attribute__((target("avx2,fma")))
static float sum_avx2(const float *x, ptrdiff_t n) {
    double total = 0;
    ptrdiff_t i = 0;
    while (i < n) {
        ptrdiff_t end = i + 4096 < n ? i + 4096 : n;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (; i + 32 <= end; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        float s = 0;
        for (int j = 0; j < 8; j++) s += lanes[j];
        for (; i < end; i++) s += x[i];
        total += s;
    }
    return (float)total;
}

__attribute__((target("avx2,fma")))
static void accumulate_avx2(float *acc, const float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i), _mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(acc + i + 8, _mm256_add_ps(_mm256_loadu_ps(acc + i + 8), _mm256_loadu_ps(x + i + 8)));
    }
    for (; i < n; i++) acc[i] += x[i];
}
#endif

float tessera_sum_f32(const float *x, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) return sum_avx2(x, n);
#endif
    return sum_scalar(x, n);
}

void tessera_accumulate_f32(float *acc, const float *x, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) { accumulate_avx2(acc, x, n); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) acc[i] += x[i];
}

// ---- Activations: tanh, sigmoid, tanh-GELU and its backward, on the polynomial exp. ----
// tanh(x) = sign(x)·(1 - e)/(1 + e) with e = exp(-2|x|), and an odd Taylor polynomial
// below |x| = 0.125 where 1 - e would lose bits: relative error below 5e-7.

static const float gelu_k = 0.79788456080286535588f, gelu_c = 0.044715f;

static float tanh_scalar(float v) {
    float a = fabsf(v);
    float e = exp_scalar(-2.0f * a);
    float large = (1.0f - e) / (1.0f + e);
    float x2 = v * v;
    float small = a * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
    float m = a < 0.125f ? small : large;
    if (v != v) return v;
    return v < 0 ? -m : m;
}

static float sigmoid_scalar(float v) { return 1.0f / (1.0f + exp_scalar(-v)); }

static float gelu_tanh_scalar(float v) {
    return 0.5f * v * (1.0f + tanh_scalar(gelu_k * (v + gelu_c * v * v * v)));
}

static float silu_backward_scalar(float g, float v) {
    float s = sigmoid_scalar(v);
    return g * s * (1.0f + v * (1.0f - s));
}

static float activation_scalar(int kind, float v) {
    switch (kind) {
    case TESSERA_TANH: return tanh_scalar(v);
    case TESSERA_SIGMOID: return sigmoid_scalar(v);
    case TESSERA_SILU: return v * sigmoid_scalar(v);
    case TESSERA_EXP: return exp_scalar(v);
    default: return gelu_tanh_scalar(v);
    }
}

static float gelu_tanh_backward_scalar(float g, float v) {
    float t = tanh_scalar(gelu_k * (v + gelu_c * v * v * v));
    return g * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * gelu_k * (1.0f + 3.0f * gelu_c * v * v));
}

#if TESSERA_X86
__attribute__((target("avx2,fma")))
static inline __m256 tanh_avx2(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    __m256 a = _mm256_andnot_ps(sign, v);
    __m256 e = exp_avx2(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f)));
    __m256 large = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    __m256 x2 = _mm256_mul_ps(v, v);
    __m256 p = _mm256_fmadd_ps(x2, _mm256_set1_ps(-17.0f / 315), _mm256_set1_ps(2.0f / 15));
    p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-1.0f / 3));
    p = _mm256_fmadd_ps(x2, p, one);
    __m256 small = _mm256_mul_ps(a, p);
    __m256 m = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.125f), _CMP_LT_OQ));
    m = _mm256_or_ps(m, _mm256_and_ps(v, sign));   // the sign of v (and NaN stays NaN)
    return _mm256_blendv_ps(m, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

__attribute__((target("avx2,fma")))
static inline __m256 sigmoid_avx2(__m256 v) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), v))));
}

__attribute__((target("avx2,fma")))
static inline __m256 gelu_inner_avx2(__m256 v) {
    __m256 cube = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    return _mm256_mul_ps(_mm256_set1_ps(gelu_k), _mm256_fmadd_ps(cube, _mm256_set1_ps(gelu_c), v));
}

__attribute__((target("avx2,fma")))
static void activation_avx2(int kind, const float *x, float *out, ptrdiff_t n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), y;
        switch (kind) {
        case TESSERA_TANH: y = tanh_avx2(v); break;
        case TESSERA_SIGMOID: y = sigmoid_avx2(v); break;
        case TESSERA_EXP: y = exp_avx2(v); break;
        case TESSERA_SILU: y = _mm256_mul_ps(v, sigmoid_avx2(v)); break;
        default: y = _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, tanh_avx2(gelu_inner_avx2(v)))); break;
        }
        _mm256_storeu_ps(out + i, y);
    }
    for (; i < n; i++) {
        out[i] = activation_scalar(kind, x[i]);
    }
}

__attribute__((target("avx2,fma")))
static void gelu_tanh_backward_avx2(const float *g, const float *x, float *out, ptrdiff_t n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 k = _mm256_set1_ps(gelu_k), c3 = _mm256_set1_ps(3.0f * gelu_c);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 t = tanh_avx2(gelu_inner_avx2(v));
        __m256 slope = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_fnmadd_ps(t, t, one)),
                                     _mm256_mul_ps(k, _mm256_fmadd_ps(c3, _mm256_mul_ps(v, v), one)));
        __m256 d = _mm256_fmadd_ps(half, _mm256_add_ps(one, t), slope);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), d));
    }
    for (; i < n; i++) out[i] = gelu_tanh_backward_scalar(g[i], x[i]);
}

__attribute__((target("avx2,fma")))
static void silu_backward_avx2(const float *g, const float *x, float *out, ptrdiff_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), s = sigmoid_avx2(v);
        __m256 d = _mm256_mul_ps(s, _mm256_fmadd_ps(v, _mm256_sub_ps(one, s), one));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), d));
    }
    for (; i < n; i++) out[i] = silu_backward_scalar(g[i], x[i]);
}

// g where x > 0 as a bit mask: no branch on the (random) signs.
__attribute__((target("avx2,fma")))
static void pass_where_positive_avx2(const float *g, const float *x, float *out, ptrdiff_t n) {
    const __m256 zero = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_and_ps(_mm256_loadu_ps(g + i), _mm256_cmp_ps(_mm256_loadu_ps(x + i), zero, _CMP_GT_OQ)));
    for (; i < n; i++) out[i] = x[i] > 0 ? g[i] : 0;
}
#endif

void tessera_activation_f32(int kind, const float *x, float *out, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) { activation_avx2(kind, x, out, n); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) out[i] = activation_scalar(kind, x[i]);
}

void tessera_gelu_tanh_backward_f32(const float *g, const float *x, float *out, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) { gelu_tanh_backward_avx2(g, x, out, n); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) out[i] = gelu_tanh_backward_scalar(g[i], x[i]);
}

void tessera_silu_backward_f32(const float *g, const float *x, float *out, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) { silu_backward_avx2(g, x, out, n); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) out[i] = silu_backward_scalar(g[i], x[i]);
}

void tessera_pass_where_positive_f32(const float *g, const float *x, float *out, ptrdiff_t n) {
#if TESSERA_X86
    if (tessera_kernels_have_avx2()) { pass_where_positive_avx2(g, x, out, n); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : 0;
}
