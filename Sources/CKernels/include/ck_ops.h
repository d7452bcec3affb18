// Element-wise and attention operations of the transformer forward pass, numerically shaped like ggml's
// CPU ops (double-accumulated RMS norm, GELU through an fp16 table, fp16 KV cache) so that our logits track
// llama.cpp's closely. The matrix products live in the quantised kernels beside this file.
#ifndef OUTPOST_CK_OPS_H
#define OUTPOST_CK_OPS_H
#include <stddef.h>
#include <stdint.h>
#include "ck_kernels.h"

/// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (w may be NULL: no scaling)
void ck_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps);

/// Fills the 65536-entry GELU(tanh) table indexed by fp16 bits, as ggml does. Call once before ck_geglu.
void ck_gelu_table_init(void);
/// y[i] = gelu(x[i]) * g[i], GELU evaluated through the fp16 table.
void ck_geglu(const float *x, const float *g, float *y, int64_t n);
/// y[i] = silu(x[i]) * g[i]
void ck_swiglu(const float *x, const float *g, float *y, int64_t n);

/// Rotary embedding cache for one position: cos/sin for each of n_dims/2 frequency pairs.
/// theta_i = pos * freq_scale * base^(-2i/n_dims), computed by repeated multiplication like ggml.
void ck_rope_cache(float pos, int64_t n_dims, float freq_base, float freq_scale, const float *freq_factors,
                   float *cos_out, float *sin_out);
/// Rotates `n_heads` heads of `head_dim` values in place. neox: pairs (i, i + n_dims/2); else (2i, 2i+1).
void ck_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_dims, const float *cos_c, const float *sin_c, int neox);

/// In-place softmax over n values; returns nothing. Masked entries must be -INFINITY.
void ck_softmax(float *x, int64_t n);

/// One query head against cached keys/values in fp16:
///   scores[j] = dot(fp16(q), k[j]) * scale for j in [0, n_kv) (keys at k + j*k_stride), masked where mask[j] != 0,
///   softmax, out = sum_j p_j * v[j]. `scores` is caller scratch of n_kv floats.
///   The probabilities stay fp32 (llama.cpp with an fp32 cache gives the same perplexity to 0.1%).
void ck_attend_f16(const float *q, const uint16_t *k, int64_t k_stride, const uint16_t *v, int64_t v_stride,
                   int64_t n_kv, int64_t head_dim, float scale, float softcap, const uint8_t *mask, float *scores,
                   float *out);

/// The scalar reference of ck_attend_f16 (which uses the AVX2 twin when the CPU has it).
void ck_attend_f16_scalar(const float *q, const uint16_t *k, int64_t k_stride, const uint16_t *v, int64_t v_stride,
                          int64_t n_kv, int64_t head_dim, float scale, float softcap, const uint8_t *mask, float *scores,
                          float *out);
void ck_attend_f16_avx2(const float *q, const uint16_t *k, int64_t k_stride, const uint16_t *v, int64_t v_stride,
                        int64_t n_kv, int64_t head_dim, float scale, float softcap, const uint8_t *mask, float *scores,
                        float *out);

/// One query head's attention work for ck_attend_many: q and out hold head_dim floats, k and v point at the first
/// visible position's key and value for this head, n_kv positions follow at the strides given to ck_attend_many.
typedef struct {
    const float *q;
    const uint16_t *k;
    const uint16_t *v;
    int64_t n_kv;
    float *out;
} ck_attend_item;

/// ck_attend_f16 for every item, shared out over the pool's threads (each with its own scores scratch of
/// max_kv floats, owned by the pool). All items share the strides, head_dim, scale and softcap; every n_kv must
/// be at most max_kv. Returns CK_OK, CK_ESHAPE or CK_ENOMEM. Calls on one pool are serialised.
int ck_attend_many(ck_pool *pool, const ck_attend_item *items, int64_t count, int64_t k_stride, int64_t v_stride,
                   int64_t head_dim, float scale, float softcap, int64_t max_kv);

/// fn(ctx, begin, end) over [0, count) in ranges of at least min_chunk indices, shared out over the pool's threads
/// (the caller takes part; with one thread, or one range, fn runs once on the caller). Calls on one pool are
/// serialised, so fn must not call the pool itself. Returns CK_OK or CK_ESHAPE.
typedef void (*ck_range_fn)(void *ctx, int64_t begin, int64_t end);
int ck_pool_for(ck_pool *pool, int64_t count, int64_t min_chunk, ck_range_fn fn, void *ctx);

/// y += x
void ck_add(float *y, const float *x, int64_t n);
/// y *= s
void ck_scale(float *y, float s, int64_t n);

/// The k largest of x[0..<n] (larger value first, the lower index on ties) into vals/ids, in heap order (not
/// sorted), in one pass. Returns k (clamped to n), or -1 - i when x[i] is NaN or +infinity (the first such i met).
int64_t ck_select_top(const float *x, int64_t n, int64_t k, float *vals, int32_t *ids);

/// expf, logf, tanhf, sqrtf for Swift code on the numeric side (which does not import the C library).
float ck_expf(float x);
float ck_logf(float x);
double ck_log(double x);
double ck_exp(double x);
float ck_tanhf(float x);
float ck_powf(float x, float y);
#endif
