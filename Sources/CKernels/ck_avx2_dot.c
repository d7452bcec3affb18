// AVX2 + FMA + F16C dot products, the twins of the scalar ones in ck_scalar_dot.c. The integer part of every block is
// exact (products are formed with maddubs/madd, whose operands stay far from int16 saturation for these
// formats); only the per-block float scaling and the final sums are ordered differently from the scalar path.
// Compiled for any x86-64: each function carries its own target attribute and is only called after
// ck_cpu_has_avx2() said yes.
//
// The VNNI tiers compile the quantized kernels again (ck_dot_avxvnni.c, ck_dot_avx512vnni.c define CK_DOT_VNNI and
// the names): dot_i8, dot_u8_i8 and madd_add become vpdpbusd / vpdpwssd, which form the same exact int32 sums with
// fewer instructions, and everything else is this code -- so each tier's result is the AVX2 one, bit for bit, and
// the tiled kernels of each tier (ck_gemm_avx2.c) match their tier's per-pair results.
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

#ifndef CK_DOT_VNNI // compiled on its own: the AVX2 tier
#define CK_DOT_VNNI 0
#define CK_FN CK_AVX2_FN
#define CK_NAME(f) f##_avx2
#endif

CK_FN static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// fp16 fields as floats. The halves must enter the register through a 32-bit movd, which zeroes the rest of
// it: left alone, clang inserts the 16 bits into whatever register it likes -- often the accumulator --
// which chains every block onto the one before. The empty asm pins the movd for a single half.
CK_FN static inline float half(const void *p) {
    __m128i v = _mm_cvtsi32_si128((int)ck_load_u16(p));
    __asm__("" : "+x"(v));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

// The product of two fp16 fields, both converted by one instruction.
CK_FN static inline float half_product(const void *p, const void *q) {
    const uint32_t pair = (uint32_t)ck_load_u16(p) | ((uint32_t)ck_load_u16(q) << 16);
    const __m128 v = _mm_cvtph_ps(_mm_cvtsi32_si128((int)pair));
    return _mm_cvtss_f32(_mm_mul_ss(v, _mm_movehdup_ps(v)));
}

// 32 signed bytes times 32 signed bytes -> 8 int32 sums of 4 products. maddubs (and vpdpbusd) want their first
// operand unsigned, so the sign of x moves onto y. |x| <= 128 and |y| <= 127 keeps each int16 pair sum below 2^15.
CK_FN static inline __m256i dot_i8(__m256i x, __m256i y) {
#if CK_DOT_VNNI
    return CK_DPBUSD(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
#else
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
#endif
}

// 32 unsigned bytes (< 64) times 32 signed bytes -> 8 int32 sums of 4 products.
CK_FN static inline __m256i dot_u8_i8(__m256i u, __m256i y) {
#if CK_DOT_VNNI
    return CK_DPBUSD(_mm256_setzero_si256(), u, y);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
#endif
}

// sum + the int32 sums of adjacent int16 products p * s. No pair here reaches the one case where madd wraps.
CK_FN static inline __m256i madd_add(__m256i sum, __m256i p, __m256i s) {
#if CK_DOT_VNNI
    return CK_DPWSSD(sum, p, s);
#else
    return _mm256_add_epi32(sum, _mm256_madd_epi16(p, s));
#endif
}

#include "ck_avx2_blocks.h"

// ---------------------------------------------------------------- float formats

#if !CK_DOT_VNNI // the VNNI tiers run these

CK_FN float ck_dot_f32_avx2(int64_t n, const void *w, const void *x) {
    const float *a = w, *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    }
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) {
        sum += a[i] * b[i];
    }
    return sum;
}

