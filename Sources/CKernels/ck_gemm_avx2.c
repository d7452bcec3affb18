// SIMD kernels of the tiled matrix products (ck_gemm.c has the layouts, the portable twins and the entry point): the
// AVX2 tier's, and compiled again, the VNNI tiers'.
//
// They give, bit for bit, what the per-pair AVX2 dot products (ck_avx2_dot.c) give for each (row, column): the same
// integer lanes, scaled and summed by the same float operations in the same order. So a column's result does not
// depend on the batch it came in -- one token decoded alone (per-pair path) or beside others (tiled) gets the same
// logits -- nor on the tier the CPU runs. What changes is where the work goes: each weight row is unpacked once per
// product instead of once per column, and four (or eight) rows share every load of activation quants.
//
// Rows go four at a time (a quad), re-laid out so that one broadcast of activation quants meets four rows:
// activation quants are stored in "pair order", each block's 32 as four 8-byte parts, part v holding elements
// 4v..4v+3 and 16+4v..16+4v+3; a part broadcast to a whole register (vpbroadcastq, a plain load) is multiplied by
//   W_v (32 bytes per block and quad): 32-bit slot k holds row k/2's four weights of part v from half k%2,
// so maddubs and a madd leave in slot k the sum over elements 16(k%2) + 4v .. +3 of row k/2 -- lane 4(k%2) + v of
// that row's per-pair dot product, which sums every four elements in a lane. Part v's vector thus carries lanes v
// and 4 + v of four rows, and the per-pair kernel's per-lane float steps run on it unchanged. Per block, a quad
// holds:
//   X32: A_0..A_3 (below) | W_0..W_3 | float d of row k/2 in slot k | float min of the rows in result order
//        (below)                                                                                       (320 bytes)
//   K:   W_0..W_3 | int16 sub-block scales, two lanes per slot: row k/2's scale of half k%2          (160 bytes)
// and, K, per super-block: float d of row k/2 in slot k | float dmin of the rows in result order | the mins
// M_0..M_3 (int16 per 16 elements; slot k of M_v: row k/2's mins of 16-element groups 8(k%2) + 2v and the next, to
// meet Q8_K's bsums, stored in pair order too)                                                           (192 bytes)
// Result order: a horizontal add of a part's vector gives rows [0, 1, 0, 1 | 2, 3, 2, 3].
// A_v is |W_v| for the AVX2 signed forms, whose sign moves onto the activations as in dot_i8.
//
// The VNNI tiers compile this file again (ck_gemm_avxvnni.c, ck_gemm_avx512vnni.c define CK_GEMM_VNNI and the names).
// Their integer products are vpdpbusd (unsigned bytes times signed bytes, four products summed into each int32 and
// added to it) and vpdpwssd (madd and add in one). vpdpbusd needs one unsigned operand, so the X32 activations are
// packed offset by 128 (x + 128, stored as x ^ 0x80) and each product starts from A_v = -128 times the sum of the
// slot's four weights. The integer lanes are then the AVX2 ones exactly -- nothing saturates or wraps on either side
// -- and the float steps after them are the same code. The AVX512-VNNI tier (CK_GEMM_WIDE) also widens the vectors
// to 512 bits: a group is two quads, every 32-byte vector above stored once per quad side by side, so each 256-bit
// half of a wide vector is a quad's narrow vector and takes exactly its steps; and as its 32 registers have room for
// two columns' accumulators, two X32 columns share each load of the group.
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

#ifndef CK_GEMM_VNNI // compiled on its own: the AVX2 tier
#define CK_GEMM_VNNI 0
#define CK_GEMM_WIDE 0
#define CK_FN CK_AVX2_FN
#define CK_NAME(f) f##_avx2
#endif

CK_FN static inline float half(const void *p) {
    return _cvtsh_ss(ck_load_u16(p));
}

