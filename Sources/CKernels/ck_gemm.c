// Tiled matrix products for batches of several columns: each weight row is unpacked once into plain bytes and
// scales, then multiplied with every activation column of the batch, so the bit-fiddling of a block format is paid
// once per row instead of once per (row, column) pair. This file holds the layouts, the activation packing, the
// portable kernels (the scalar twin) and the entry point; ck_gemm_avx2.c holds the AVX2 kernels, and compiled again
// by ck_gemm_avxvnni.c and ck_gemm_avx512vnni.c, the VNNI tiers'.
//
// The result for each (row, column) is bit for bit what the per-pair dot product on the same path gives
// (ck_scalar_dot.c, ck_avx2_dot.c): the activations are quantized by the same quantizer, the same integers are
// summed, and the float steps are the same, in the same order. So a product does not depend on the batch its
// column came in, and generation (batch 1, per-pair) and prompt processing agree exactly.
//
// Two families, by where the block scales sit:
//   X32 (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0): one fp16 scale per 32 weights; activations as Q8_0 (Q8_1 for Q4_1 / Q5_1,
//     whose block sums are kept too).
//   K (Q4_K Q5_K Q6_K): integer sub-block scales under fp16 scales per 256; activations as Q8_K.
#include "ck_internal.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

int ck_gemm_kind(uint32_t type) {
    switch (type) {
    case CK_TYPE_Q4_0:
    case CK_TYPE_Q4_1:
    case CK_TYPE_Q5_0:
    case CK_TYPE_Q5_1:
    case CK_TYPE_Q8_0: return CK_GEMM_X32;
    case CK_TYPE_Q4_K:
    case CK_TYPE_Q5_K:
    case CK_TYPE_Q6_K: return CK_GEMM_K;
    default: return CK_GEMM_NONE;
    }
}

// Below these batches the per-pair dot is as fast: unpacking a row costs about as much as one to four of its dot
// products, least for the formats whose per-pair kernels do the most bit-fiddling per block (Q5_0, Q6_K). Measured
// with bench/gemm_bench.c --batch; as both paths give the same bits, the choice only moves time.
int64_t ck_gemm_min_batch(uint32_t type) {
    switch (type) {
    case CK_TYPE_Q4_K:
    case CK_TYPE_Q5_K: return 5;
    case CK_TYPE_Q8_0: return 4;
    default: return 2;
    }
}

// ---------------------------------------------------------------- activations

// A packed X32 column of `cols` elements (nb = cols/32, nbp = ck_pad8(nb)):
//   int8 qs[cols] | float d[nbp] (Q8_0's fp16 scale) | float s[nbp] (Q8_1's fp16 block sum)
// The SIMD tiers store each block's quants in their kernels' order (the VNNI tiers offset by 128, see
// ck_gemm_avx2.c), the scalar tier in element order.
// A packed K column: cols/256 ck_block_q8_K (AVX2: quants and bsums reordered likewise).
size_t ck_gemm_x_bytes(int kind, int64_t cols) {
    if (kind == CK_GEMM_X32) {
        return (size_t)cols + 8 * (size_t)ck_pad8(cols / CK_QK);
    }
    return (size_t)(cols / CK_QK_K) * sizeof(ck_block_q8_K);
}

size_t ck_gemm_pack_tmp_bytes(int64_t cols) {
    return (size_t)(cols / CK_QK) * sizeof(ck_block_q8_0);
}

static void repack_x32_ref(const float *x, const ck_block_q8_0 *b, int64_t cols, uint8_t *out) {
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    int8_t *qs = (int8_t *)out;
    float *d = (float *)(out + cols), *s = d + nbp;
    for (int64_t j = 0; j < nb; j++, x += CK_QK) {
        memcpy(qs + j * CK_QK, b[j].qs, CK_QK);
        int sum = 0;
        float amax = 0;
        for (int l = 0; l < CK_QK; l++) {
            sum += b[j].qs[l];
            const float a = __builtin_fabsf(x[l]);
            amax = a > amax ? a : amax;
        }
        d[j] = ck_fp16_to_fp32(ck_load_u16(&b[j].d));
        s[j] = ck_fp16_to_fp32(ck_fp32_to_fp16((float)sum * (amax / 127.0f))); // as ck_quantize_q8_1_ref
    }
    for (int64_t j = nb; j < nbp; j++) {
        d[j] = 0;
        s[j] = 0;
    }
}

