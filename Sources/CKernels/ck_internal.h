// Block layouts (GGML's, byte for byte), the kernel signatures and the per-path kernel tables.
#ifndef OUTPOST_CK_INTERNAL_H
#define OUTPOST_CK_INTERNAL_H
#include "ck_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
// Target attributes of the tiers' kernels (ck_kernels.h: CK_TIER_*). Each x86 kernel carries its tier's and runs only
// after ck_cpu_has_tier said yes; the translation units are compiled for plain x86-64.
#define CK_AVX2_FN __attribute__((target("avx2,fma,f16c")))
#define CK_AVX_VNNI_FN __attribute__((target("avx2,fma,f16c,avxvnni")))
#define CK_AVX512_VNNI_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
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
    ck_vec_dot_fn dot[CK_TIER_COUNT]; // by tier; [CK_TIER_SCALAR] set for weight types, NULL elsewhere: the tier below's
    ck_quantize_fn quant_ref;  // non-NULL for activation types
    ck_quantize_fn quant_avx2; // the AVX2 and VNNI tiers' (NULL when not built for x86)
} ck_type_traits;

// The traits of `type`, or NULL for a type this library does not know.
const ck_type_traits *ck_traits(uint32_t type);
// The dot product / quantizer of a tier (the CPU must have it), and those a dispatched call uses now (ck_tier()).
ck_vec_dot_fn ck_tier_dot(const ck_type_traits *t, int tier);
ck_quantize_fn ck_tier_quant(const ck_type_traits *t, int tier);
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

// Tiled matrix products (ck_gemm.c; AVX2 and VNNI kernels in ck_gemm_avx2.c), taken by ck_matmul / ck_matmul_many for batches
// of at least ck_gemm_min_batch(type) columns. A weight type's tiled kind (CK_GEMM_NONE: only the per-pair dot) names
// the layout its activation columns are packed in: X32 (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0: Q8_0 quants, float scales and
// block sums) or K (Q4_K Q5_K Q6_K: Q8_K blocks). ck_gemm_rows computes Y[b*y_stride + r] for r0 <= r < r1 and
// b < batch from packed column b at X + b*x_stride (X and x_stride 64-byte aligned), unpacking rows into `work`
// (ck_gemm_work_bytes, 64-byte aligned). tier: the kernels' (ck_kernels.h; the caller checked the CPU has it); pack
// and multiply with the same tier, as the packed quants' order and form differ. Each result equals, bit for bit, the
// per-pair dot product of the same tier -- and so, above the scalar tier, of every other tier.
enum { CK_GEMM_NONE = 0, CK_GEMM_X32 = 1, CK_GEMM_K = 2 };
int ck_gemm_kind(uint32_t type);
int64_t ck_gemm_min_batch(uint32_t type);
size_t ck_gemm_x_bytes(int kind, int64_t cols);
size_t ck_gemm_pack_tmp_bytes(int64_t cols); // scratch ck_gemm_pack_x needs
void ck_gemm_pack_x(int tier, int kind, const float *x, void *out, int64_t cols, void *tmp);
size_t ck_gemm_work_bytes(uint32_t type, int64_t cols);
int ck_gemm_group_rows(int tier); // rows a tier's kernels unpack and multiply together (a chunk should be a multiple)
#define CK_GEMM_WIDE_ROWS 8 // rows per group of the AVX512-VNNI kernels (512-bit vectors)
void ck_gemm_rows(int tier, uint32_t type, const void *W, size_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                  const void *X, size_t x_stride, int64_t batch, float *Y, int64_t y_stride, void *work);

// Unpacked weight rows, shared by ck_gemm.c and ck_gemm_avx2.c (nb = cols/32 blocks, nbp = nb padded to a multiple
// of 8 so the float arrays can be read 8 at a time, nsb = cols/256 super-blocks):
//   X32: q[cols] (int8, or uint8 for the unsigned forms) | float d[nbp] | float bias[nbp], w = d*q + bias
//   K:   uint8 q[cols] | int16 sc[cols/8] (per 32 elements: the scale of elements 0..15 twice, then of 16..31) |
//        int16 m[16*nsb] (per 16 elements) | float d[nsb] | float dmin[nsb],
//        w = d*sc*q - dmin*m; Q6_K: w = d*(sc*q - m) with m = 32*sc (its offset), and dmin = d.
static inline int64_t ck_pad8(int64_t n) {
    return (n + 7) & ~(int64_t)7;
}