// The dword order [0, 4, 1, 5, 2, 6, 3, 7]: pair order for activations, and the first step of building W_v.
CK_FN static inline __m256i pair_order(__m256i v) {
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

CK_FN static inline __m256i bcast8(const void *p) {
    long long v;
    memcpy(&v, p, 8);
    return _mm256_set1_epi64x(v);
}

// ---------------------------------------------------------------- activations

// A packed X32 column (layout in ck_gemm.c) from its Q8_0 blocks: quants in pair order (VNNI: plus 128), and s as
// Q8_1 has it (the quant sum times amax/127, rounded to fp16).
CK_FN void CK_NAME(ck_gemm_repack_x32)(const float *x, const void *q8_0, int64_t cols, void *out) {
    const ck_block_q8_0 *b = q8_0;
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    int8_t *qs = out;
    float *d = (float *)(qs + cols), *s = d + nbp;
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t j = 0; j < nb; j++, x += CK_QK) {
        const __m256i q = pair_order(_mm256_loadu_si256((const __m256i *)b[j].qs));
        _mm256_store_si256((__m256i *)(qs + j * CK_QK), CK_GEMM_VNNI ? _mm256_xor_si256(q, _mm256_set1_epi8(-128)) : q);
        const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
        __m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(x));
        for (int k = 8; k < CK_QK; k += 8) {
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float unrounded = _mm_cvtss_f32(h) / 127.0f; // the quantizer's d before fp16
        d[j] = half(&b[j].d);
        s[j] = _cvtsh_ss(_cvtss_sh((float)_mm_cvtsi128_si32(t) * unrounded, _MM_FROUND_TO_NEAREST_INT));
    }
    for (int64_t j = nb; j < nbp; j++) {
        d[j] = 0;
        s[j] = 0;
    }
}

#if !CK_GEMM_VNNI
// Q8_K blocks: quants and bsums into pair order, in place.
CK_FN void ck_gemm_order_q8_K_avx2(void *q8_K, int64_t cols) {
    ck_block_q8_K *b = q8_K;
    for (int64_t i = 0; i < cols / CK_QK_K; i++) {
        for (int k = 0; k < CK_QK_K; k += 32) {
            __m256i *p = (__m256i *)(b[i].qs + k);
            _mm256_storeu_si256(p, pair_order(_mm256_loadu_si256(p)));
        }
        __m256i *p = (__m256i *)b[i].bsums;
        _mm256_storeu_si256(p, pair_order(_mm256_loadu_si256(p)));
    }
}
#endif

// ---------------------------------------------------------------- unpacking rows

#include "ck_avx2_blocks.h"

// Byte j = 0x10 where bit j of the 32 bits at qh is set, else 0.
CK_FN static inline __m256i bit4(const uint8_t qh[4]) {
    return _mm256_and_si256(bit_mask(qh), _mm256_set1_epi8(0x10));
}

// The unpacked X32 forms, as the per-pair kernels see them: Q4_0, Q5_0 and Q8_0 signed, Q4_1 / Q5_1 unsigned as
// stored with their minimum as the bias.
CK_FN static void unpack_x32_avx2(uint32_t type, const uint8_t *src, int64_t cols, uint8_t *dst) {
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    uint8_t *q = dst;
    float *d = (float *)(dst + cols);
    float *bias = d + nbp;
    switch (type) {
    case CK_TYPE_Q4_0:
        for (int64_t j = 0; j < nb; j++) {
            const ck_block_q4_0 *b = (const ck_block_q4_0 *)src + j;
            _mm256_storeu_si256((__m256i *)(q + j * CK_QK), _mm256_sub_epi8(nibbles(b->qs), _mm256_set1_epi8(8)));
            d[j] = half(&b->d);
            bias[j] = 0;
        }
        break;
    case CK_TYPE_Q4_1:
        for (int64_t j = 0; j < nb; j++) {
            const ck_block_q4_1 *b = (const ck_block_q4_1 *)src + j;
            _mm256_storeu_si256((__m256i *)(q + j * CK_QK), nibbles(b->qs));
            d[j] = half(&b->d);
            bias[j] = half(&b->m);
        }
        break;
    case CK_TYPE_Q5_0:
        for (int64_t j = 0; j < nb; j++) {
            const ck_block_q5_0 *b = (const ck_block_q5_0 *)src + j;
            const __m256i u = _mm256_or_si256(nibbles(b->qs), bit4(b->qh));
            _mm256_storeu_si256((__m256i *)(q + j * CK_QK), _mm256_sub_epi8(u, _mm256_set1_epi8(16)));
            d[j] = half(&b->d);
            bias[j] = 0;
        }
        break;
    case CK_TYPE_Q5_1:
        for (int64_t j = 0; j < nb; j++) {
            const ck_block_q5_1 *b = (const ck_block_q5_1 *)src + j;
            _mm256_storeu_si256((__m256i *)(q + j * CK_QK), _mm256_or_si256(nibbles(b->qs), bit4(b->qh)));
            d[j] = half(&b->d);
            bias[j] = half(&b->m);
        }
        break;
    default:
        for (int64_t j = 0; j < nb; j++) {
            const ck_block_q8_0 *b = (const ck_block_q8_0 *)src + j;
            _mm256_storeu_si256((__m256i *)(q + j * CK_QK), _mm256_loadu_si256((const __m256i *)b->qs));
            d[j] = half(&b->d);
            bias[j] = 0;
        }
        break;
    }
    for (int64_t j = nb; j < nbp; j++) {
        d[j] = 0;
        bias[j] = 0;
    }
}