#if CK_X86
static ck_gemm_repack_fn repack_x32(int tier) {
    switch (tier) {
    case CK_TIER_AVX_VNNI: return ck_gemm_repack_x32_avxvnni;
    case CK_TIER_AVX512_VNNI: return ck_gemm_repack_x32_avx512vnni;
    default: return ck_gemm_repack_x32_avx2;
    }
}

static ck_gemm_group_fn group_fn(int tier) {
    switch (tier) {
    case CK_TIER_AVX_VNNI: return ck_gemm_group_avxvnni;
    case CK_TIER_AVX512_VNNI: return ck_gemm_group_avx512vnni;
    default: return ck_gemm_group_avx2;
    }
}
#endif

void ck_gemm_pack_x(int tier, int kind, const float *x, void *out, int64_t cols, void *tmp) {
    const ck_type_traits *t = ck_traits(kind == CK_GEMM_K ? CK_TYPE_Q8_K : CK_TYPE_Q8_0);
    ck_tier_quant(t, tier)(x, kind == CK_GEMM_K ? out : tmp, cols);
#if CK_X86
    if (tier >= CK_TIER_AVX2) {
        if (kind == CK_GEMM_K) {
            ck_gemm_order_q8_K_avx2(out, cols);
        } else {
            repack_x32(tier)(x, tmp, cols, out);
        }
        return;
    }
#endif
    if (kind == CK_GEMM_X32) {
        repack_x32_ref(x, tmp, cols, out);
    }
}

// ---------------------------------------------------------------- portable kernels

// X32 rows for the scalar path: signed quants (Q4_0 and Q5_0 with their offsets taken off, Q8_0 as stored) with
// bias 0, or Q4_1 / Q5_1's unsigned quants with their minimum as the bias.
static void unpack_x32_ref(uint32_t type, const uint8_t *src, int64_t cols, uint8_t *dst) {
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    uint8_t *q = dst;
    float *d = (float *)(dst + cols), *bias = d + nbp;
    for (int64_t j = 0; j < nb; j++, q += CK_QK) {
        uint16_t dh, mh = 0;
        uint32_t qh = 0;
        const uint8_t *qs;
        int offset = 0;
        switch (type) {
        case CK_TYPE_Q8_0: {
            const ck_block_q8_0 *b = (const ck_block_q8_0 *)src + j;
            memcpy(q, b->qs, CK_QK);
            d[j] = ck_fp16_to_fp32(ck_load_u16(&b->d));
            bias[j] = 0;
            continue;
        }
        case CK_TYPE_Q4_0: {
            const ck_block_q4_0 *b = (const ck_block_q4_0 *)src + j;
            dh = ck_load_u16(&b->d), qs = b->qs, offset = 8;
            break;
        }
        case CK_TYPE_Q4_1: {
            const ck_block_q4_1 *b = (const ck_block_q4_1 *)src + j;
            dh = ck_load_u16(&b->d), mh = ck_load_u16(&b->m), qs = b->qs;
            break;
        }
        case CK_TYPE_Q5_0: {
            const ck_block_q5_0 *b = (const ck_block_q5_0 *)src + j;
            dh = ck_load_u16(&b->d), qs = b->qs, offset = 16;
            memcpy(&qh, b->qh, 4);
            break;
        }
        default: { // Q5_1
            const ck_block_q5_1 *b = (const ck_block_q5_1 *)src + j;
            dh = ck_load_u16(&b->d), mh = ck_load_u16(&b->m), qs = b->qs;
            memcpy(&qh, b->qh, 4);
            break;
        }
        }
        // element l: low nibble of byte l, element l + 16: high nibble; bit 4 (the _5 formats) from bit l of qh
        for (int l = 0; l < 16; l++) {
            q[l] = (uint8_t)(((qs[l] & 0x0f) | (int)(((qh >> l) & 1u) << 4)) - offset);
            q[l + 16] = (uint8_t)(((qs[l] >> 4) | (int)(((qh >> (l + 16)) & 1u) << 4)) - offset);
        }
        d[j] = ck_fp16_to_fp32(dh);
        bias[j] = offset ? 0.0f : ck_fp16_to_fp32(mh);
    }
    for (int64_t j = nb; j < nbp; j++) {
        d[j] = 0;
        bias[j] = 0;
    }
}

