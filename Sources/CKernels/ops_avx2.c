// AVX2 twin of ck_attend_f16: the fp16 keys and values are widened with F16C eight at a time.
#include "ck_internal.h"
#include "ck_ops.h"

#if CK_X86
#include <immintrin.h>
#include <math.h>

__attribute__((target("avx2,fma,f16c")))
static float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 shuf = _mm_movehdup_ps(lo);
    __m128 sums = _mm_add_ps(lo, shuf);
    shuf = _mm_movehl_ps(shuf, sums);
    sums = _mm_add_ss(sums, shuf);
    return _mm_cvtss_f32(sums);
}

// out = sum_j p[j] * v[j] (positions whose weight is 0 skipped). Eight output vectors (64 values) at a time stay in
// registers while every position is added in.
__attribute__((target("avx2,fma,f16c")))
static void attend_values(const float *p, const uint16_t *v, int64_t v_stride, int64_t n_kv, int64_t head_dim, float *out) {
    for (int64_t i0 = 0; i0 < head_dim; i0 += 64) {
        const int64_t width = head_dim - i0 < 64 ? head_dim - i0 : 64;
        __m256 acc[8];
        for (int a = 0; a < 8; a++) acc[a] = _mm256_setzero_ps();
        for (int64_t j = 0; j < n_kv; j++) {
            if (p[j] == 0.0f) continue;
            const __m256 pv = _mm256_set1_ps(p[j]);
            const uint16_t *vj = v + j * v_stride + i0;
            for (int a = 0; a < width / 8; a++) {
                acc[a] = _mm256_fmadd_ps(pv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vj + 8 * a))), acc[a]);
            }
        }
        for (int a = 0; a < width / 8; a++) _mm256_storeu_ps(out + i0 + 8 * a, acc[a]);
    }
}

__attribute__((target("avx2,fma,f16c")))
void ck_attend_f16_avx2(const float *q, const uint16_t *k, int64_t k_stride, const uint16_t *v, int64_t v_stride,
                        int64_t n_kv, int64_t head_dim, float scale, float softcap, const uint8_t *mask, float *scores,
                        float *out) {
    // head_dim is a multiple of 8 here (the dispatcher checks); the query is rounded to fp16 like ggml's.
    float qh[1024];
    for (int64_t i = 0; i < head_dim; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(q + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(qh + i, _mm256_cvtph_ps(h));
    }
    for (int64_t j = 0; j < n_kv; j++) {
        if (mask && mask[j]) {
            scores[j] = -INFINITY;
            continue;
        }
        const uint16_t *kj = k + j * k_stride;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= head_dim; i += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + i))), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + i + 8))), acc1);
        }
        for (; i < head_dim; i += 8) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + i))), acc0);
        }
        float s = hsum256(_mm256_add_ps(acc0, acc1)) * scale;
        if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
        scores[j] = s;
    }
    ck_softmax(scores, n_kv);
    attend_values(scores, v, v_stride, n_kv, head_dim, out);
}

// The scores of H query heads (rounded to fp16 in qh) against the same keys: each key is widened once for all.
// Per head the arithmetic is ck_attend_f16_avx2's, in the same order. H is a constant at every call, so the
// accumulators stay in registers.
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void group_scores(const int H, float (*qh)[1024], const uint16_t *k, int64_t k_stride, int64_t n_kv,
                                int64_t head_dim, float scale, float softcap, float *scores) {
    for (int64_t j = 0; j < n_kv; j++) {
        const uint16_t *kj = k + j * k_stride;
        __m256 acc0[4], acc1[4];
        for (int h = 0; h < H; h++) acc0[h] = acc1[h] = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= head_dim; i += 16) {
            const __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + i)));
            const __m256 k1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + i + 8)));
            for (int h = 0; h < H; h++) {
                acc0[h] = _mm256_fmadd_ps(_mm256_loadu_ps(qh[h] + i), k0, acc0[h]);
                acc1[h] = _mm256_fmadd_ps(_mm256_loadu_ps(qh[h] + i + 8), k1, acc1[h]);
            }
        }
        for (; i < head_dim; i += 8) {
            const __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kj + i)));
            for (int h = 0; h < H; h++) acc0[h] = _mm256_fmadd_ps(_mm256_loadu_ps(qh[h] + i), k0, acc0[h]);
        }
        for (int h = 0; h < H; h++) {
            float s = hsum256(_mm256_add_ps(acc0[h], acc1[h])) * scale;
            if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
            scores[h * n_kv + j] = s;
        }
    }
}

// Up to 4 query heads that read the same keys and values (a grouped-query group). Each head's output is bit for
// bit what ck_attend_f16_avx2 gives it alone. scores: heads x n_kv floats.
__attribute__((target("avx2,fma,f16c")))
void ck_attend_f16_group_avx2(int heads, const float *const *q, float *const *out, const uint16_t *k, int64_t k_stride,
                              const uint16_t *v, int64_t v_stride, int64_t n_kv, int64_t head_dim, float scale,
                              float softcap, float *scores) {
    float qh[4][1024];
    for (int h = 0; h < heads; h++) {
        for (int64_t i = 0; i < head_dim; i += 8) {
            __m128i half = _mm256_cvtps_ph(_mm256_loadu_ps(q[h] + i), _MM_FROUND_TO_NEAREST_INT);
            _mm256_storeu_ps(qh[h] + i, _mm256_cvtph_ps(half));
        }
    }
    switch (heads) {
    case 1: group_scores(1, qh, k, k_stride, n_kv, head_dim, scale, softcap, scores); break;
    case 2: group_scores(2, qh, k, k_stride, n_kv, head_dim, scale, softcap, scores); break;
    case 3: group_scores(3, qh, k, k_stride, n_kv, head_dim, scale, softcap, scores); break;
    default: group_scores(4, qh, k, k_stride, n_kv, head_dim, scale, softcap, scores); break;
    }
    for (int h = 0; h < heads; h++) {
        ck_softmax(scores + h * n_kv, n_kv);
        attend_values(scores + h * n_kv, v, v_stride, n_kv, head_dim, out[h]);
    }
}
#endif
