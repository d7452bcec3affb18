// AVX2 activation quantizers, the twins of ck_scalar_quantize.c. They perform the same float operations in the same
// order per element (amax, d = amax/127, id = 1/d, x*id; or iscale = -127/max, iscale*x) and emulate each
// rounding rule exactly, so their bytes equal the scalar reference's, not merely come close.
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

CK_AVX2_FN static inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

CK_AVX2_FN static inline __m256 abs_ps(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

// roundf: half away from zero. trunc(|v|) plus one when the (exactly computed) fraction is >= 0.5, sign restored.
CK_AVX2_FN static inline __m256 round_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 a = _mm256_andnot_ps(sign, v);
    const __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(a, t), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 r = _mm256_add_ps(t, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
    return _mm256_or_ps(r, _mm256_and_ps(v, sign));
}

// 32 int32 in [-128, 127] (a: elements 0..7, b: 8..15, ...) -> 32 int8 in element order.
CK_AVX2_FN static inline __m256i pack_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    // packs work per 128-bit lane, leaving dwords in the order a0 b0 c0 d0 a1 b1 c1 d1
    return _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

CK_AVX2_FN static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// One block of 32: stores the quants, returns d (unrounded) and their sum.
CK_AVX2_FN static inline float q8_block(const float *x, int8_t *qs, int *sum) {
    const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    const __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    const __m256 m = _mm256_max_ps(_mm256_max_ps(abs_ps(v0), abs_ps(v1)), _mm256_max_ps(abs_ps(v2), abs_ps(v3)));
    const float d = hmax_ps(m) / 127.0f;
    const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    const __m256i q0 = _mm256_cvttps_epi32(round_away(_mm256_mul_ps(v0, id)));
    const __m256i q1 = _mm256_cvttps_epi32(round_away(_mm256_mul_ps(v1, id)));
    const __m256i q2 = _mm256_cvttps_epi32(round_away(_mm256_mul_ps(v2, id)));
    const __m256i q3 = _mm256_cvttps_epi32(round_away(_mm256_mul_ps(v3, id)));
    _mm256_storeu_si256((__m256i *)qs, pack_i8(q0, q1, q2, q3));
    *sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3)));
    return d;
}

CK_AVX2_FN void ck_quantize_q8_0_avx2(const float *x, void *y, int64_t n) {
    ck_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        int sum;
        const float d = q8_block(x + i * CK_QK, b[i].qs, &sum);
        const uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        memcpy(&b[i].d, &dh, 2);
    }
}

CK_AVX2_FN void ck_quantize_q8_1_avx2(const float *x, void *y, int64_t n) {
    ck_block_q8_1 *b = y;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        int sum;
        const float d = q8_block(x + i * CK_QK, b[i].qs, &sum);
        const uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const uint16_t sh = _cvtss_sh((float)sum * d, _MM_FROUND_TO_NEAREST_INT);
        memcpy(&b[i].d, &dh, 2);
        memcpy(&b[i].s, &sh, 2);
    }
}

CK_AVX2_FN void ck_quantize_q8_K_avx2(const float *x, void *y, int64_t n) {
    ck_block_q8_K *b = y;
    for (int64_t i = 0; i < n / CK_QK_K; i++, x += CK_QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < CK_QK_K; k += 8) {
            m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + k)));
        }
        const float amax = hmax_ps(m);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof(b[i]));
            continue;
        }
        // the reference keeps the first element of largest magnitude (its sign decides the scale's sign)
        int first = 0;
        const __m256 target = _mm256_set1_ps(amax);
        for (int k = 0; k < CK_QK_K; k += 8) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + k)), target, _CMP_EQ_OQ));
            if (hit != 0) {
                first = k + __builtin_ctz((unsigned)hit);
                break;
            }
        }
        const float iscale = -127.0f / x[first];
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i top = _mm256_set1_epi32(127);
        for (int g = 0; g < CK_QK_K; g += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) {
                const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + g + 8 * k), vs);
                const __m256 r = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                q[k] = _mm256_min_epi32(_mm256_cvttps_epi32(r), top);
            }
            _mm256_storeu_si256((__m256i *)(b[i].qs + g), pack_i8(q[0], q[1], q[2], q[3]));
            b[i].bsums[g / 16] = (int16_t)hsum_epi32(_mm256_add_epi32(q[0], q[1]));
            b[i].bsums[g / 16 + 1] = (int16_t)hsum_epi32(_mm256_add_epi32(q[2], q[3]));
        }
        b[i].d = 1.0f / iscale;
    }
}

CK_AVX2_FN void ck_quantize_f16_avx2(const float *x, void *y, int64_t n) {
    uint16_t *out = y;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
    for (; i < n; i++) {
        out[i] = ck_fp32_to_fp16(x[i]);
    }
}

// Round to nearest even on the top 16 bits; NaNs keep their top bits with the quiet bit set.
CK_AVX2_FN static inline __m256i bf16_of(__m256 v) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                              _mm256_set1_epi32(0x7f800000));
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))), 16);
    const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
    return _mm256_blendv_epi8(rounded, nan, is_nan);
}

CK_AVX2_FN void ck_quantize_bf16_avx2(const float *x, void *y, int64_t n) {
    uint16_t *out = y;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i lo = bf16_of(_mm256_loadu_ps(x + i));
        const __m256i hi = bf16_of(_mm256_loadu_ps(x + i + 8));
        // packus interleaves per lane (lo0-3 hi0-3 | lo4-7 hi4-7); the permute restores element order
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xd8);
        _mm256_storeu_si256((__m256i *)(out + i), packed);
    }
    for (; i < n; i++) {
        out[i] = ck_fp32_to_bf16(x[i]);
    }
}

CK_AVX2_FN void ck_fp16_to_fp32_row_avx2(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    }
    for (; i < n; i++) {
        y[i] = _cvtsh_ss(x[i]);
    }
}

#endif