CK_FN static void unpack_k_avx2(uint32_t type, const uint8_t *src, int64_t cols, uint8_t *dst) {
    const ck_k_row p = ck_k_parts(dst, cols);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < cols / CK_QK_K; i++) {
        uint8_t *q = p.q + i * CK_QK_K;
        int16_t *sc = p.sc + 32 * i;
        int16_t *m = p.m + 16 * i;
        if (type == CK_TYPE_Q6_K) {
            const ck_block_q6_K *b = (const ck_block_q6_K *)src + i;
            // per half h: 32 elements s = 0..3 each take the low (s < 2) or high nibbles of ql[64h + 32(s&1) ..] and
            // bits 2s of qh[32h ..]
            const __m256i low2 = _mm256_set1_epi8(3);
            for (int h = 0; h < 2; h++) {
                const __m256i hb = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
                for (int s4 = 0; s4 < 4; s4++) {
                    const __m256i l = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32 * (s4 & 1)));
                    const __m256i lo = _mm256_and_si256(s4 < 2 ? l : _mm256_srli_epi16(l, 4), low4);
                    const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(hb, _mm_cvtsi32_si128(2 * s4)), low2);
                    const __m256i value = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
                    _mm256_storeu_si256((__m256i *)(q + 128 * h + 32 * s4), value);
                }
            }
            // each of the 16 scales twice, in order
            const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            const __m256i lo = _mm256_unpacklo_epi16(s16, s16), hi = _mm256_unpackhi_epi16(s16, s16);
            _mm256_store_si256((__m256i *)sc, _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_store_si256((__m256i *)(sc + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
            _mm256_storeu_si256((__m256i *)m, _mm256_slli_epi16(s16, 5));
            p.d[i] = half(&b->d);
            p.dmin[i] = p.d[i];
            continue;
        }
        const uint8_t *scales, *qs;
        uint16_t dh, mh;
        __m256i qh = _mm256_setzero_si256();
        if (type == CK_TYPE_Q4_K) {
            const ck_block_q4_K *b = (const ck_block_q4_K *)src + i;
            scales = b->scales;
            qs = b->qs;
            dh = ck_load_u16(&b->d);
            mh = ck_load_u16(&b->dmin);
        } else {
            const ck_block_q5_K *b = (const ck_block_q5_K *)src + i;
            scales = b->scales;
            qs = b->qs;
            qh = _mm256_loadu_si256((const __m256i *)b->qh);
            dh = ck_load_u16(&b->d);
            mh = ck_load_u16(&b->dmin);
        }
        // bit 4 of element 64k+l is bit 2k of qh[l], of element 64k+32+l bit 2k+1 (all zero for Q4_K)
        const __m256i one = _mm256_set1_epi8(1);
        for (int k = 0; k < 4; k++) {
            const __m256i bytes = _mm256_loadu_si256((const __m256i *)(qs + 32 * k));
            const __m256i hlo = _mm256_slli_epi16(_mm256_and_si256(qh, one), 4);
            const __m256i hhi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4);
            qh = _mm256_srli_epi16(qh, 2);
            _mm256_storeu_si256((__m256i *)(q + 64 * k), _mm256_or_si256(_mm256_and_si256(bytes, low4), hlo));
            _mm256_storeu_si256((__m256i *)(q + 64 * k + 32),
                                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4), hhi));
        }
        uint8_t s6[8], m6[8];
        ck_unpack_k_scales(scales, s6, m6);
        for (int s = 0; s < 8; s++) {
            _mm_storel_epi64((__m128i *)(sc + 4 * s), _mm_set1_epi16(s6[s]));
        }
        // each min twice: per 16 elements, as Q8_K's bsums
        const __m128i m8 = _mm_loadl_epi64((const __m128i *)m6);
        _mm256_storeu_si256((__m256i *)m, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8)));
        p.d[i] = _cvtsh_ss(dh);
        p.dmin[i] = _cvtsh_ss(mh);
    }
}

// ---------------------------------------------------------------- groups

// A group is QUADS quads of four rows. Each 32-byte vector of the layout above is stored once per quad, side by side:
// quad h's copy at +32h, so one 32*QUADS-byte load takes the vector of every row of the group.
#if CK_GEMM_WIDE
#define QUADS 2
_Static_assert(4 * QUADS == CK_GEMM_WIDE_ROWS, "ck_gemm_group_rows: the wide kernels' group");
#else
#define QUADS 1
#endif

