// gemm_bench: prompt-processing matrix products of Gemma 3 270M (Q4_K_M) shapes on the CKernels pool, for every
// kernel tier the CPU has (ck_kernels.h: AVX2, AVX-VNNI, AVX512-VNNI; the scalar one with --scalar 1): the per-pair
// vec_dot path (as before the tiled kernels) beside the tiled path, all in the same run, alternating.
//
// Build and run from the repository root (-march=native is optional: the kernels dispatch at run time):
//   cc -O3 -march=native -I Sources/CKernels -I Sources/CKernels/include Sources/CKernels/*.c bench/gemm_bench.c
//      -o gemm_bench -lpthread -lm
//   ./gemm_bench [--threads N] [--batch B] [--seconds S] [--scalar 1]
// Defaults: 2 threads, batch 64, 0.5 s per tier and path.
//
// GFLOP/s counts 2*rows*cols*batch per product; each figure is the best of five timed rounds. "vs avx2" compares
// both paths' results with the AVX2 per-pair ones: "same bits" is what every SIMD tier must give; the scalar tier
// sums in another order, so it shows the largest |difference| over sum |w x| instead.
#include "ck_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t state = 0x5eed;

static uint64_t next_random(void) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float uniform(void) { // [-1, 1)
    return (float)((next_random() >> 40) * 0x1p-24) * 2 - 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Random quants with small fp16 block scales at the format's scale fields.
static void fill_weights(uint32_t type, uint8_t *w, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) {
        w[i] = (uint8_t)next_random();
    }
    size_t fields[2];
    int n = 0;
    switch (type) {
    case CK_TYPE_Q4_K: fields[n++] = 0; fields[n++] = 2; break;
    case CK_TYPE_Q6_K: fields[n++] = 208; break;
    default: fields[n++] = 0; break; // Q5_0, Q8_0
    }
    const size_t block = ck_block_bytes(type);
    for (size_t b = 0; b < bytes / block; b++) {
        for (int k = 0; k < n; k++) {
            const uint16_t h = ck_fp32_to_fp16(0.01f * uniform());
            memcpy(w + b * block + fields[k], &h, 2);
        }
    }
}

typedef struct {
    const char *what;
    uint32_t type;
    int64_t rows, cols;
} shape;

// Seconds per product: the best of `rounds` timed runs of about `budget` seconds each.
static double time_product(ck_pool *pool, const shape *s, const uint8_t *w, const float *x, int64_t batch, float *y,
                           double budget) {
    const size_t row_bytes = ck_row_bytes(s->type, s->cols);
    int iters = 0;
    const double t0 = now_s();
    double t;
    do {
        ck_matmul(pool, s->type, w, s->rows, s->cols, row_bytes, x, batch, y);
        iters++;
        t = now_s() - t0;
    } while (t < budget);
    return t / iters;
}

// The largest |y - ref| over sum |w x| of the product, or -1 when y is ref bit for bit.
static double difference(const shape *s, const uint8_t *w, const float *x, int64_t batch, const float *y,
                         const float *ref, float *wf) {
    if (memcmp(y, ref, sizeof(float) * (size_t)(s->rows * batch)) == 0) {
        return -1;
    }
    const size_t row_bytes = ck_row_bytes(s->type, s->cols);
    double worst = 0;
    for (int64_t r = 0; r < s->rows; r++) {
        ck_dequantize_row(s->type, w + (size_t)r * row_bytes, wf, s->cols);
        for (int64_t b = 0; b < batch; b++) {
            double mag = 0;
            for (int64_t i = 0; i < s->cols; i++) {
                mag += fabs((double)wf[i] * x[b * s->cols + i]);
            }
            const double d = fabs((double)y[b * s->rows + r] - ref[b * s->rows + r]) / (mag + 1e-30);
            worst = d > worst ? d : worst;
        }
    }
    return worst;
}

static void print_difference(double d) {
    if (d < 0) {
        printf(" %10s", "same bits");
    } else {
        printf(" %10.1e", d);
    }
}

