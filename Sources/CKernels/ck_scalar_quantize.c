// Scalar reference activation quantizers, rounding exactly as llama.cpp's quantize_row_*_ref: Q8_0 and Q8_1
// scale by 1/(amax/127) and round half away from zero (roundf); Q8_K scales by -127/max and rounds half to even
// (llama.cpp's nearest_int). Same inputs give the same bytes as llama.cpp and gguf-py.
#include "ck_internal.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// Round half to even for |v| < 2^22, independent of how the compiler lowers it: adding 1.5*2^23 leaves the
// rounded integer in the low mantissa bits (llama.cpp's nearest_int).
static inline int nearest_int(float v) {
    const float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    return (bits & 0x007fffff) - 0x00400000;
}

// roundf (half away from zero) without libm: truncate |v|, add one when the exact fraction is >= 0.5.
static inline float round_away(float v) {
    const float a = __builtin_fabsf(v);
    if (!(a < 8388608.0f)) {
        return v; // already an integer (or inf / NaN)
    }
    float t = (float)(int32_t)a;
    if (a - t >= 0.5f) {
        t += 1.0f;
    }
    return __builtin_copysignf(t, v);
}

void ck_quantize_f32_ref(const float *x, void *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void ck_quantize_f16_ref(const float *x, void *y, int64_t n) {
    uint16_t *out = y;
    for (int64_t i = 0; i < n; i++) {
        out[i] = ck_fp32_to_fp16(x[i]);
    }
}

void ck_quantize_bf16_ref(const float *x, void *y, int64_t n) {
    uint16_t *out = y;
    for (int64_t i = 0; i < n; i++) {
        out[i] = ck_fp32_to_bf16(x[i]);
    }
}

void ck_quantize_q8_0_ref(const float *x, void *y, int64_t n) {
    ck_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / CK_QK; i++, x += CK_QK) {
        float amax = 0;
        for (int j = 0; j < CK_QK; j++) {
            const float a = __builtin_fabsf(x[j]);
            amax = a > amax ? a : amax;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = ck_fp32_to_fp16(d);
        memcpy(&b[i].d, &dh, 2);
        for (int j = 0; j < CK_QK; j++) {
            b[i].qs[j] = (int8_t)round_away(x[j] * id);
        }
    }
}

void ck_quantize_q8_1_ref(const float *x, void *y, int64_t n) {
    ck_block_q8_1 *b = y;
    for (int64_t i = 0; i < n / CK_QK; i++, x += CK_QK) {
        float amax = 0;
        for (int j = 0; j < CK_QK; j++) {
            const float a = __builtin_fabsf(x[j]);
            amax = a > amax ? a : amax;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < CK_QK; j++) {
            b[i].qs[j] = (int8_t)round_away(x[j] * id);
            sum += b[i].qs[j];
        }
        const uint16_t dh = ck_fp32_to_fp16(d);
        const uint16_t sh = ck_fp32_to_fp16((float)sum * d);
        memcpy(&b[i].d, &dh, 2);
        memcpy(&b[i].s, &sh, 2);
    }
}

void ck_quantize_q8_K_ref(const float *x, void *y, int64_t n) {
    ck_block_q8_K *b = y;
    for (int64_t i = 0; i < n / CK_QK_K; i++, x += CK_QK_K) {
        // max: the first element of largest magnitude, sign kept (the scale is negative for a positive max)
        float amax = 0, max = 0;
        for (int j = 0; j < CK_QK_K; j++) {
            const float a = __builtin_fabsf(x[j]);
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            // llama.cpp leaves bsums unwritten here; zero them so the output is deterministic
            memset(&b[i], 0, sizeof(b[i]));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < CK_QK_K; j++) {
            const int v = nearest_int(iscale * x[j]);
            b[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int s = 0; s < 16; s++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) {
                sum += b[i].qs[16 * s + j];
            }
            b[i].bsums[s] = (int16_t)sum;
        }
        b[i].d = 1.0f / iscale;
    }
}