// out[u] = qword u of a, b, c and d: a 4 x 4 transpose of 64-bit elements.
CK_FN static inline void transpose_qwords(__m256i a, __m256i b, __m256i c, __m256i d, __m256i out[4]) {
    const __m256i ab0 = _mm256_unpacklo_epi64(a, b), ab1 = _mm256_unpackhi_epi64(a, b); // qwords 0, 2 / 1, 3
    const __m256i cd0 = _mm256_unpacklo_epi64(c, d), cd1 = _mm256_unpackhi_epi64(c, d);
    out[0] = _mm256_permute2x128_si256(ab0, cd0, 0x20);
    out[1] = _mm256_permute2x128_si256(ab1, cd1, 0x20);
    out[2] = _mm256_permute2x128_si256(ab0, cd0, 0x31);
    out[3] = _mm256_permute2x128_si256(ab1, cd1, 0x31);
}

// W_0..W_3 of a quad from 32 bytes of each of its rows, `stride` apart: in pair order a row's qword v is its part v,
// and W_v gathers qword v of the four rows.
CK_FN static inline void interleave(const uint8_t *q, size_t stride, __m256i w[4]) {
    transpose_qwords(pair_order(_mm256_load_si256((const __m256i *)q)),
                     pair_order(_mm256_load_si256((const __m256i *)(q + stride))),
                     pair_order(_mm256_load_si256((const __m256i *)(q + 2 * stride))),
                     pair_order(_mm256_load_si256((const __m256i *)(q + 3 * stride))), w);
}

// Eight floats from a quad's four values: in slot order (row k/2 in slot k), or in result order.
static inline void in_slot_order(const float v[4], float *out) {
    for (int r = 0; r < 4; r++) {
        out[2 * r] = out[2 * r + 1] = v[r];
    }
}

static inline void in_result_order(const float v[4], float *out) {
    for (int r = 0; r < 4; r++) {
        out[(r & 1) + 4 * (r >> 1)] = out[(r & 1) + 4 * (r >> 1) + 2] = v[r];
    }
}

// X32 group, per block (320 bytes per quad): A_0..A_3 | W_0..W_3 | d | min. A_v: |W_v| (AVX2), or the int32
// starts -128 * (sum of the slot's four weights) that the offset activations need (VNNI).
CK_FN static void group_x32(const uint8_t *buf, size_t ws, int64_t cols, uint8_t *g) {
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    for (int64_t j = 0; j < nb; j++, g += 320 * QUADS) {
        for (int h = 0; h < QUADS; h++) {
            const uint8_t *rows = buf + 4 * h * ws;
            __m256i w[4];
            interleave(rows + j * CK_QK, ws, w);
            for (int v = 0; v < 4; v++) {
                _mm256_store_si256((__m256i *)(g + 128 * QUADS + 32 * (QUADS * v + h)), w[v]);
#if CK_GEMM_VNNI
                const __m256i sums = CK_DPBUSD(_mm256_setzero_si256(), _mm256_set1_epi8(1), w[v]);
                const __m256i a = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, 7));
#else
                const __m256i a = _mm256_sign_epi8(w[v], w[v]); // |w|, -128 as 128 (unsigned)
#endif
                _mm256_store_si256((__m256i *)(g + 32 * (QUADS * v + h)), a);
            }
            float d[4], m[4];
            for (int r = 0; r < 4; r++) {
                const float *rd = (const float *)(rows + r * ws + cols);
                d[r] = rd[j];
                m[r] = rd[nbp + j];
            }
            in_slot_order(d, (float *)(g + 256 * QUADS + 32 * h));
            in_result_order(m, (float *)(g + 288 * QUADS + 32 * h));
        }
    }
}

