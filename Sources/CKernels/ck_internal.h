// Block layouts (GGML's, byte for byte), the kernel signatures and the per-path kernel tables.
#ifndef OUTPOST_CK_INTERNAL_H
#define OUTPOST_CK_INTERNAL_H
#include "ck_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#define CK_AVX2_FN __attribute__((target("avx2,fma,f16c")))
#else
#define CK_X86 0
#endif

#define CK_QK 32   // elements per block of the 32-wide formats
#define CK_QK_K 256 // elements per super-block of the K formats

// All fields are bytes or 16-bit words, so no struct has padding; sizes are asserted below.
typedef struct { uint16_t d; uint8_t qs[16]; } ck_block_q4_0;                 // x = d*(q-8)
typedef struct { uint16_t d, m; uint8_t qs[16]; } ck_block_q4_1;              // x = d*q + m
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } ck_block_q5_0;  // x = d*(q-16), q 5 bits
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } ck_block_q5_1; // x = d*q + m, q 5 bits
typedef struct { uint16_t d; int8_t qs[32]; } ck_block_q8_0;                  // x = d*q
typedef struct { uint16_t d, s; int8_t qs[32]; } ck_block_q8_1;               // s = d*sum(q)
// 8 sub-blocks of 32: x = d*sc*q - dmin*m, sc and m 6 bits packed in 12 bytes.
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } ck_block_q4_K;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } ck_block_q5_K;
// 16 sub-blocks of 16: x = d*sc*(q-32), q 6 bits (4 in ql, 2 in qh), sc signed 8 bits.
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } ck_block_q6_K;
// Activations for the K formats: f32 scale and sums of each 16 quants.
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } ck_block_q8_K;

