// Element-wise operations and single-head attention for the forward pass (see ck_ops.h).
#include "ck_ops.h"
#include "ck_internal.h"

#include <math.h>
#include <string.h>

void ck_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    if (w) {
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
    } else {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale;
    }
}

static float gelu_table[65536];
static int gelu_ready;

void ck_gelu_table_init(void) {
    if (gelu_ready) return;
    const float a = 0.044715f, s = 0.79788456080286535587989211986876f;
    for (int i = 0; i < 65536; i++) {
        const float x = ck_fp16_to_fp32((uint16_t)i);
        const float g = 0.5f * x * (1.0f + tanhf(s * x * (1.0f + a * x * x)));
        gelu_table[i] = ck_fp16_to_fp32(ck_fp32_to_fp16(g));
    }
    gelu_ready = 1;
}

void ck_geglu(const float *x, const float *g, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (v <= -10.0f) {
            y[i] = 0.0f;
        } else if (v >= 10.0f) {
            y[i] = v * g[i];
        } else {
            y[i] = gelu_table[ck_fp32_to_fp16(v)] * g[i];
        }
    }
}

void ck_swiglu(const float *x, const float *g, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i])) * g[i];
}

void ck_rope_cache(float pos, int64_t n_dims, float freq_base, float freq_scale, const float *freq_factors,
                   float *cos_out, float *sin_out) {
    const float theta_scale = powf(freq_base, -2.0f / (float)n_dims);
    float theta = pos;
    for (int64_t i = 0; i < n_dims / 2; i++) {
        const float ff = freq_factors ? freq_factors[i] : 1.0f;
        const float t = theta * freq_scale / ff;
        cos_out[i] = cosf(t);
        sin_out[i] = sinf(t);
        theta *= theta_scale;
    }
}

void ck_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_dims, const float *cos_c, const float *sin_c, int neox) {
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        if (neox) {
            const int64_t half = n_dims / 2;
            for (int64_t i = 0; i < half; i++) {
                const float a = v[i], b = v[i + half];
                v[i] = a * cos_c[i] - b * sin_c[i];
                v[i + half] = a * sin_c[i] + b * cos_c[i];
            }
        } else {
            for (int64_t i = 0; i < n_dims / 2; i++) {
                const float a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * cos_c[i] - b * sin_c[i];
                v[2 * i + 1] = a * sin_c[i] + b * cos_c[i];
            }
        }
    }
}

void ck_softmax(float *x, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) if (x[i] > max) max = x[i];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float e = (x[i] == -INFINITY) ? 0.0f : expf(x[i] - max);
        x[i] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void ck_attend_f16(const float *q, const uint16_t *k, int64_t k_stride, const uint16_t *v, int64_t v_stride,
                   int64_t n_kv, int64_t head_dim, float scale, float softcap, const uint8_t *mask, float *scores,
                   float *out) {
#if CK_X86
    if (ck_using_avx2() && head_dim % 8 == 0 && head_dim <= 1024) {
        ck_attend_f16_avx2(q, k, k_stride, v, v_stride, n_kv, head_dim, scale, softcap, mask, scores, out);
        return;
    }
#endif
    ck_attend_f16_scalar(q, k, k_stride, v, v_stride, n_kv, head_dim, scale, softcap, mask, scores, out);
}

void ck_attend_f16_scalar(const float *q, const uint16_t *k, int64_t k_stride, const uint16_t *v, int64_t v_stride,
                          int64_t n_kv, int64_t head_dim, float scale, float softcap, const uint8_t *mask, float *scores,
                          float *out) {
    float qh[1024];
    const int64_t d = head_dim <= 1024 ? head_dim : 1024;
    // ggml rounds the query to fp16 for the fp16 K dot product.
    for (int64_t i = 0; i < d; i++) qh[i] = ck_fp16_to_fp32(ck_fp32_to_fp16(q[i]));
    for (int64_t j = 0; j < n_kv; j++) {
        if (mask && mask[j]) {
            scores[j] = -INFINITY;
            continue;
        }
        const uint16_t *kj = k + j * k_stride;
        float s = 0.0f;
        for (int64_t i = 0; i < d; i++) s += qh[i] * ck_fp16_to_fp32(kj[i]);
        s *= scale;
        if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
        scores[j] = s;
    }
    ck_softmax(scores, n_kv);
    for (int64_t i = 0; i < d; i++) out[i] = 0.0f;
    for (int64_t j = 0; j < n_kv; j++) {
        const float p = scores[j];
        if (p == 0.0f) continue;
        const uint16_t *vj = v + j * v_stride;
        for (int64_t i = 0; i < d; i++) out[i] += p * ck_fp16_to_fp32(vj[i]);
    }
}

void ck_add(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void ck_scale(float *y, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] *= s;
}

float ck_expf(float x) { return expf(x); }
float ck_logf(float x) { return logf(x); }
double ck_log(double x) { return log(x); }
double ck_exp(double x) { return exp(x); }
float ck_tanhf(float x) { return tanhf(x); }
float ck_powf(float x, float y) { return powf(x, y); }