CK_FN float ck_dot_f16_avx2(int64_t n, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
#define CK_H8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(CK_H8(a + i), CK_H8(b + i), s0);
        s1 = _mm256_fmadd_ps(CK_H8(a + i + 8), CK_H8(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(CK_H8(a + i + 16), CK_H8(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(CK_H8(a + i + 24), CK_H8(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_ps(CK_H8(a + i), CK_H8(b + i), s0);
    }
#undef CK_H8
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) {
        sum += half(a + i) * half(b + i);
    }
    return sum;
}

CK_FN float ck_dot_bf16_avx2(int64_t n, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
#define CK_B8(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(CK_B8(a + i), CK_B8(b + i), s0);
        s1 = _mm256_fmadd_ps(CK_B8(a + i + 8), CK_B8(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_ps(CK_B8(a + i), CK_B8(b + i), s0);
    }
#undef CK_B8
    float sum = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) {
        sum += ck_bf16_to_fp32(a[i]) * ck_bf16_to_fp32(b[i]);
    }
    return sum;
}

#endif

// ---------------------------------------------------------------- 32-wide formats

// Each 32-wide kernel is a per-block step, acc + d * (integer dot), run over the row by a loop that alternates
// two accumulators so consecutive blocks do not wait on each other's fused multiply-add. Steps of the _1
// formats also add their min term m * s to lane 1 of `mins`.
#define CK_DOT_LOOP(step, a, b, n)                                               \
    do {                                                                         \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();           \
        __m128 mins0 = _mm_setzero_ps(), mins1 = _mm_setzero_ps();               \
        const int64_t nb = (n) / CK_QK;                                          \
        int64_t i = 0;                                                           \
        for (; i + 1 < nb; i += 2) {                                             \
            acc0 = step(&(a)[i], &(b)[i], acc0, &mins0);                         \
            acc1 = step(&(a)[i + 1], &(b)[i + 1], acc1, &mins1);                 \
        }                                                                        \
        if (i < nb) {                                                            \
            acc0 = step(&(a)[i], &(b)[i], acc0, &mins0);                         \
        }                                                                        \
        const __m128 mins = _mm_add_ps(mins0, mins1);                            \
        return hsum_ps(_mm256_add_ps(acc0, acc1)) + _mm_cvtss_f32(_mm_movehdup_ps(mins)); \
    } while (0)

// [w.d * x.d, w.m * x.s, ...] for the _1 formats, whose d and m (and x's d and s) are adjacent fp16 pairs.
CK_FN static inline __m128 scales_1(const void *wdm, const void *xds) {
    uint32_t w32, x32;
    memcpy(&w32, wdm, 4);
    memcpy(&x32, xds, 4);
    const __m128 v = _mm_cvtph_ps(_mm_set_epi32(0, 0, (int)x32, (int)w32));
    return _mm_mul_ps(v, _mm_movehl_ps(v, v));
}

CK_FN static inline __m256 step_q8_0(const ck_block_q8_0 *a, const ck_block_q8_0 *b, __m256 acc, __m128 *mins) {
    (void)mins;
    const __m256i qa = _mm256_loadu_si256((const __m256i *)a->qs);
    const __m256i qb = _mm256_loadu_si256((const __m256i *)b->qs);
    const __m256 d = _mm256_set1_ps(half_product(&a->d, &b->d));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
}

CK_FN float CK_NAME(ck_dot_q8_0)(int64_t n, const void *w, const void *x) {
    const ck_block_q8_0 *a = w;
    const ck_block_q8_0 *b = x;
    CK_DOT_LOOP(step_q8_0, a, b, n);
}

CK_FN static inline __m256 step_q4_0(const ck_block_q4_0 *a, const ck_block_q8_0 *b, __m256 acc, __m128 *mins) {
    (void)mins;
    const __m256i qa = _mm256_sub_epi8(nibbles(a->qs), _mm256_set1_epi8(8));
    const __m256i qb = _mm256_loadu_si256((const __m256i *)b->qs);
    const __m256 d = _mm256_set1_ps(half_product(&a->d, &b->d));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
}

CK_FN float CK_NAME(ck_dot_q4_0)(int64_t n, const void *w, const void *x) {
    const ck_block_q4_0 *a = w;
    const ck_block_q8_0 *b = x;
    CK_DOT_LOOP(step_q4_0, a, b, n);
}

CK_FN static inline __m256 step_q4_1(const ck_block_q4_1 *a, const ck_block_q8_1 *b, __m256 acc, __m128 *mins) {
    const __m128 s = scales_1(&a->d, &b->d);
    *mins = _mm_add_ps(*mins, s);
    const __m256i qb = _mm256_loadu_si256((const __m256i *)b->qs);
    return _mm256_fmadd_ps(_mm256_broadcastss_ps(s), _mm256_cvtepi32_ps(dot_u8_i8(nibbles(a->qs), qb)), acc);
}

CK_FN float CK_NAME(ck_dot_q4_1)(int64_t n, const void *w, const void *x) {
    const ck_block_q4_1 *a = w;
    const ck_block_q8_1 *b = x;
    CK_DOT_LOOP(step_q4_1, a, b, n);
}

// Q5_0: q - 16 is the nibble when bit 4 is set and the nibble - 16 (the nibble with 0xf0 or'ed in, as a
// signed byte) when it is clear.
CK_FN static inline __m256 step_q5_0(const ck_block_q5_0 *a, const ck_block_q8_0 *b, __m256 acc, __m128 *mins) {
    (void)mins;
    const __m256i high = _mm256_andnot_si256(bit_mask(a->qh), _mm256_set1_epi8((char)0xf0));
    const __m256i qa = _mm256_or_si256(nibbles(a->qs), high);
    const __m256i qb = _mm256_loadu_si256((const __m256i *)b->qs);
    const __m256 d = _mm256_set1_ps(half_product(&a->d, &b->d));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
}

CK_FN float CK_NAME(ck_dot_q5_0)(int64_t n, const void *w, const void *x) {
    const ck_block_q5_0 *a = w;
    const ck_block_q8_0 *b = x;
    CK_DOT_LOOP(step_q5_0, a, b, n);
}

CK_FN static inline __m256 step_q5_1(const ck_block_q5_1 *a, const ck_block_q8_1 *b, __m256 acc, __m128 *mins) {
    const __m128 s = scales_1(&a->d, &b->d);
    *mins = _mm_add_ps(*mins, s);
    const __m256i high = _mm256_and_si256(bit_mask(a->qh), _mm256_set1_epi8(0x10));
    const __m256i qa = _mm256_or_si256(nibbles(a->qs), high);
    const __m256i qb = _mm256_loadu_si256((const __m256i *)b->qs);
    return _mm256_fmadd_ps(_mm256_broadcastss_ps(s), _mm256_cvtepi32_ps(dot_u8_i8(qa, qb)), acc);
}

CK_FN float CK_NAME(ck_dot_q5_1)(int64_t n, const void *w, const void *x) {
    const ck_block_q5_1 *a = w;
    const ck_block_q8_1 *b = x;
    CK_DOT_LOOP(step_q5_1, a, b, n);
}

#undef CK_DOT_LOOP

// ---------------------------------------------------------------- K formats

// sum over the 8 sub-blocks of m[s] * (bsums[2s] + bsums[2s+1]), exact.
CK_FN static inline int k_min_sum(const uint8_t m[8], const int16_t bsums[16]) {
    const __m128i lo = _mm_loadu_si128((const __m128i *)bsums);
    const __m128i hi = _mm_loadu_si128((const __m128i *)(bsums + 8));
    const __m128i pairs = _mm_hadd_epi16(lo, hi); // 8 sums of 32 quants, |.| <= 4064
    const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)m));
    __m128i p = _mm_madd_epi16(mins, pairs);
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
    return _mm_cvtsi128_si32(p);
}

CK_FN float CK_NAME(ck_dot_q4_K)(int64_t n, const void *w, const void *x) {
    const ck_block_q4_K *a = w;
    const ck_block_q8_K *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        uint8_t sc[8], m[8];
        ck_unpack_k_scales(a[i].scales, sc, m);
        const uint8_t *q = a[i].qs;
        const int8_t *y = b[i].qs;
        __m256i sum = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++, q += 32, y += 64) {
            const __m256i bytes = _mm256_loadu_si256((const __m256i *)q);
            const __m256i lo = _mm256_and_si256(bytes, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);
            const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)y));
            const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(y + 32)));
            sum = madd_add(sum, plo, _mm256_set1_epi16(sc[2 * k]));
            sum = madd_add(sum, phi, _mm256_set1_epi16(sc[2 * k + 1]));
        }
        const float d = half(&a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
        mins += half(&a[i].dmin) * b[i].d * (float)k_min_sum(m, b[i].bsums);
    }
    return hsum_ps(acc) - mins;
}

