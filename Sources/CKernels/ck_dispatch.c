// The type table (block geometry, activation format, kernels per tier), CPU detection and the tier cap, and the
// row-level entry points that pick a tier.
#include "ck_internal.h"

// Dot products per tier: the float formats have scalar and AVX2 kernels, the quantized ones a kernel per tier.
#if CK_X86
#define AVX2(f) f
#define FLOAT_DOTS(f) {f##_ref, f##_avx2, NULL, NULL}
#define QUANT_DOTS(f) {f##_ref, f##_avx2, f##_avxvnni, f##_avx512vnni}
#else
#define AVX2(f) NULL
#define FLOAT_DOTS(f) {f##_ref, NULL, NULL, NULL}
#define QUANT_DOTS(f) {f##_ref, NULL, NULL, NULL}
#endif
#define NO_DOTS {NULL, NULL, NULL, NULL}

static const ck_type_traits traits_f32 = {1, 4, CK_TYPE_F32, ck_dequantize_f32, FLOAT_DOTS(ck_dot_f32),
    ck_quantize_f32_ref, ck_quantize_f32_ref};
static const ck_type_traits traits_f16 = {1, 2, CK_TYPE_F16, ck_dequantize_f16, FLOAT_DOTS(ck_dot_f16),
    ck_quantize_f16_ref, AVX2(ck_quantize_f16_avx2)};
static const ck_type_traits traits_bf16 = {1, 2, CK_TYPE_BF16, ck_dequantize_bf16, FLOAT_DOTS(ck_dot_bf16),
    ck_quantize_bf16_ref, AVX2(ck_quantize_bf16_avx2)};
static const ck_type_traits traits_q4_0 = {CK_QK, sizeof(ck_block_q4_0), CK_TYPE_Q8_0, ck_dequantize_q4_0,
    QUANT_DOTS(ck_dot_q4_0), NULL, NULL};
static const ck_type_traits traits_q4_1 = {CK_QK, sizeof(ck_block_q4_1), CK_TYPE_Q8_1, ck_dequantize_q4_1,
    QUANT_DOTS(ck_dot_q4_1), NULL, NULL};
static const ck_type_traits traits_q5_0 = {CK_QK, sizeof(ck_block_q5_0), CK_TYPE_Q8_0, ck_dequantize_q5_0,
    QUANT_DOTS(ck_dot_q5_0), NULL, NULL};
static const ck_type_traits traits_q5_1 = {CK_QK, sizeof(ck_block_q5_1), CK_TYPE_Q8_1, ck_dequantize_q5_1,
    QUANT_DOTS(ck_dot_q5_1), NULL, NULL};
static const ck_type_traits traits_q8_0 = {CK_QK, sizeof(ck_block_q8_0), CK_TYPE_Q8_0, ck_dequantize_q8_0,
    QUANT_DOTS(ck_dot_q8_0), ck_quantize_q8_0_ref, AVX2(ck_quantize_q8_0_avx2)};
static const ck_type_traits traits_q8_1 = {CK_QK, sizeof(ck_block_q8_1), -1, NULL, NO_DOTS,
    ck_quantize_q8_1_ref, AVX2(ck_quantize_q8_1_avx2)};
static const ck_type_traits traits_q4_K = {CK_QK_K, sizeof(ck_block_q4_K), CK_TYPE_Q8_K, ck_dequantize_q4_K,
    QUANT_DOTS(ck_dot_q4_K), NULL, NULL};
static const ck_type_traits traits_q5_K = {CK_QK_K, sizeof(ck_block_q5_K), CK_TYPE_Q8_K, ck_dequantize_q5_K,
    QUANT_DOTS(ck_dot_q5_K), NULL, NULL};
static const ck_type_traits traits_q6_K = {CK_QK_K, sizeof(ck_block_q6_K), CK_TYPE_Q8_K, ck_dequantize_q6_K,
    QUANT_DOTS(ck_dot_q6_K), NULL, NULL};
static const ck_type_traits traits_q8_K = {CK_QK_K, sizeof(ck_block_q8_K), -1, NULL, NO_DOTS,
    ck_quantize_q8_K_ref, AVX2(ck_quantize_q8_K_avx2)};