_Static_assert(sizeof(ck_block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(ck_block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(ck_block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(ck_block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(ck_block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(ck_block_q8_1) == 36, "q8_1 layout");
_Static_assert(sizeof(ck_block_q4_K) == 144, "q4_K layout");
_Static_assert(sizeof(ck_block_q5_K) == 176, "q5_K layout");
_Static_assert(sizeof(ck_block_q6_K) == 210, "q6_K layout");
_Static_assert(sizeof(ck_block_q8_K) == 292, "q8_K layout");

// A dot product of n elements (n a whole number of blocks) and an activation quantizer.
typedef float (*ck_vec_dot_fn)(int64_t n, const void *w, const void *x);
typedef void (*ck_quantize_fn)(const float *x, void *y, int64_t n);
typedef void (*ck_dequantize_fn)(const void *x, float *y, int64_t n);

typedef struct {
    int64_t block_size;
    size_t block_bytes;
    int64_t vec_dot_type;      // -1: not a weight type
    ck_dequantize_fn dequantize;
    ck_vec_dot_fn dot_ref;
    ck_vec_dot_fn dot_avx2;    // NULL when not built for x86
    ck_quantize_fn quant_ref;  // non-NULL for activation types
    ck_quantize_fn quant_avx2;
} ck_type_traits;

// The traits of `type`, or NULL for a type this library does not know.
const ck_type_traits *ck_traits(uint32_t type);
// The dot product / quantizer a dispatched call uses now (scalar when forced or without AVX2).
ck_vec_dot_fn ck_select_dot(const ck_type_traits *t);
ck_quantize_fn ck_select_quant(const ck_type_traits *t);

// Pool internals (ck_pool.c) used by ck_matmul.c. ck_pool_run calls fn(arg, i, n) once on each of the n threads
// (the caller is thread 0) and returns when all have returned. ck_pool_scratch returns at least `bytes` of
// 64-byte-aligned memory owned by the pool (grown, never shrunk), or NULL when allocation fails. Both are used
// only while the caller holds the pool's call lock (ck_pool_lock / ck_pool_unlock).
typedef void (*ck_job_fn)(void *arg, int ith, int nth);
void ck_pool_lock(ck_pool *pool);
void ck_pool_unlock(ck_pool *pool);
void ck_pool_run(ck_pool *pool, ck_job_fn fn, void *arg);
void *ck_pool_scratch(ck_pool *pool, size_t bytes);

// 6-bit scales and mins of a Q4_K / Q5_K super-block, unpacked: sc[0..7], m[0..7].
static inline void ck_unpack_k_scales(const uint8_t s[12], uint8_t sc[8], uint8_t m[8]) {
    uint32_t w0, w1, w2;
    memcpy(&w0, s, 4);
    memcpy(&w1, s + 4, 4);
    memcpy(&w2, s + 8, 4);
    const uint32_t lo6 = 0x3f3f3f3fu, lo4 = 0x0f0f0f0fu, lo2 = 0x03030303u;
    const uint32_t out[4] = {
        w0 & lo6,                                  // sc[0..3]
        (w2 & lo4) | (((w0 >> 6) & lo2) << 4),     // sc[4..7]: low nibble from byte 8+k, top bits of byte k
        w1 & lo6,                                  // m[0..3]
        ((w2 >> 4) & lo4) | (((w1 >> 6) & lo2) << 4), // m[4..7]
    };
    memcpy(sc, out, 8);
    memcpy(m, out + 2, 8);
}

// The 6-bit value of element e (0..255) of a Q6_K super-block, 0..63 (subtract 32 for the signed value).
// Each half h of 128 elements uses ql[64h..64h+63] and qh[32h..32h+31]: element 128h + 32s + l (s = 0..3,
// l = 0..31) takes its low nibble from ql[64h + l + 32*(s&1)] (low nibble for s < 2, high for s >= 2) and its
// top two bits from qh[32h + l] >> 2s.
static inline int ck_q6_value(const ck_block_q6_K *b, int e) {
    const int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
    const uint8_t lo = b->ql[64 * h + l + 32 * (s & 1)];
    const int nib = (s < 2) ? (lo & 0x0f) : (lo >> 4);
    const int top = (b->qh[32 * h + l] >> (2 * s)) & 3;
    return nib | (top << 4);
}

static inline uint16_t ck_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

// Scalar reference kernels (ck_dequantize.c, ck_scalar_dot.c, ck_scalar_quantize.c).
void ck_dequantize_f32(const void *x, float *y, int64_t n);
void ck_dequantize_f16(const void *x, float *y, int64_t n);
void ck_dequantize_bf16(const void *x, float *y, int64_t n);
void ck_dequantize_q4_0(const void *x, float *y, int64_t n);
void ck_dequantize_q4_1(const void *x, float *y, int64_t n);
void ck_dequantize_q5_0(const void *x, float *y, int64_t n);
void ck_dequantize_q5_1(const void *x, float *y, int64_t n);
void ck_dequantize_q8_0(const void *x, float *y, int64_t n);
void ck_dequantize_q4_K(const void *x, float *y, int64_t n);
void ck_dequantize_q5_K(const void *x, float *y, int64_t n);
void ck_dequantize_q6_K(const void *x, float *y, int64_t n);

float ck_dot_f32_ref(int64_t n, const void *w, const void *x);
float ck_dot_f16_ref(int64_t n, const void *w, const void *x);
float ck_dot_bf16_ref(int64_t n, const void *w, const void *x);
float ck_dot_q4_0_ref(int64_t n, const void *w, const void *x);
float ck_dot_q4_1_ref(int64_t n, const void *w, const void *x);
float ck_dot_q5_0_ref(int64_t n, const void *w, const void *x);
float ck_dot_q5_1_ref(int64_t n, const void *w, const void *x);
float ck_dot_q8_0_ref(int64_t n, const void *w, const void *x);
float ck_dot_q4_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_q5_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_ref(int64_t n, const void *w, const void *x);

void ck_quantize_f32_ref(const float *x, void *y, int64_t n);
void ck_quantize_f16_ref(const float *x, void *y, int64_t n);
void ck_quantize_bf16_ref(const float *x, void *y, int64_t n);
void ck_quantize_q8_0_ref(const float *x, void *y, int64_t n);
void ck_quantize_q8_1_ref(const float *x, void *y, int64_t n);
void ck_quantize_q8_K_ref(const float *x, void *y, int64_t n);

#if CK_X86
// AVX2 twins (ck_avx2_dot.c, ck_avx2_quantize.c); call only when ck_cpu_has_avx2().
float ck_dot_f32_avx2(int64_t n, const void *w, const void *x);
float ck_dot_f16_avx2(int64_t n, const void *w, const void *x);
float ck_dot_bf16_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q4_0_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q4_1_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q5_0_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q5_1_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q8_0_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q4_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q5_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_avx2(int64_t n, const void *w, const void *x);

void ck_quantize_f16_avx2(const float *x, void *y, int64_t n);
void ck_quantize_bf16_avx2(const float *x, void *y, int64_t n);
void ck_quantize_q8_0_avx2(const float *x, void *y, int64_t n);
void ck_quantize_q8_1_avx2(const float *x, void *y, int64_t n);
void ck_quantize_q8_K_avx2(const float *x, void *y, int64_t n);
void ck_fp16_to_fp32_row_avx2(const uint16_t *x, float *y, int64_t n);
#endif

#endif