CK_FN float CK_NAME(ck_dot_q5_K)(int64_t n, const void *w, const void *x) {
    const ck_block_q5_K *a = w;
    const ck_block_q8_K *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        uint8_t sc[8], m[8];
        ck_unpack_k_scales(a[i].scales, sc, m);
        const uint8_t *q = a[i].qs;
        const int8_t *y = b[i].qs;
        // bit 4 of element 64k+l is bit 2k of qh[l], of element 64k+32+l bit 2k+1: shift qh right by 2 each step
        __m256i qh = _mm256_loadu_si256((const __m256i *)a[i].qh);
        __m256i sum = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++, q += 32, y += 64) {
            const __m256i bytes = _mm256_loadu_si256((const __m256i *)q);
            const __m256i hlo = _mm256_slli_epi16(_mm256_and_si256(qh, one), 4);
            const __m256i hhi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4);
            qh = _mm256_srli_epi16(qh, 2);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(bytes, low4), hlo);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4), hhi);
            const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)y));
            const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(y + 32)));
            sum = madd_add(sum, plo, _mm256_set1_epi16(sc[2 * k]));
            sum = madd_add(sum, phi, _mm256_set1_epi16(sc[2 * k + 1]));
        }
        const float d = half(&a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
        mins += half(&a[i].dmin) * b[i].d * (float)k_min_sum(m, b[i].bsums);
    }
    return hsum_ps(acc) - mins;
}

