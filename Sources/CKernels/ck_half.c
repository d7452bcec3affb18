// IEEE half and bfloat16 conversions done with integer bit work, so they are exact on every CPU and agree with
// F16C (vcvtph2ps / vcvtps2ph with round-to-nearest-even) and with numpy's float16 casts.
#include "ck_internal.h"

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ck_fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24, exact in f32
        const float v = (float)mant * 0x1p-24f;
        return bits_f32(f32_bits(v) | sign);
    }
    if (exp == 31) {
        return bits_f32(sign | 0x7f800000u | (mant << 13));
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t ck_fp32_to_fp16(float f) {
    const uint32_t x = f32_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) {
        // NaN: quiet it and keep the top payload bits, as F16C does
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    if (ax >= 0x477ff000u) {
        // at or past 65520 (inf included) rounds to infinity
        return (uint16_t)(sign | 0x7c00u);
    }
    if (ax < 0x38800000u) {
        // below the smallest normal half (2^-14): the result counts units of 2^-24. Adding 0.5 (whose ulp is
        // 2^-24) makes the FPU round to that unit, nearest-even; the low bits of the sum are the count.
        const float sum = bits_f32(ax) + 0.5f;
        return (uint16_t)(sign | (f32_bits(sum) - 0x3f000000u));
    }
    // normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even;
    // a carry out of the mantissa correctly bumps the exponent.
    const uint32_t odd = (ax >> 13) & 1u;
    ax += 0xc8000000u + 0x0fffu + odd;
    return (uint16_t)(sign | (ax >> 13));
}

float ck_bf16_to_fp32(uint16_t h) {
    return bits_f32((uint32_t)h << 16);
}

uint16_t ck_fp32_to_bf16(float f) {
    const uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((u >> 16) | 64u); // NaN stays NaN, quietened
    }
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

void ck_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n) {
#if CK_X86
    if (ck_using_avx2()) {
        ck_fp16_to_fp32_row_avx2(x, y, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) {
        y[i] = ck_fp16_to_fp32(x[i]);
    }
}

void ck_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n) {
#if CK_X86
    if (ck_using_avx2()) {
        ck_quantize_f16_avx2(x, y, n);
        return;
    }
#endif
    ck_quantize_f16_ref(x, y, n);
}
