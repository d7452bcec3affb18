// Quantised-tensor kernels for CPU inference: GGML block formats (dequantize, activation quantizers, dot
// products) with a scalar reference for each, AVX2 twins of the dot products and quantizers (and VNNI variants of
// the quantized products) chosen at run time, and a persistent worker pool for matrix products. Type ids are GGML's (ggml_type); block layouts are GGML's,
// byte for byte.
#ifndef OUTPOST_CK_KERNELS_H
#define OUTPOST_CK_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CK_TYPE_F32 = 0,
    CK_TYPE_F16 = 1,
    CK_TYPE_Q4_0 = 2,
    CK_TYPE_Q4_1 = 3,
    CK_TYPE_Q5_0 = 6,
    CK_TYPE_Q5_1 = 7,
    CK_TYPE_Q8_0 = 8,
    CK_TYPE_Q8_1 = 9,
    CK_TYPE_Q4_K = 12,
    CK_TYPE_Q5_K = 13,
    CK_TYPE_Q6_K = 14,
    CK_TYPE_Q8_K = 15,
    CK_TYPE_BF16 = 30,
};

// Return codes of the functions below that can refuse their arguments.
enum {
    CK_OK = 0,
    CK_EUNSUPPORTED = -1, // type unknown, or not usable in this role
    CK_ESHAPE = -2,       // a count is negative or not a multiple of the block size
    CK_ENOMEM = -3,       // scratch or thread allocation failed
    CK_ENOCPU = -4,       // a path was asked for whose instructions this CPU (or OS) lacks
};

// ---- type information ----
// Weight types: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K. Activation types: F32 F16 BF16 Q8_0 Q8_1 Q8_K.
int ck_type_is_weight(uint32_t type);
int ck_type_is_activation(uint32_t type);
int64_t ck_block_size(uint32_t type);    // elements per block; 0 for an unknown type
size_t ck_block_bytes(uint32_t type);    // bytes per block; 0 for an unknown type
int64_t ck_vec_dot_type(uint32_t type);  // activation format a weight type is multiplied with; -1 if not a weight type
size_t ck_row_bytes(uint32_t type, int64_t n); // bytes of n elements; 0 if unknown or n is not a whole number of blocks

// ---- CPU dispatch ----
// Kernel tiers, each needing more of the CPU than the one before. AVX2: AVX2 + FMA + F16C. AVX-VNNI: AVX2 and the
// VEX-encoded vpdpbusd / vpdpwssd. AVX512-VNNI: AVX2, AVX512 F + BW + VL + VNNI and the OS saving ZMM state. The
// VNNI tiers form the same integer sums as the AVX2 one with fewer instructions and then take the same float steps,
// so every product of the AVX2, AVX-VNNI and AVX512-VNNI tiers is the same float, bit for bit; the scalar reference
// sums in another order and agrees to rounding.
enum { CK_TIER_SCALAR = 0, CK_TIER_AVX2 = 1, CK_TIER_AVX_VNNI = 2, CK_TIER_AVX512_VNNI = 3, CK_TIER_COUNT = 4 };
int ck_cpu_has_tier(int tier);  // the CPU (and OS) can run `tier`'s kernels (always for CK_TIER_SCALAR)
int ck_cpu_has_avx2(void);      // ck_cpu_has_tier(CK_TIER_AVX2)
int ck_tier(void);              // the tier dispatched kernels take now: the best the CPU has, up to the cap below
int ck_using_avx2(void);        // ck_tier() >= CK_TIER_AVX2: the dispatched float kernels take their AVX2 path
const char *ck_tier_name(int tier); // "scalar", "avx2", "avx-vnni", "avx512-vnni"; NULL outside 0..<CK_TIER_COUNT
// Tests and benchmarks, process-wide: dispatched kernels take the best tier the CPU has up to max_tier
// (CK_TIER_COUNT - 1: no cap, the default). ck_force_scalar(on) is ck_force_path(on ? CK_TIER_SCALAR : no cap).
void ck_force_path(int max_tier);
// Tests: treat the tiers in `mask` (bit t for tier t; never the scalar one) as missing from this CPU, as on a CPU
// without them; 0 restores what the CPU has. Process-wide.
void ck_hide_tiers(int mask);
void ck_force_scalar(int on);

// ---- half-precision conversion (exact; round to nearest even when narrowing) ----
float ck_fp16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_fp16(float f);
float ck_bf16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_bf16(float f);
void ck_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n);  // dispatched (F16C)
void ck_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n);  // dispatched (F16C)

// ---- rows ----
// path: 0 = dispatched (ck_tier()), else tier + 1: that tier's kernel (CK_ENOCPU if the CPU lacks the tier). A tier
// without a kernel of its own for a type runs the one below it (the VNNI tiers' float formats and quantizers: AVX2).
enum { CK_PATH_AUTO = 0, CK_PATH_SCALAR = 1, CK_PATH_AVX2 = 2, CK_PATH_AVX_VNNI = 3, CK_PATH_AVX512_VNNI = 4 };

// y[0..<n] = the n values of x, a row of a weight type. Scalar (it is the format's definition).
int ck_dequantize_row(uint32_t type, const void *x, float *y, int64_t n);
// y = x (n floats) in activation format `type` (Q8_0, Q8_1, Q8_K, F16, BF16, F32), rounding as llama.cpp's reference.
int ck_quantize_row(int path, uint32_t type, const float *x, void *y, int64_t n);
// *out = dot(w, x) over n elements: w a row of weight type `type`, x a row in ck_vec_dot_type(type).
int ck_vec_dot(int path, uint32_t type, int64_t n, const void *w, const void *x, float *out);

// ---- worker pool and matrix products ----
typedef struct ck_pool ck_pool;

// A pool of n_threads (the caller counts as one; n_threads - 1 workers are started). NULL if out of memory.
// If a thread cannot be started the pool runs with fewer; ck_pool_threads says how many.
ck_pool *ck_pool_create(int n_threads);
void ck_pool_destroy(ck_pool *pool);
int ck_pool_threads(const ck_pool *pool);

// Y[b*rows + r] = dot(row r of W, row b of X) for b < batch, r < rows. pool must not be NULL.
// W: rows rows of `cols` elements of `type`, row r at W + r*row_bytes. X: batch rows of cols floats. Y: batch*rows.
// X is first converted to the type's activation format in scratch owned by the pool; rows of W are shared out
// among the threads, each computing every batch column of its rows. Calls on one pool are serialised. Batches of
// several columns of the quantized formats take tiled kernels that unpack each weight row once; every result is
// bitwise the per-row dot product ck_vec_dot gives on the same path, whatever the batch.
int ck_matmul(ck_pool *pool, uint32_t type, const void *W, int64_t rows, int64_t cols, size_t row_bytes,
              const float *X, int64_t batch, float *Y);

/// Up to CK_MATMUL_MANY_MAX matrices that share the input X (batch rows of `cols` floats): Ys[m][b*rows[m] + r] =
/// dot(row r of Ws[m], X row b). One dispatch on the pool; X quantized once per activation format.
#define CK_MATMUL_MANY_MAX 4
int ck_matmul_many(ck_pool *pool, int count, const uint32_t *types, const void *const *Ws, const int64_t *rows,
                   const size_t *row_bytes, int64_t cols, const float *X, int64_t batch, float *const *Ys);
// out[0..<cols] = row `row` of W dequantized (embedding lookup).
int ck_get_row(uint32_t type, const void *W, int64_t row, int64_t cols, size_t row_bytes, float *out);

#ifdef __cplusplus
}
#endif
#endif