// Bytes from one unpacked row to the next (a multiple of 64).
static inline size_t ck_gemm_row_stride(int kind, int64_t cols) {
    const size_t n = kind == CK_GEMM_X32 ? (size_t)cols + 8 * (size_t)ck_pad8(cols / CK_QK)
                                         : (size_t)cols + (size_t)cols / 4 + 40 * (size_t)(cols / CK_QK_K);
    return (n + 63) & ~(size_t)63;
}

typedef struct {
    uint8_t *q;
    int16_t *sc, *m;
    float *d, *dmin;
} ck_k_row;

static inline ck_k_row ck_k_parts(uint8_t *row, int64_t cols) {
    const int64_t nsb = cols / CK_QK_K;
    ck_k_row p;
    p.q = row;
    p.sc = (int16_t *)(row + cols);
    p.m = (int16_t *)(row + cols + cols / 4);
    p.d = (float *)(row + cols + cols / 4 + 32 * nsb);
    p.dmin = p.d + nsb;
    return p;
}

// Tests and benchmarks: zero sends every batch through the per-pair dot, as before the tiled path (default 1).
void ck_matmul_set_tiled(int on);

#if CK_X86
// The SIMD halves (ck_gemm_avx2.c, compiled again for the VNNI tiers by ck_gemm_avxvnni.c and ck_gemm_avx512vnni.c).
// ck_gemm_repack_x32_*: Q8_0 blocks of column x into the packed X32 layout (in the tier's quant order and form);
// ck_gemm_order_q8_K_avx2: Q8_K blocks into the kernels' order, in place (every tier's); ck_gemm_group_*: n weight
// rows at src (n <= the tier's ck_gemm_group_rows) times every packed column, into Y[b*y_stride + r], r < n (buf:
// ck_gemm_work_bytes).
typedef void (*ck_gemm_repack_fn)(const float *x, const void *q8_0, int64_t cols, void *out);
typedef void (*ck_gemm_group_fn)(uint32_t type, const uint8_t *src, size_t row_bytes, int n, int64_t cols,
                                 const uint8_t *X, size_t x_stride, int64_t batch, float *Y, int64_t y_stride,
                                 uint8_t *buf);
void ck_gemm_order_q8_K_avx2(void *q8_K, int64_t cols);
void ck_gemm_repack_x32_avx2(const float *x, const void *q8_0, int64_t cols, void *out);
void ck_gemm_repack_x32_avxvnni(const float *x, const void *q8_0, int64_t cols, void *out);
void ck_gemm_repack_x32_avx512vnni(const float *x, const void *q8_0, int64_t cols, void *out);
void ck_gemm_group_avx2(uint32_t type, const uint8_t *src, size_t row_bytes, int n, int64_t cols, const uint8_t *X,
                        size_t x_stride, int64_t batch, float *Y, int64_t y_stride, uint8_t *buf);
void ck_gemm_group_avxvnni(uint32_t type, const uint8_t *src, size_t row_bytes, int n, int64_t cols, const uint8_t *X,
                           size_t x_stride, int64_t batch, float *Y, int64_t y_stride, uint8_t *buf);
void ck_gemm_group_avx512vnni(uint32_t type, const uint8_t *src, size_t row_bytes, int n, int64_t cols,
                              const uint8_t *X, size_t x_stride, int64_t batch, float *Y, int64_t y_stride,
                              uint8_t *buf);
#endif

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
// AVX2 twins (ck_avx2_dot.c, ck_avx2_quantize.c); call only when ck_cpu_has_avx2(). The quantized dot products again
// for the VNNI tiers (ck_dot_avxvnni.c, ck_dot_avx512vnni.c: ck_avx2_dot.c recompiled), bitwise equal to the AVX2 ones.
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
float ck_dot_q4_0_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q4_1_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q5_0_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q5_1_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q8_0_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q4_K_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q5_K_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_avxvnni(int64_t n, const void *w, const void *x);
float ck_dot_q4_0_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q4_1_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q5_0_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q5_1_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q8_0_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q4_K_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q5_K_avx512vnni(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_avx512vnni(int64_t n, const void *w, const void *x);

void ck_quantize_f16_avx2(const float *x, void *y, int64_t n);
void ck_quantize_bf16_avx2(const float *x, void *y, int64_t n);
void ck_quantize_q8_0_avx2(const float *x, void *y, int64_t n);
void ck_quantize_q8_1_avx2(const float *x, void *y, int64_t n);
void ck_quantize_q8_K_avx2(const float *x, void *y, int64_t n);
void ck_fp16_to_fp32_row_avx2(const uint16_t *x, float *y, int64_t n);
#endif

#endif