// K group: per block, W_0..W_3 | the int16 sub-block scales, two lanes per slot (160 bytes per quad); then per
// super-block d | dmin | M_0..M_3 (192 bytes per quad).
CK_FN static void group_k(const uint8_t *buf, size_t ws, int64_t cols, uint8_t *g) {
    const int64_t nb = cols / CK_QK, nsb = cols / CK_QK_K;
    for (int h = 0; h < QUADS; h++) {
        const uint8_t *quad = buf + 4 * h * ws;
        ck_k_row rows[4];
        for (int r = 0; r < 4; r++) {
            rows[r] = ck_k_parts((uint8_t *)quad + r * ws, cols);
        }
        for (int64_t j = 0; j < nb; j++) {
            __m256i w[4];
            interleave(quad + j * CK_QK, ws, w);
            for (int v = 0; v < 4; v++) {
                _mm256_store_si256((__m256i *)(g + 160 * QUADS * j + 32 * (QUADS * v + h)), w[v]);
            }
        }
        // a row's scales are a qword per block, [lo, lo, hi, hi]: the quad's gather qword j of rows 0..3
        for (int64_t j = 0; j < nb; j += 4) {
            __m256i sc[4];
            transpose_qwords(_mm256_load_si256((const __m256i *)(rows[0].sc + 4 * j)),
                             _mm256_load_si256((const __m256i *)(rows[1].sc + 4 * j)),
                             _mm256_load_si256((const __m256i *)(rows[2].sc + 4 * j)),
                             _mm256_load_si256((const __m256i *)(rows[3].sc + 4 * j)), sc);
            for (int b = 0; b < 4; b++) {
                _mm256_store_si256((__m256i *)(g + 160 * QUADS * (j + b) + 128 * QUADS + 32 * h), sc[b]);
            }
        }
        uint8_t *gs = g + 160 * QUADS * nb;
        for (int64_t i = 0; i < nsb; i++, gs += 192 * QUADS) {
            const float d[4] = {rows[0].d[i], rows[1].d[i], rows[2].d[i], rows[3].d[i]};
            const float dmin[4] = {rows[0].dmin[i], rows[1].dmin[i], rows[2].dmin[i], rows[3].dmin[i]};
            in_slot_order(d, (float *)(gs + 32 * h));
            in_result_order(dmin, (float *)(gs + 32 * QUADS + 32 * h));
            __m256i m[4];
            interleave((const uint8_t *)(rows[0].m + 16 * i), ws, m);
            for (int v = 0; v < 4; v++) {
                _mm256_store_si256((__m256i *)(gs + 64 * QUADS + 32 * (QUADS * v + h)), m[v]);
            }
        }
    }
}

// ---------------------------------------------------------------- a group's vectors

// The products below are written once over vi / vf, the vectors that hold a whole group: __m256i / __m256 for a
// quad, __m512i / __m512 for two (CK_GEMM_WIDE). Every operation works on each 32-bit slot alone or within a
// 128-bit lane, so each 256-bit half of a wide vector goes through exactly the steps of a narrow one.
#if CK_GEMM_WIDE
typedef __m512i vi;
typedef __m512 vf;
CK_FN static inline vi vi_load(const void *p) { return _mm512_load_si512(p); }
CK_FN static inline vi vi_zero(void) { return _mm512_setzero_si512(); }
CK_FN static inline vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
CK_FN static inline vi vi_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
CK_FN static inline vi vi_madd(vi a, vi b) { return _mm512_madd_epi16(a, b); }
CK_FN static inline vi vi_maddubs(vi u, vi s) { return _mm512_maddubs_epi16(u, s); }
CK_FN static inline vi vi_dpbusd(vi acc, vi u, vi s) { return _mm512_dpbusd_epi32(acc, u, s); }
CK_FN static inline vi vi_dpwssd(vi acc, vi a, vi b) { return _mm512_dpwssd_epi32(acc, a, b); }
CK_FN static inline vi vi_bcast8(const void *p) {
    long long v;
    memcpy(&v, p, 8);
    return _mm512_set1_epi64(v);
}
// [a0 + a1, a2 + a3, a0 + a1, a2 + a3] in each 128-bit lane, as _mm256_hadd_epi32(a, a) / _mm256_hadd_ps(a, a) give
// per half (a1 + a0 is a0 + a1, bit for bit).
CK_FN static inline vi vi_hadd(vi a) {
    return _mm512_shuffle_epi32(_mm512_add_epi32(a, _mm512_shuffle_epi32(a, 0xb1)), 0x88);
}
CK_FN static inline vf vf_load(const void *p) { return _mm512_load_ps(p); }
CK_FN static inline vf vf_zero(void) { return _mm512_setzero_ps(); }
CK_FN static inline vf vf_set1(float f) { return _mm512_set1_ps(f); }
CK_FN static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
CK_FN static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
CK_FN static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
CK_FN static inline vf vf_fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
CK_FN static inline vf vf_cvt(vi a) { return _mm512_cvtepi32_ps(a); }
CK_FN static inline vf vf_hadd(vf a) {
    const vf t = _mm512_add_ps(a, _mm512_shuffle_ps(a, a, 0xb1));
    return _mm512_shuffle_ps(t, t, 0x88);
}
// y[r] for the group's first n rows from a vector in result order: quad h's rows at lanes 8h + {0, 1, 4, 5}.
CK_FN static inline void store_rows(vf v, float *y, int n) {
    const __m512 rows = _mm512_maskz_compress_ps(0x3333, v);
    _mm256_mask_storeu_ps(y, (__mmask8)((1u << n) - 1), _mm512_castps512_ps256(rows));
}
#else
typedef __m256i vi;
typedef __m256 vf;
CK_FN static inline vi vi_load(const void *p) { return _mm256_load_si256(p); }
CK_FN static inline vi vi_zero(void) { return _mm256_setzero_si256(); }
CK_FN static inline vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
CK_FN static inline vi vi_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
CK_FN static inline vi vi_madd(vi a, vi b) { return _mm256_madd_epi16(a, b); }
CK_FN static inline vi vi_maddubs(vi u, vi s) { return _mm256_maddubs_epi16(u, s); }
CK_FN static inline vi vi_bcast8(const void *p) { return bcast8(p); }
CK_FN static inline vi vi_hadd(vi a) { return _mm256_hadd_epi32(a, a); }
CK_FN static inline vf vf_load(const void *p) { return _mm256_load_ps(p); }
CK_FN static inline vf vf_zero(void) { return _mm256_setzero_ps(); }
CK_FN static inline vf vf_set1(float f) { return _mm256_set1_ps(f); }
CK_FN static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
CK_FN static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
CK_FN static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
CK_FN static inline vf vf_fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
CK_FN static inline vf vf_cvt(vi a) { return _mm256_cvtepi32_ps(a); }
CK_FN static inline vf vf_hadd(vf a) { return _mm256_hadd_ps(a, a); }
#if CK_GEMM_VNNI
CK_FN static inline vi vi_dpbusd(vi acc, vi u, vi s) { return CK_DPBUSD(acc, u, s); }
CK_FN static inline vi vi_dpwssd(vi acc, vi a, vi b) { return CK_DPWSSD(acc, a, b); }
#endif
// y[r] for the group's first n rows from a vector in result order: rows at lanes 0, 1, 4, 5.
CK_FN static inline void store_rows(vf v, float *y, int n) {
    float out[8];
    _mm256_storeu_ps(out, v);
    const int lane[4] = {0, 1, 4, 5};
    for (int r = 0; r < n; r++) {
        y[r] = out[lane[r]];
    }
}
#endif

