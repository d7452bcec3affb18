// Scalar reference dot products of each weight format against its activation format: exact integer sums per
// block, then one float scale per block, as llama.cpp's generic vec_dot does. The AVX2 twins are in
// ck_avx2_dot.c.
#include "ck_internal.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// Float vectors accumulate in double; quantised ones sum exact integers per block and scale once per block.

float ck_dot_f32_ref(int64_t n, const void *w, const void *x) {
    const float *a = w, *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += (double)a[i] * (double)b[i];
    }
    return (float)sum;
}

float ck_dot_f16_ref(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += (double)ck_fp16_to_fp32(ck_load_u16(a + 2 * i)) * (double)ck_fp16_to_fp32(ck_load_u16(b + 2 * i));
    }
    return (float)sum;
}

float ck_dot_bf16_ref(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += (double)ck_bf16_to_fp32(ck_load_u16(a + 2 * i)) * (double)ck_bf16_to_fp32(ck_load_u16(b + 2 * i));
    }
    return (float)sum;
}

float ck_dot_q4_0_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q4_0 *a = w;
    const ck_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += ((a[i].qs[j] & 0x0f) - 8) * b[i].qs[j];
            isum += ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        sum += d * (float)isum;
    }
    return sum;
}

float ck_dot_q4_1_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q4_1 *a = w;
    const ck_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += (a[i].qs[j] & 0x0f) * b[i].qs[j];
            isum += (a[i].qs[j] >> 4) * b[i].qs[j + 16];
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        const float ms = ck_fp16_to_fp32(ck_load_u16(&a[i].m)) * ck_fp16_to_fp32(ck_load_u16(&b[i].s));
        sum += d * (float)isum + ms;
    }
    return sum;
}

float ck_dot_q5_0_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q5_0 *a = w;
    const ck_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        uint32_t qh;
        memcpy(&qh, a[i].qh, 4);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            const int lo = ((a[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4)) - 16;
            const int hi = ((a[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4)) - 16;
            isum += lo * b[i].qs[j] + hi * b[i].qs[j + 16];
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        sum += d * (float)isum;
    }
    return sum;
}

float ck_dot_q5_1_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q5_1 *a = w;
    const ck_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        uint32_t qh;
        memcpy(&qh, a[i].qh, 4);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            const int lo = (a[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (a[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            isum += lo * b[i].qs[j] + hi * b[i].qs[j + 16];
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        const float ms = ck_fp16_to_fp32(ck_load_u16(&a[i].m)) * ck_fp16_to_fp32(ck_load_u16(&b[i].s));
        sum += d * (float)isum + ms;
    }
    return sum;
}

float ck_dot_q8_0_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q8_0 *a = w;
    const ck_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK; i++) {
        int isum = 0;
        for (int j = 0; j < 32; j++) {
            isum += a[i].qs[j] * b[i].qs[j];
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * ck_fp16_to_fp32(ck_load_u16(&b[i].d));
        sum += d * (float)isum;
    }
    return sum;
}

// K formats: sum_e (d*sc*q_e - dmin*m) * yd*y_e = d*yd * sum_sub sc*sum(q*y) - dmin*yd * sum_sub m*sum(y),
// where sum(y) over a sub-block of 32 is two of Q8_K's bsums.
float ck_dot_q4_K_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q4_K *a = w;
    const ck_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        uint8_t sc[8], m[8];
        ck_unpack_k_scales(a[i].scales, sc, m);
        const uint8_t *q = a[i].qs;
        const int8_t *y = b[i].qs;
        int isum = 0, msum = 0;
        for (int k = 0; k < 4; k++, q += 32, y += 64) {
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += (q[l] & 0x0f) * y[l];
                hi += (q[l] >> 4) * y[l + 32];
            }
            isum += sc[2 * k] * lo + sc[2 * k + 1] * hi;
        }
        for (int s = 0; s < 8; s++) {
            msum += m[s] * (b[i].bsums[2 * s] + b[i].bsums[2 * s + 1]);
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * b[i].d;
        const float dmin = ck_fp16_to_fp32(ck_load_u16(&a[i].dmin)) * b[i].d;
        sum += d * (float)isum - dmin * (float)msum;
    }
    return sum;
}

float ck_dot_q5_K_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q5_K *a = w;
    const ck_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        uint8_t sc[8], m[8];
        ck_unpack_k_scales(a[i].scales, sc, m);
        const uint8_t *q = a[i].qs;
        const uint8_t *qh = a[i].qh;
        const int8_t *y = b[i].qs;
        int isum = 0, msum = 0;
        for (int k = 0; k < 4; k++, q += 32, y += 64) {
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += ((q[l] & 0x0f) | (((qh[l] >> (2 * k)) & 1) << 4)) * y[l];
                hi += ((q[l] >> 4) | (((qh[l] >> (2 * k + 1)) & 1) << 4)) * y[l + 32];
            }
            isum += sc[2 * k] * lo + sc[2 * k + 1] * hi;
        }
        for (int s = 0; s < 8; s++) {
            msum += m[s] * (b[i].bsums[2 * s] + b[i].bsums[2 * s + 1]);
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * b[i].d;
        const float dmin = ck_fp16_to_fp32(ck_load_u16(&a[i].dmin)) * b[i].d;
        sum += d * (float)isum - dmin * (float)msum;
    }
    return sum;
}

float ck_dot_q6_K_ref(int64_t n, const void *w, const void *x) {
    const ck_block_q6_K *a = w;
    const ck_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / CK_QK_K; i++) {
        int isum = 0;
        for (int s = 0; s < 16; s++) {
            int ssum = 0;
            for (int e = 16 * s; e < 16 * s + 16; e++) {
                ssum += (ck_q6_value(&a[i], e) - 32) * b[i].qs[e];
            }
            isum += a[i].scales[s] * ssum;
        }
        const float d = ck_fp16_to_fp32(ck_load_u16(&a[i].d)) * b[i].d;
        sum += d * (float)isum;
    }
    return sum;
}
