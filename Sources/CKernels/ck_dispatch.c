// The type table (block geometry, activation format, kernels per path), CPU detection and the scalar override,
// and the row-level entry points that pick a path.
#include "ck_internal.h"

#if CK_X86
#define AVX2(f) f
#else
#define AVX2(f) NULL
#endif

static const ck_type_traits traits_f32 = {1, 4, CK_TYPE_F32, ck_dequantize_f32, ck_dot_f32_ref,
    AVX2(ck_dot_f32_avx2), ck_quantize_f32_ref, ck_quantize_f32_ref};
static const ck_type_traits traits_f16 = {1, 2, CK_TYPE_F16, ck_dequantize_f16, ck_dot_f16_ref,
    AVX2(ck_dot_f16_avx2), ck_quantize_f16_ref, AVX2(ck_quantize_f16_avx2)};
static const ck_type_traits traits_bf16 = {1, 2, CK_TYPE_BF16, ck_dequantize_bf16, ck_dot_bf16_ref,
    AVX2(ck_dot_bf16_avx2), ck_quantize_bf16_ref, AVX2(ck_quantize_bf16_avx2)};
static const ck_type_traits traits_q4_0 = {CK_QK, sizeof(ck_block_q4_0), CK_TYPE_Q8_0, ck_dequantize_q4_0,
    ck_dot_q4_0_ref, AVX2(ck_dot_q4_0_avx2), NULL, NULL};
static const ck_type_traits traits_q4_1 = {CK_QK, sizeof(ck_block_q4_1), CK_TYPE_Q8_1, ck_dequantize_q4_1,
    ck_dot_q4_1_ref, AVX2(ck_dot_q4_1_avx2), NULL, NULL};
static const ck_type_traits traits_q5_0 = {CK_QK, sizeof(ck_block_q5_0), CK_TYPE_Q8_0, ck_dequantize_q5_0,
    ck_dot_q5_0_ref, AVX2(ck_dot_q5_0_avx2), NULL, NULL};
static const ck_type_traits traits_q5_1 = {CK_QK, sizeof(ck_block_q5_1), CK_TYPE_Q8_1, ck_dequantize_q5_1,
    ck_dot_q5_1_ref, AVX2(ck_dot_q5_1_avx2), NULL, NULL};
static const ck_type_traits traits_q8_0 = {CK_QK, sizeof(ck_block_q8_0), CK_TYPE_Q8_0, ck_dequantize_q8_0,
    ck_dot_q8_0_ref, AVX2(ck_dot_q8_0_avx2), ck_quantize_q8_0_ref, AVX2(ck_quantize_q8_0_avx2)};
static const ck_type_traits traits_q8_1 = {CK_QK, sizeof(ck_block_q8_1), -1, NULL, NULL, NULL,
    ck_quantize_q8_1_ref, AVX2(ck_quantize_q8_1_avx2)};
static const ck_type_traits traits_q4_K = {CK_QK_K, sizeof(ck_block_q4_K), CK_TYPE_Q8_K, ck_dequantize_q4_K,
    ck_dot_q4_K_ref, AVX2(ck_dot_q4_K_avx2), NULL, NULL};
static const ck_type_traits traits_q5_K = {CK_QK_K, sizeof(ck_block_q5_K), CK_TYPE_Q8_K, ck_dequantize_q5_K,
    ck_dot_q5_K_ref, AVX2(ck_dot_q5_K_avx2), NULL, NULL};
static const ck_type_traits traits_q6_K = {CK_QK_K, sizeof(ck_block_q6_K), CK_TYPE_Q8_K, ck_dequantize_q6_K,
    ck_dot_q6_K_ref, AVX2(ck_dot_q6_K_avx2), NULL, NULL};
static const ck_type_traits traits_q8_K = {CK_QK_K, sizeof(ck_block_q8_K), -1, NULL, NULL, NULL,
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

static int detect_avx2(void) {
#if CK_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

// -1: not probed yet. Probing twice is harmless, so a relaxed race is fine.
static int cpu_avx2 = -1;
static int forced_scalar = 0;

int ck_cpu_has_avx2(void) {
    int v = __atomic_load_n(&cpu_avx2, __ATOMIC_RELAXED);
    if (v < 0) {
        v = detect_avx2();
        __atomic_store_n(&cpu_avx2, v, __ATOMIC_RELAXED);
    }
    return v;
}

int ck_using_avx2(void) {
    return ck_cpu_has_avx2() && !__atomic_load_n(&forced_scalar, __ATOMIC_RELAXED);
}

void ck_force_scalar(int on) {
    __atomic_store_n(&forced_scalar, on ? 1 : 0, __ATOMIC_RELAXED);
}

ck_vec_dot_fn ck_select_dot(const ck_type_traits *t) {
    return (ck_using_avx2() && t->dot_avx2 != NULL) ? t->dot_avx2 : t->dot_ref;
}

ck_quantize_fn ck_select_quant(const ck_type_traits *t) {
    return (ck_using_avx2() && t->quant_avx2 != NULL) ? t->quant_avx2 : t->quant_ref;
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
    ck_quantize_fn f;
    switch (path) {
    case CK_PATH_SCALAR: f = t->quant_ref; break;
    case CK_PATH_AVX2:
        if (!ck_cpu_has_avx2() || t->quant_avx2 == NULL) {
            return CK_ENOAVX2;
        }
        f = t->quant_avx2;
        break;
    default: f = ck_select_quant(t); break;
    }
    f(x, y, n);
    return CK_OK;
}

int ck_vec_dot(int path, uint32_t type, int64_t n, const void *w, const void *x, float *out) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->dot_ref == NULL) {
        return CK_EUNSUPPORTED;
    }
    if (n < 0 || n % t->block_size != 0) {
        return CK_ESHAPE;
    }
    ck_vec_dot_fn f;
    switch (path) {
    case CK_PATH_SCALAR: f = t->dot_ref; break;
    case CK_PATH_AVX2:
        if (!ck_cpu_has_avx2() || t->dot_avx2 == NULL) {
            return CK_ENOAVX2;
        }
        f = t->dot_avx2;
        break;
    default: f = ck_select_dot(t); break;
    }
    *out = f(n, w, x);
    return CK_OK;
}