// ---------------------------------------------------------------- products

#define CK_ALWAYS_INLINE __attribute__((always_inline))

// The per-pair kernels' final sum of a row's eight lanes, ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)) as
// hsum_ps adds them, for every row of the group at once from the four parts' vectors; in result order.
CK_FN static inline vf sum_lanes(const vf part[4]) {
    const vf h0 = vf_hadd(part[0]), h1 = vf_hadd(part[1]), h2 = vf_hadd(part[2]), h3 = vf_hadd(part[3]);
    return vf_add(vf_add(h0, h2), vf_add(h1, h3));
}

// Part v's integer lanes of one X32 block from the group's A_v and W_v: as the per-pair kernels, signed weights
// (Q4_0, Q5_0, Q8_0) meet the activations with their signs moved onto the activations, as dot_i8 does, and Q4_1 /
// Q5_1's unsigned ones meet them directly. VNNI: either form meets the offset activations in one vpdpbusd, which
// starts from the offset's correction.
CK_FN CK_ALWAYS_INLINE static inline vi x32_lanes(const int is_signed, vi a, vi w, vi x) {
#if CK_GEMM_VNNI
    (void)is_signed;
    return vi_dpbusd(a, x, w);
#else
    const vi p = is_signed ? _mm256_maddubs_epi16(a, _mm256_sign_epi8(x, w)) : _mm256_maddubs_epi16(w, x);
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
#endif
}

// The packed X32 columns a call works on: quants, d and s of each.
typedef struct {
    const int8_t *q[2];
    const float *d[2], *s[2];
} x32_cols;

// One X32 block of C columns: the per-pair step acc = fma(d_w * d_x, lanes, acc) (and mins += m_w * s_x), Q4_1 /
// Q5_1's minimum times the activations' block sum in a float of its own.
CK_FN CK_ALWAYS_INLINE static inline void x32_block(const int is_signed, const int C, const uint8_t *g,
                                                     const x32_cols *x, int64_t j, vf acc[][4], vf mins[]) {
    vf d[2];
    for (int c = 0; c < C; c++) {
        d[c] = vf_mul(vf_load(g + 256 * QUADS), vf_set1(x->d[c][j]));
    }
    for (int v = 0; v < 4; v++) {
        const vi a = vi_load(g + 32 * QUADS * v), w = vi_load(g + 128 * QUADS + 32 * QUADS * v);
        for (int c = 0; c < C; c++) {
            const vi lanes = x32_lanes(is_signed, a, w, vi_bcast8(x->q[c] + CK_QK * j + 8 * v));
            acc[c][v] = vf_fmadd(d[c], vf_cvt(lanes), acc[c][v]);
        }
    }
    if (!is_signed) {
        for (int c = 0; c < C; c++) {
            mins[c] = vf_add(mins[c], vf_mul(vf_load(g + 288 * QUADS), vf_set1(x->s[c][j])));
        }
    }
}

