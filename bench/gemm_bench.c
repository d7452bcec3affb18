// gemm_bench: prompt-processing matrix products of Gemma 3 270M (Q4_K_M) shapes on the CKernels pool: the per-pair
// vec_dot path (as before the tiled kernels) beside the tiled path, in the same run, alternating.
//
// Build and run from the repository root (-march=native is optional: the kernels dispatch at run time):
//   cc -O3 -march=native -I Sources/CKernels -I Sources/CKernels/include Sources/CKernels/*.c bench/gemm_bench.c
//      -o gemm_bench -lpthread -lm
//   ./gemm_bench [--threads N] [--batch B] [--seconds S] [--scalar 1]
// Defaults: 2 threads, batch 64, 0.5 s per path; --scalar 1 times the portable kernels (ck_force_scalar).
//
// GFLOP/s counts 2*rows*cols*batch per product; each figure is the best of five timed rounds. The last column is
// the largest |new - old| over sum |w x|: the tiled kernels reproduce the per-pair results bit for bit, so 0.
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

int main(int argc, char **argv) {
    int threads = 2;
    int64_t batch = 64;
    double seconds = 0.5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0) batch = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--scalar") == 0) ck_force_scalar(atoi(argv[i + 1]));
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
    ck_pool *pool = ck_pool_create(threads);
    if (pool == NULL) {
        return 1;
    }
    printf("threads %d, batch %lld, AVX2 %s\n", ck_pool_threads(pool), (long long)batch,
           ck_using_avx2() ? "yes" : "no");
    printf("%-20s %-11s %9s %9s %8s %10s\n", "matrix", "rows x cols", "old GF/s", "new GF/s", "speedup", "max |d|");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const shape *s = &shapes[k];
        const size_t row_bytes = ck_row_bytes(s->type, s->cols);
        uint8_t *w = malloc(row_bytes * (size_t)s->rows);
        float *x = malloc(sizeof(float) * (size_t)(s->cols * batch));
        float *y_old = malloc(sizeof(float) * (size_t)(s->rows * batch));
        float *y_new = malloc(sizeof(float) * (size_t)(s->rows * batch));
        float *wf = malloc(sizeof(float) * (size_t)s->cols);
        if (!w || !x || !y_old || !y_new || !wf) {
            return 1;
        }
        fill_weights(s->type, w, row_bytes * (size_t)s->rows);
        for (int64_t i = 0; i < s->cols * batch; i++) {
            x[i] = uniform() * 2;
        }
        // Old and new alternate, five rounds each, so a burst of other load on the machine hits both alike; the best
        // round of each counts.
        double t_old = 1e30, t_new = 1e30;
        for (int round = 0; round < 6; round++) {
            ck_matmul_set_tiled(0);
            const double o = time_product(pool, s, w, x, batch, y_old, seconds / 10);
            ck_matmul_set_tiled(1);
            const double n = time_product(pool, s, w, x, batch, y_new, seconds / 10);
            if (round > 0) { // round 0 warms caches and scratch
                t_old = o < t_old ? o : t_old;
                t_new = n < t_new ? n : t_new;
            }
        }
        double worst = 0;
        for (int64_t r = 0; r < s->rows; r++) {
            ck_dequantize_row(s->type, w + (size_t)r * row_bytes, wf, s->cols);
            for (int64_t b = 0; b < batch; b++) {
                double mag = 0;
                for (int64_t i = 0; i < s->cols; i++) {
                    mag += fabs((double)wf[i] * x[b * s->cols + i]);
                }
                const double d = fabs((double)y_new[b * s->rows + r] - y_old[b * s->rows + r]) / (mag + 1e-30);
                worst = d > worst ? d : worst;
            }
        }
        const double flop = 2.0 * (double)s->rows * (double)s->cols * (double)batch;
        char dims[32];
        snprintf(dims, sizeof dims, "%lldx%lld", (long long)s->rows, (long long)s->cols);
        printf("%-20s %-11s %9.1f %9.1f %7.2fx %10.1e\n", s->what, dims, flop / t_old * 1e-9, flop / t_new * 1e-9,
               t_old / t_new, worst);
        free(w);
        free(x);
        free(y_old);
        free(y_new);
        free(wf);
    }
    ck_pool_destroy(pool);
    return 0;
}