static void unpack_k_ref(uint32_t type, const uint8_t *src, int64_t cols, uint8_t *dst) {
    const ck_k_row p = ck_k_parts(dst, cols);
    for (int64_t i = 0; i < cols / CK_QK_K; i++) {
        uint8_t *q = p.q + i * CK_QK_K;
        int16_t *sc = p.sc + 32 * i;
        int16_t *m = p.m + 16 * i;
        if (type == CK_TYPE_Q6_K) {
            const ck_block_q6_K *b = (const ck_block_q6_K *)src + i;
            for (int e = 0; e < CK_QK_K; e++) {
                q[e] = (uint8_t)ck_q6_value(b, e);
            }
            for (int t = 0; t < 16; t++) {
                sc[2 * t] = sc[2 * t + 1] = b->scales[t];
                m[t] = (int16_t)(32 * b->scales[t]);
            }
            p.d[i] = ck_fp16_to_fp32(ck_load_u16(&b->d));
            p.dmin[i] = p.d[i];
            continue;
        }
        // Q4_K / Q5_K share the scale packing and the nibble order: 64 elements per 32 bytes of qs, low nibbles
        // first. Q5_K's fifth bit of element 64k+l is bit 2k of qh[l], of element 64k+32+l bit 2k+1.
        const uint8_t *scales, *qs, *qh = NULL;
        uint16_t dh, mh;
        if (type == CK_TYPE_Q4_K) {
            const ck_block_q4_K *b = (const ck_block_q4_K *)src + i;
            scales = b->scales, qs = b->qs, dh = ck_load_u16(&b->d), mh = ck_load_u16(&b->dmin);
        } else {
            const ck_block_q5_K *b = (const ck_block_q5_K *)src + i;
            scales = b->scales, qs = b->qs, qh = b->qh, dh = ck_load_u16(&b->d), mh = ck_load_u16(&b->dmin);
        }
        uint8_t s6[8], m6[8];
        ck_unpack_k_scales(scales, s6, m6);
        for (int k = 0; k < 4; k++) {
            for (int l = 0; l < 32; l++) {
                int lo = qs[32 * k + l] & 0x0f, hi = qs[32 * k + l] >> 4;
                if (qh != NULL) {
                    lo |= ((qh[l] >> (2 * k)) & 1) << 4;
                    hi |= ((qh[l] >> (2 * k + 1)) & 1) << 4;
                }
                q[64 * k + l] = (uint8_t)lo;
                q[64 * k + 32 + l] = (uint8_t)hi;
            }
        }
        for (int s = 0; s < 8; s++) {
            sc[4 * s] = sc[4 * s + 1] = sc[4 * s + 2] = sc[4 * s + 3] = s6[s];
            m[2 * s] = m[2 * s + 1] = m6[s];
        }
        p.d[i] = ck_fp16_to_fp32(dh);
        p.dmin[i] = ck_fp16_to_fp32(mh);
    }
}

// One (row, column) product of each family on unpacked rows, in the steps of the reference dot product
// (ck_scalar_dot.c): exact integer sums per block (per super-block for K), then the same float expression.
static float dot_x32_ref(const uint8_t *w, int is_signed, const uint8_t *x, int64_t cols) {
    const int64_t nb = cols / CK_QK, nbp = ck_pad8(nb);
    const float *wd = (const float *)(w + cols), *bias = wd + nbp;
    const int8_t *xq = (const int8_t *)x;
    const float *xd = (const float *)(x + cols), *xs = xd + nbp;
    float sum = 0;
    for (int64_t j = 0; j < nb; j++, xq += CK_QK) {
        int isum = 0;
        if (is_signed) {
            const int8_t *q = (const int8_t *)w + j * CK_QK;
            for (int l = 0; l < CK_QK; l++) {
                isum += q[l] * xq[l];
            }
            sum += wd[j] * xd[j] * (float)isum;
        } else {
            const uint8_t *q = w + j * CK_QK;
            for (int l = 0; l < CK_QK; l++) {
                isum += q[l] * xq[l];
            }
            sum += wd[j] * xd[j] * (float)isum + bias[j] * xs[j];
        }
    }
    return sum;
}