const ck_type_traits *ck_traits(uint32_t type) {
    switch (type) {
    case CK_TYPE_F32: return &traits_f32;
    case CK_TYPE_F16: return &traits_f16;
    case CK_TYPE_BF16: return &traits_bf16;
    case CK_TYPE_Q4_0: return &traits_q4_0;
    case CK_TYPE_Q4_1: return &traits_q4_1;
    case CK_TYPE_Q5_0: return &traits_q5_0;
    case CK_TYPE_Q5_1: return &traits_q5_1;
    case CK_TYPE_Q8_0: return &traits_q8_0;
    case CK_TYPE_Q8_1: return &traits_q8_1;
    case CK_TYPE_Q4_K: return &traits_q4_K;
    case CK_TYPE_Q5_K: return &traits_q5_K;
    case CK_TYPE_Q6_K: return &traits_q6_K;
    case CK_TYPE_Q8_K: return &traits_q8_K;
    default: return NULL;
    }
}

int ck_type_is_weight(uint32_t type) {
    const ck_type_traits *t = ck_traits(type);
    return t != NULL && t->vec_dot_type >= 0;
}

int ck_type_is_activation(uint32_t type) {
    const ck_type_traits *t = ck_traits(type);
    return t != NULL && t->quant_ref != NULL;
}

int64_t ck_block_size(uint32_t type) {
    const ck_type_traits *t = ck_traits(type);
    return t != NULL ? t->block_size : 0;
}

size_t ck_block_bytes(uint32_t type) {
    const ck_type_traits *t = ck_traits(type);
    return t != NULL ? t->block_bytes : 0;
}

int64_t ck_vec_dot_type(uint32_t type) {
    const ck_type_traits *t = ck_traits(type);
    return t != NULL ? t->vec_dot_type : -1;
}

size_t ck_row_bytes(uint32_t type, int64_t n) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || n < 0 || n % t->block_size != 0) {
        return 0;
    }
    const uint64_t blocks = (uint64_t)(n / t->block_size);
    if (blocks > SIZE_MAX / t->block_bytes) {
        return 0;
    }
    return (size_t)blocks * t->block_bytes;
}

// ---------------------------------------------------------------- CPU dispatch

#if CK_X86
#include <cpuid.h>

// XCR0: the register state the OS saves across context switches (bits 1-2: XMM and YMM; 5-7: AVX-512's opmask
// registers and the upper halves of ZMM0-15 and ZMM16-31). 0 when the OS has not enabled XSAVE.
static uint64_t os_saved_state(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) { // OSXSAVE
        return 0;
    }
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

// Bit t set when the CPU and OS can run tier t.
static int detect_tiers(void) {
    int have = 1 << CK_TIER_SCALAR;
#if CK_X86
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))) {
        return have;
    }
    have |= 1 << CK_TIER_AVX2;
    unsigned max_sub, b7, c7, d, a1, b, c;
    if (!__get_cpuid_count(7, 0, &max_sub, &b7, &c7, &d)) {
        return have;
    }
    if (max_sub >= 1 && __get_cpuid_count(7, 1, &a1, &b, &c, &d) && (a1 & (1u << 4))) { // AVX-VNNI
        have |= 1 << CK_TIER_AVX_VNNI;
    }
    const unsigned avx512 = (1u << 16) | (1u << 30) | (1u << 31); // F, BW, VL (EBX)
    if ((b7 & avx512) == avx512 && (c7 & (1u << 11)) && (os_saved_state() & 0xe6) == 0xe6) { // VNNI (ECX)
        have |= 1 << CK_TIER_AVX512_VNNI;
    }
#endif
    return have;
}

// -1: not probed yet. Probing twice is harmless, so a relaxed race is fine.
static int cpu_tiers = -1;
static int max_tier = CK_TIER_COUNT - 1;
static int hidden_tiers = 0; // tests: tiers treated as missing