// A group times C (1 or 2) X32 columns, blocks alternating between two accumulators as CK_DOT_LOOP does. Two
// columns share each load of the group's vectors (the wide kernels, which have the registers for both).
CK_FN CK_ALWAYS_INLINE static inline void x32_columns(const int is_signed, const int C, const uint8_t *g,
                                                       const uint8_t *x, size_t xs, int64_t cols, float *y,
                                                       int64_t ys, int n) {
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    x32_cols in;
    for (int c = 0; c < C; c++) {
        const uint8_t *col = x + c * xs;
        in.q[c] = (const int8_t *)col;
        in.d[c] = (const float *)(col + cols);
        in.s[c] = in.d[c] + nbp;
    }
    vf acc0[2][4], acc1[2][4], mins0[2], mins1[2];
    for (int c = 0; c < C; c++) {
        mins0[c] = mins1[c] = vf_zero();
        for (int v = 0; v < 4; v++) {
            acc0[c][v] = acc1[c][v] = vf_zero();
        }
    }
    int64_t j = 0;
    for (; j + 1 < nb; j += 2) {
        x32_block(is_signed, C, g + 320 * QUADS * j, &in, j, acc0, mins0);
        x32_block(is_signed, C, g + 320 * QUADS * (j + 1), &in, j + 1, acc1, mins1);
    }
    if (j < nb) {
        x32_block(is_signed, C, g + 320 * QUADS * j, &in, j, acc0, mins0);
    }
    for (int c = 0; c < C; c++) {
        vf sum[4];
        for (int v = 0; v < 4; v++) {
            sum[v] = vf_add(acc0[c][v], acc1[c][v]);
        }
        vf r = sum_lanes(sum);
        if (!is_signed) {
            r = vf_add(r, vf_add(mins0[c], mins1[c]));
        }
        store_rows(r, y + c * ys, n);
    }
}

// A group times C (1 or 2) K columns: per super-block, the lanes' integer sums with the sub-block scales applied
// (Q6_K's starting from its offset times the bsums), one fma per lane; Q4_K / Q5_K's minimums in a float of their
// own. Two columns share each load of the group's quants and scales.
CK_FN CK_ALWAYS_INLINE static inline void k_columns(const int q6, const int C, const uint8_t *g, const uint8_t *x,
                                                     size_t xs, int64_t cols, float *y, int64_t ys, int n) {
    const int64_t nb = cols / CK_QK, nsb = cols / CK_QK_K;
    const ck_block_q8_K *xb[2] = {(const ck_block_q8_K *)x, (const ck_block_q8_K *)(x + (C > 1 ? xs : 0))};
    const uint8_t *gs = g + 160 * QUADS * nb;
    vf acc[2][4], mins[2];
    for (int c = 0; c < C; c++) {
        mins[c] = vf_zero();
        for (int v = 0; v < 4; v++) {
            acc[c][v] = vf_zero();
        }
    }
    for (int64_t i = 0; i < nsb; i++, gs += 192 * QUADS) {
        // the mins times the bsums: Q6_K's sums start from minus them; Q4_K / Q5_K's add up per row (exact)
        vi sum[2][4], msum[2];
        for (int c = 0; c < C; c++) {
            msum[c] = vi_zero();
            for (int v = 0; v < 4; v++) {
                const vi mv = vi_madd(vi_load(gs + 64 * QUADS + 32 * QUADS * v), vi_bcast8(xb[c][i].bsums + 4 * v));
                sum[c][v] = q6 ? vi_sub(vi_zero(), mv) : vi_zero();
                msum[c] = vi_add(msum[c], mv);
            }
        }
#pragma GCC unroll 1
        for (int k = 0; k < 8; k++) {
            const uint8_t *gk = g + 160 * QUADS * (8 * i + k);
            const vi sc = vi_load(gk + 128 * QUADS);
            for (int v = 0; v < 4; v++) {
                const vi w = vi_load(gk + 32 * QUADS * v);
                for (int c = 0; c < C; c++) {
                    const vi p = vi_maddubs(w, vi_bcast8(xb[c][i].qs + 32 * k + 8 * v));
#if CK_GEMM_VNNI
                    sum[c][v] = vi_dpwssd(sum[c][v], p, sc);
#else
                    sum[c][v] = vi_add(sum[c][v], vi_madd(p, sc));
#endif
                }
            }
        }
        for (int c = 0; c < C; c++) {
            const vf xd = vf_set1(xb[c][i].d);
            const vf d = vf_mul(vf_load(gs), xd);
            for (int v = 0; v < 4; v++) {
                acc[c][v] = vf_fmadd(d, vf_cvt(sum[c][v]), acc[c][v]);
            }
            if (!q6) {
                // k_min_sum of each row, then mins += dmin_w * d_x * it, as the per-pair kernel's code compiles (one
                // fused multiply-add)
                const vf dmin = vf_mul(vf_load(gs + 32 * QUADS), xd);
                mins[c] = vf_fmadd(dmin, vf_cvt(vi_hadd(msum[c])), mins[c]);
            }
        }
    }
    for (int c = 0; c < C; c++) {
        vf r = sum_lanes(acc[c]);
        if (!q6) {
            r = vf_sub(r, mins[c]);
        }
        store_rows(r, y + c * ys, n);
    }
}