static float dot_k_ref(const uint8_t *w, int q6, const uint8_t *x, int64_t cols) {
    const ck_k_row p = ck_k_parts((uint8_t *)w, cols);
    const ck_block_q8_K *xb = (const ck_block_q8_K *)x;
    float sum = 0;
    for (int64_t i = 0; i < cols / CK_QK_K; i++) {
        const uint8_t *q = p.q + i * CK_QK_K;
        const int16_t *sc = p.sc + 32 * i;
        const int16_t *m = p.m + 16 * i;
        int isum = 0, msum = 0;
        for (int t = 0; t < 16; t++) {
            int s16 = 0;
            for (int l = 0; l < 16; l++) {
                s16 += q[16 * t + l] * xb[i].qs[16 * t + l];
            }
            isum += sc[2 * t] * s16;
            msum += m[t] * xb[i].bsums[t];
        }
        if (q6) {
            sum += p.d[i] * xb[i].d * (float)(isum - msum);
        } else {
            sum += p.d[i] * xb[i].d * (float)isum - p.dmin[i] * xb[i].d * (float)msum;
        }
    }
    return sum;
}

// ---------------------------------------------------------------- entry

// Rows are unpacked a group at a time (four, or eight for the 512-bit kernels), just before use, so they are still
// in L1 or L2 while every column passes over them: room for a group's rows, and for the SIMD kernels' interleaved
// copy of them (ck_gemm_avx2.c), whatever the tier.
int ck_gemm_group_rows(int tier) {
    return tier == CK_TIER_AVX512_VNNI ? CK_GEMM_WIDE_ROWS : 4;
}

size_t ck_gemm_work_bytes(uint32_t type, int64_t cols) {
    const int kind = ck_gemm_kind(type);
    const size_t quads = CK_GEMM_WIDE_ROWS / 4;
    const size_t group = kind == CK_GEMM_X32 ? 320 * (size_t)(cols / CK_QK)
                                             : 160 * (size_t)(cols / CK_QK) + 192 * (size_t)(cols / CK_QK_K);
    return quads * (4 * ck_gemm_row_stride(kind, cols) + group);
}

void ck_gemm_rows(int tier, uint32_t type, const void *W, size_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                  const void *X, size_t x_stride, int64_t batch, float *Y, int64_t y_stride, void *work) {
    const int kind = ck_gemm_kind(type);
    const size_t ws = ck_gemm_row_stride(kind, cols);
    const int is_signed = type == CK_TYPE_Q8_0 || type == CK_TYPE_Q4_0 || type == CK_TYPE_Q5_0;
    const int q6 = type == CK_TYPE_Q6_K;
    uint8_t *buf = work;
    const int rows = ck_gemm_group_rows(tier);
#if CK_X86
    const ck_gemm_group_fn group = tier >= CK_TIER_AVX2 ? group_fn(tier) : NULL;
#endif
    for (int64_t r = r0; r < r1; r += rows) {
        const int n = r1 - r < rows ? (int)(r1 - r) : rows;
        const uint8_t *src = (const uint8_t *)W + (size_t)r * row_bytes;
#if CK_X86
        if (group != NULL) {
            group(type, src, row_bytes, n, cols, X, x_stride, batch, Y + r, y_stride, buf);
            continue;
        }
#endif
        for (int i = 0; i < n; i++) {
            if (kind == CK_GEMM_X32) {
                unpack_x32_ref(type, src + (size_t)i * row_bytes, cols, buf + (size_t)i * ws);
            } else {
                unpack_k_ref(type, src + (size_t)i * row_bytes, cols, buf + (size_t)i * ws);
            }
        }
        for (int64_t b = 0; b < batch; b++) {
            const uint8_t *x = (const uint8_t *)X + (size_t)b * x_stride;
            for (int i = 0; i < n; i++) {
                const uint8_t *w = buf + (size_t)i * ws;
                Y[b * y_stride + r + i] = kind == CK_GEMM_X32 ? dot_x32_ref(w, is_signed, x, cols)
                                                              : dot_k_ref(w, q6, x, cols);
            }
        }
    }
}
