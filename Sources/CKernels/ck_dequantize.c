// Scalar dequantization: the definition of each block format. Results are bitwise equal to llama.cpp's
// dequantize_row_* and gguf-py's dequantize (the tests hold them to that).
#include "ck_internal.h"

// Contraction into fused multiply-adds would change the last bit on CPUs that have FMA; the reference
// must give the same bits everywhere.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

void ck_dequantize_f32(const void *x, float *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void ck_dequantize_f16(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    for (int64_t i = 0; i < n; i++) {
        y[i] = ck_fp16_to_fp32(ck_load_u16(p + 2 * i));
    }
}

void ck_dequantize_bf16(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    for (int64_t i = 0; i < n; i++) {
        y[i] = ck_bf16_to_fp32(ck_load_u16(p + 2 * i));
    }
}

// The 32-wide formats keep element j in the low nibble of qs[j] and element j+16 in the high nibble;
// the 5-bit formats keep bit 4 of element j in bit j of qh.

void ck_dequantize_q4_0(const void *x, float *y, int64_t n) {
    const ck_block_q4_0 *b = x;
    for (int64_t i = 0; i < n / CK_QK; i++, y += CK_QK) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((b[i].qs[j] & 0x0f) - 8) * d;
            y[j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void ck_dequantize_q4_1(const void *x, float *y, int64_t n) {
    const ck_block_q4_1 *b = x;
    for (int64_t i = 0; i < n / CK_QK; i++, y += CK_QK) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        const float m = ck_fp16_to_fp32(ck_load_u16(&b[i].m));
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(b[i].qs[j] & 0x0f) * d + m;
            y[j + 16] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void ck_dequantize_q5_0(const void *x, float *y, int64_t n) {
    const ck_block_q5_0 *b = x;
    for (int64_t i = 0; i < n / CK_QK; i++, y += CK_QK) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            const int lo = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = (float)(lo - 16) * d;
            y[j + 16] = (float)(hi - 16) * d;
        }
    }
}

void ck_dequantize_q5_1(const void *x, float *y, int64_t n) {
    const ck_block_q5_1 *b = x;
    for (int64_t i = 0; i < n / CK_QK; i++, y += CK_QK) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        const float m = ck_fp16_to_fp32(ck_load_u16(&b[i].m));
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            const int lo = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = (float)lo * d + m;
            y[j + 16] = (float)hi * d + m;
        }
    }
}

void ck_dequantize_q8_0(const void *x, float *y, int64_t n) {
    const ck_block_q8_0 *b = x;
    for (int64_t i = 0; i < n / CK_QK; i++, y += CK_QK) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        for (int j = 0; j < 32; j++) {
            y[j] = (float)b[i].qs[j] * d;
        }
    }
}

// Q4_K / Q5_K: each 32 bytes of qs hold 64 elements, sub-block 2k in the low nibbles and 2k+1 in the high ones.
void ck_dequantize_q4_K(const void *x, float *y, int64_t n) {
    const ck_block_q4_K *b = x;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        const float dmin = ck_fp16_to_fp32(ck_load_u16(&b[i].dmin));
        uint8_t sc[8], m[8];
        ck_unpack_k_scales(b[i].scales, sc, m);
        const uint8_t *q = b[i].qs;
        for (int k = 0; k < 4; k++, q += 32) {
            const float d1 = d * (float)sc[2 * k], m1 = dmin * (float)m[2 * k];
            const float d2 = d * (float)sc[2 * k + 1], m2 = dmin * (float)m[2 * k + 1];
            for (int l = 0; l < 32; l++) {
                *y++ = d1 * (float)(q[l] & 0x0f) - m1;
            }
            for (int l = 0; l < 32; l++) {
                *y++ = d2 * (float)(q[l] >> 4) - m2;
            }
        }
    }
}

// Q5_K: bit 4 of element 64k+l is bit 2k of qh[l]; of element 64k+32+l, bit 2k+1.
void ck_dequantize_q5_K(const void *x, float *y, int64_t n) {
    const ck_block_q5_K *b = x;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        const float dmin = ck_fp16_to_fp32(ck_load_u16(&b[i].dmin));
        uint8_t sc[8], m[8];
        ck_unpack_k_scales(b[i].scales, sc, m);
        const uint8_t *q = b[i].qs;
        const uint8_t *qh = b[i].qh;
        for (int k = 0; k < 4; k++, q += 32) {
            const float d1 = d * (float)sc[2 * k], m1 = dmin * (float)m[2 * k];
            const float d2 = d * (float)sc[2 * k + 1], m2 = dmin * (float)m[2 * k + 1];
            for (int l = 0; l < 32; l++) {
                const int v = (q[l] & 0x0f) | (((qh[l] >> (2 * k)) & 1) << 4);
                *y++ = d1 * (float)v - m1;
            }
            for (int l = 0; l < 32; l++) {
                const int v = (q[l] >> 4) | (((qh[l] >> (2 * k + 1)) & 1) << 4);
                *y++ = d2 * (float)v - m2;
            }
        }
    }
}

void ck_dequantize_q6_K(const void *x, float *y, int64_t n) {
    const ck_block_q6_K *b = x;
    for (int64_t i = 0; i < n / CK_QK_K; i++, y += CK_QK_K) {
        const float d = ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        for (int e = 0; e < CK_QK_K; e++) {
            y[e] = d * (float)b[i].scales[e / 16] * (float)(ck_q6_value(&b[i], e) - 32);
        }
    }
}