// Specialised per mode and column count, so the accumulators stay in registers. A call takes the next one or two
// columns and returns how many it took.
typedef int64_t (*column_fn)(const uint8_t *g, const uint8_t *x, size_t xs, int64_t left, int64_t cols, float *y,
                             int64_t ys, int n);
#define CK_X32_COLUMNS(name, is_signed)                                                                     \
    CK_FN static int64_t name(const uint8_t *g, const uint8_t *x, size_t xs, int64_t left, int64_t cols,    \
                              float *y, int64_t ys, int n) {                                                \
        if (CK_GEMM_WIDE && left >= 2) {                                                                    \
            x32_columns(is_signed, 2, g, x, xs, cols, y, ys, n);                                            \
            return 2;                                                                                       \
        }                                                                                                   \
        x32_columns(is_signed, 1, g, x, xs, cols, y, ys, n);                                                \
        return 1;                                                                                           \
    }
#define CK_K_COLUMNS(name, q6)                                                                              \
    CK_FN static int64_t name(const uint8_t *g, const uint8_t *x, size_t xs, int64_t left, int64_t cols,    \
                              float *y, int64_t ys, int n) {                                                \
        if (left >= 2) {                                                                                    \
            k_columns(q6, 2, g, x, xs, cols, y, ys, n);                                                     \
            return 2;                                                                                       \
        }                                                                                                   \
        k_columns(q6, 1, g, x, xs, cols, y, ys, n);                                                         \
        return 1;                                                                                           \
    }
CK_X32_COLUMNS(columns_signed, 1)
CK_X32_COLUMNS(columns_q4_1_q5_1, 0)
CK_K_COLUMNS(columns_q4_K_q5_K, 0)
CK_K_COLUMNS(columns_q6_K, 1)

CK_FN void CK_NAME(ck_gemm_group)(uint32_t type, const uint8_t *src, size_t row_bytes, int n, int64_t cols,
                                  const uint8_t *X, size_t x_stride, int64_t batch, float *Y, int64_t y_stride,
                                  uint8_t *buf) {
    const int kind = ck_gemm_kind(type);
    const size_t ws = ck_gemm_row_stride(kind, cols);
    uint8_t *g = buf + 4 * QUADS * ws;
    if (n < 4 * QUADS) {
        memset(buf + n * ws, 0, (4 * QUADS - n) * ws); // zero rows: zero quants and scales
    }
    for (int i = 0; i < n; i++) {
        if (kind == CK_GEMM_X32) {
            unpack_x32_avx2(type, src + (size_t)i * row_bytes, cols, buf + (size_t)i * ws);
        } else {
            unpack_k_avx2(type, src + (size_t)i * row_bytes, cols, buf + (size_t)i * ws);
        }
    }
    column_fn columns;
    switch (type) {
    case CK_TYPE_Q4_0:
    case CK_TYPE_Q5_0:
    case CK_TYPE_Q8_0: columns = columns_signed; break;
    case CK_TYPE_Q4_1:
    case CK_TYPE_Q5_1: columns = columns_q4_1_q5_1; break;
    case CK_TYPE_Q6_K: columns = columns_q6_K; break;
    default: columns = columns_q4_K_q5_K; break;
    }
    if (kind == CK_GEMM_X32) {
        group_x32(buf, ws, cols, g);
    } else {
        group_k(buf, ws, cols, g);
    }
    for (int64_t b = 0; b < batch;) {
        b += columns(g, X + (size_t)b * x_stride, x_stride, batch - b, cols, Y + b * y_stride, y_stride, n);
    }
}

#endif