static int tiers(void) {
    int v = __atomic_load_n(&cpu_tiers, __ATOMIC_RELAXED);
    if (v < 0) {
        v = detect_tiers();
        __atomic_store_n(&cpu_tiers, v, __ATOMIC_RELAXED);
    }
    return v & ~__atomic_load_n(&hidden_tiers, __ATOMIC_RELAXED);
}

void ck_hide_tiers(int mask) {
    __atomic_store_n(&hidden_tiers, mask & ~(1 << CK_TIER_SCALAR), __ATOMIC_RELAXED);
}

int ck_cpu_has_tier(int tier) {
    return tier >= 0 && tier < CK_TIER_COUNT && ((tiers() >> tier) & 1);
}

int ck_cpu_has_avx2(void) {
    return ck_cpu_has_tier(CK_TIER_AVX2);
}

int ck_tier(void) {
    const int have = tiers();
    int t = __atomic_load_n(&max_tier, __ATOMIC_RELAXED);
    while (t > CK_TIER_SCALAR && !((have >> t) & 1)) {
        t--;
    }
    return t;
}

int ck_using_avx2(void) {
    return ck_tier() >= CK_TIER_AVX2;
}

const char *ck_tier_name(int tier) {
    static const char *const names[CK_TIER_COUNT] = {"scalar", "avx2", "avx-vnni", "avx512-vnni"};
    return tier >= 0 && tier < CK_TIER_COUNT ? names[tier] : NULL;
}

void ck_force_path(int tier) {
    tier = tier < CK_TIER_SCALAR ? CK_TIER_SCALAR : tier >= CK_TIER_COUNT ? CK_TIER_COUNT - 1 : tier;
    __atomic_store_n(&max_tier, tier, __ATOMIC_RELAXED);
}

void ck_force_scalar(int on) {
    ck_force_path(on ? CK_TIER_SCALAR : CK_TIER_COUNT - 1);
}

ck_vec_dot_fn ck_tier_dot(const ck_type_traits *t, int tier) {
    while (tier > CK_TIER_SCALAR && t->dot[tier] == NULL) {
        tier--;
    }
    return t->dot[tier];
}

ck_quantize_fn ck_tier_quant(const ck_type_traits *t, int tier) {
    return tier >= CK_TIER_AVX2 && t->quant_avx2 != NULL ? t->quant_avx2 : t->quant_ref;
}

ck_vec_dot_fn ck_select_dot(const ck_type_traits *t) {
    return ck_tier_dot(t, ck_tier());
}

ck_quantize_fn ck_select_quant(const ck_type_traits *t) {
    return ck_tier_quant(t, ck_tier());
}

// ---------------------------------------------------------------- row entry points

int ck_dequantize_row(uint32_t type, const void *x, float *y, int64_t n) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->dequantize == NULL) {
        return CK_EUNSUPPORTED;
    }
    if (n < 0 || n % t->block_size != 0) {
        return CK_ESHAPE;
    }
    t->dequantize(x, y, n);
    return CK_OK;
}

int ck_quantize_row(int path, uint32_t type, const float *x, void *y, int64_t n) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->quant_ref == NULL) {
        return CK_EUNSUPPORTED;
    }
    if (n < 0 || n % t->block_size != 0) {
        return CK_ESHAPE;
    }
    if (path != CK_PATH_AUTO && !ck_cpu_has_tier(path - 1)) {
        return CK_ENOCPU;
    }
    const ck_quantize_fn f = path == CK_PATH_AUTO ? ck_select_quant(t) : ck_tier_quant(t, path - 1);
    f(x, y, n);
    return CK_OK;
}

int ck_vec_dot(int path, uint32_t type, int64_t n, const void *w, const void *x, float *out) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->dot[CK_TIER_SCALAR] == NULL) {
        return CK_EUNSUPPORTED;
    }
    if (n < 0 || n % t->block_size != 0) {
        return CK_ESHAPE;
    }
    if (path != CK_PATH_AUTO && !ck_cpu_has_tier(path - 1)) {
        return CK_ENOCPU;
    }
    const ck_vec_dot_fn f = path == CK_PATH_AUTO ? ck_select_dot(t) : ck_tier_dot(t, path - 1);
    *out = f(n, w, x);
    return CK_OK;
}
