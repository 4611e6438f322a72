// 2×2, stride-2 max pooling without padding (most CNNs' pooling), eight outputs per step:
// the two input rows are loaded sixteen at a time and split into even and odd columns, and
// the four candidates compared with blends, so which one wins costs no branch.
// Semantics as the scalar path: the first maximum in window order wins, NaN wins over numbers.
#include "CTesseraKernels.h"
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline void split_even_odd(const float *p, __m256 *even, __m256 *odd) {
    __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    // Within 128-bit lanes, then lane order 0, 2, 1, 3 restores column order.
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

__attribute__((target("avx2,fma")))
static inline void take(__m256 candidate, __m256i candidateIndex, __m256 *best, __m256i *index) {
    __m256 greater = _mm256_cmp_ps(candidate, *best, _CMP_GT_OQ);
    __m256 nanOverNumber = _mm256_and_ps(_mm256_cmp_ps(candidate, candidate, _CMP_UNORD_Q), _mm256_cmp_ps(*best, *best, _CMP_ORD_Q));
    __m256 replace = _mm256_or_ps(greater, nanOverNumber);
    *best = _mm256_blendv_ps(*best, candidate, replace);
    *index = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*index), _mm256_castsi256_ps(candidateIndex), replace));
}

__attribute__((target("avx2,fma")))
static void pool_row8(const float *plane, int w, int oy, int ox, float *out, int64_t *indices) {
    const float *top = plane + (size_t)(2 * oy) * w + 2 * ox, *bottom = top + w;
    __m256 a, b, c, d;
    split_even_odd(top, &a, &b);
    split_even_odd(bottom, &c, &d);
    __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    __m256i ia = _mm256_add_epi32(_mm256_set1_epi32(2 * oy * w + 2 * ox), lane2);
    __m256i one = _mm256_set1_epi32(1), row = _mm256_set1_epi32(w);
    __m256 best = a;
    __m256i index = ia;
    take(b, _mm256_add_epi32(ia, one), &best, &index);
    take(c, _mm256_add_epi32(ia, row), &best, &index);
    take(d, _mm256_add_epi32(_mm256_add_epi32(ia, row), one), &best, &index);
    _mm256_storeu_ps(out, best);
    _mm256_storeu_si256((__m256i *)indices, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(index)));
    _mm256_storeu_si256((__m256i *)(indices + 4), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(index, 1)));
}

static void pool_one(const float *plane, int w, int oy, int ox, float *out, int64_t *indices) {
    int a = 2 * oy * w + 2 * ox, candidates[3] = {a + 1, a + w, a + w + 1};
    float best = plane[a];
    int index = a;
    for (int k = 0; k < 3; k++) {
        float v = plane[candidates[k]];
        if (v > best || (v != v && best == best)) { best = v; index = candidates[k]; }
    }
    *out = best;
    *indices = index;
}

__attribute__((target("avx2,fma")))
void tessera_max_pool_2x2_f32(const float *x, float *out, int64_t *indices, ptrdiff_t planes, int h, int w, int ho, int wo) {
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = x + p * (ptrdiff_t)h * w;
        float *o = out + p * (ptrdiff_t)ho * wo;
        int64_t *ix = indices + p * (ptrdiff_t)ho * wo;
        for (int oy = 0; oy < ho; oy++) {
            // A chunk reads 16 input columns (2·wo ≤ w keeps it inside the row); the last chunk
            // overlaps the previous one and rewrites equal values.
            if (wo >= 8) {
                for (int ox = 0; ox < wo; ox += 8) {
                    int start = ox + 8 <= wo ? ox : wo - 8;
                    pool_row8(plane, w, oy, start, o + oy * wo + start, ix + oy * wo + start);
                }
            } else {
                for (int ox = 0; ox < wo; ox++) pool_one(plane, w, oy, ox, o + oy * wo + ox, ix + oy * wo + ox);
            }
        }
    }
}
#else
void tessera_max_pool_2x2_f32(const float *x, float *out, int64_t *indices, ptrdiff_t planes, int h, int w, int ho, int wo) {}
#endif