int main(int argc, char **argv) {
    int threads = 2;
    int64_t batch = 64;
    double seconds = 0.5;
    int scalar = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0) batch = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--scalar") == 0) scalar = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: %s [--threads N] [--batch B] [--seconds S] [--scalar 0|1]\n", argv[0]);
            return 2;
        }
    }
    const shape shapes[] = {
        {"attn q (Q5_0)", CK_TYPE_Q5_0, 1024, 640},
        {"attn k/v (Q8_0)", CK_TYPE_Q8_0, 256, 640},
        {"ffn gate/up (Q5_0)", CK_TYPE_Q5_0, 2048, 640},
        {"attn out (Q4_K)", CK_TYPE_Q4_K, 640, 1024},
        {"ffn down (Q6_K)", CK_TYPE_Q6_K, 640, 2048},
        {"ffn down (Q4_K)", CK_TYPE_Q4_K, 640, 2048},
    };
    int tiers[CK_TIER_COUNT], n_tiers = 0;
    for (int t = scalar ? CK_TIER_SCALAR : CK_TIER_AVX2; t < CK_TIER_COUNT; t++) {
        if (ck_cpu_has_tier(t)) {
            tiers[n_tiers++] = t;
        }
    }
    if (!ck_cpu_has_tier(CK_TIER_AVX2)) {
        fprintf(stderr, "this CPU has no AVX2; the tiers are compared with the AVX2 one\n");
        return 1;
    }
    ck_pool *pool = ck_pool_create(threads);
    if (pool == NULL) {
        return 1;
    }
    printf("threads %d, batch %lld\n", ck_pool_threads(pool), (long long)batch);
    printf("%-20s %-11s %-12s %9s %9s %8s %10s %10s\n", "matrix", "rows x cols", "tier", "pair GF/s", "tiled GF/s",
           "speedup", "pair vs", "tiled vs");
    printf("%-20s %-11s %-12s %9s %9s %8s %10s %10s\n", "", "", "", "", "", "", "avx2 pair", "avx2 pair");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const shape *s = &shapes[k];
        const size_t row_bytes = ck_row_bytes(s->type, s->cols);
        const size_t ys = sizeof(float) * (size_t)(s->rows * batch);
        uint8_t *w = malloc(row_bytes * (size_t)s->rows);
        float *x = malloc(sizeof(float) * (size_t)(s->cols * batch));
        float *ref = malloc(ys), *y_pair = malloc(ys * CK_TIER_COUNT), *y_tiled = malloc(ys * CK_TIER_COUNT);
        float *wf = malloc(sizeof(float) * (size_t)s->cols);
        if (!w || !x || !ref || !y_pair || !y_tiled || !wf) {
            return 1;
        }
        fill_weights(s->type, w, row_bytes * (size_t)s->rows);
        for (int64_t i = 0; i < s->cols * batch; i++) {
            x[i] = uniform() * 2;
        }
        // Tiers and paths alternate, six rounds each, so a burst of other load on the machine hits all alike; the
        // best round of each counts.
        double t_pair[CK_TIER_COUNT], t_tiled[CK_TIER_COUNT];
        for (int i = 0; i < n_tiers; i++) {
            t_pair[i] = t_tiled[i] = 1e30;
        }
        for (int round = 0; round < 6; round++) {
            for (int i = 0; i < n_tiers; i++) {
                ck_force_path(tiers[i]);
                ck_matmul_set_tiled(0);
                const double o = time_product(pool, s, w, x, batch, y_pair + i * s->rows * batch, seconds / 10);
                ck_matmul_set_tiled(1);
                const double n = time_product(pool, s, w, x, batch, y_tiled + i * s->rows * batch, seconds / 10);
                if (round > 0) { // round 0 warms caches and scratch
                    t_pair[i] = o < t_pair[i] ? o : t_pair[i];
                    t_tiled[i] = n < t_tiled[i] ? n : t_tiled[i];
                }
            }
        }
        ck_force_path(CK_TIER_AVX2);
        ck_matmul_set_tiled(0);
        time_product(pool, s, w, x, batch, ref, 0);
        ck_matmul_set_tiled(1);
        ck_force_path(CK_TIER_COUNT - 1);
        const double flop = 2.0 * (double)s->rows * (double)s->cols * (double)batch;
        char dims[32];
        snprintf(dims, sizeof dims, "%lldx%lld", (long long)s->rows, (long long)s->cols);
        for (int i = 0; i < n_tiers; i++) {
            printf("%-20s %-11s %-12s %9.1f %9.1f %7.2fx", i == 0 ? s->what : "", i == 0 ? dims : "",
                   ck_tier_name(tiers[i]), flop / t_pair[i] * 1e-9, flop / t_tiled[i] * 1e-9, t_pair[i] / t_tiled[i]);
            print_difference(difference(s, w, x, batch, y_pair + i * s->rows * batch, ref, wf));
            print_difference(difference(s, w, x, batch, y_tiled + i * s->rows * batch, ref, wf));
            printf("\n");
        }
        free(w);
        free(x);
        free(ref);
        free(y_pair);
        free(y_tiled);
        free(wf);
    }
    ck_pool_destroy(pool);
    return 0;
}