// Q6_K: the unsigned 6-bit values u (0..63) are multiplied with maddubs and the offset handled once per
// super-block: sum_s sc[s] * sum((u-32)*y) = sum_s sc[s] * sum(u*y) - 32 * sum_s sc[s] * bsums[s].
CK_FN float CK_NAME(ck_dot_q6_K)(int64_t n, const void *w, const void *x) {
    const ck_block_q6_K *a = w;
    const ck_block_q8_K *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i low2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        // 16 scales as int16, one 128-bit lane per pair of sub-blocks (sub-block 2t in the low lane, 2t+1 high)
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)a[i].scales);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        const __m256i bsums = _mm256_loadu_si256((const __m256i *)b[i].bsums);
        __m256i sum = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);
        sum = _mm256_sub_epi32(_mm256_setzero_si256(), sum);
        const uint8_t *ql = a[i].ql;
        const uint8_t *qh = a[i].qh;
        const int8_t *y = b[i].qs;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, y += 128) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            const __m256i u[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, low4),
                                _mm256_slli_epi16(_mm256_and_si256(hb, low2), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, low4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), low2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), low2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), low2), 4)),
            };
            for (int s = 0; s < 4; s++) {
                const int t = 8 * h + 2 * s; // scale index of the first 16 of these 32 elements
                const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(a[i].scales[t + 1]),
                                                       _mm_set1_epi16(a[i].scales[t]));
                const __m256i p = _mm256_maddubs_epi16(u[s], _mm256_loadu_si256((const __m256i *)(y + 32 * s)));
                sum = madd_add(sum, p, scale);
            }
        }
        const float d = half(&a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum_ps(acc);
}

#endif
