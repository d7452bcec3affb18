// bench/read_bandwidth.c: a STREAM-like read figure for this machine, to set a decode step's weight reads beside.
// Each thread sums its share of a buffer far larger than the caches with 256-bit loads (what a matrix-vector
// product over quantised weights does: read every byte once); the best of several passes is reported.
//
//   cc -O2 -mavx2 -pthread bench/read_bandwidth.c -o /tmp/read_bandwidth && /tmp/read_bandwidth [threads] [MiB]
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const uint8_t *data;
    size_t bytes;
    double sum;
} share;

static void *reader(void *arg) {
    share *s = arg;
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256(), acc2 = _mm256_setzero_si256(),
            acc3 = _mm256_setzero_si256();
    for (size_t i = 0; i + 128 <= s->bytes; i += 128) {
        acc0 = _mm256_add_epi64(acc0, _mm256_load_si256((const __m256i *)(s->data + i)));
        acc1 = _mm256_add_epi64(acc1, _mm256_load_si256((const __m256i *)(s->data + i + 32)));
        acc2 = _mm256_add_epi64(acc2, _mm256_load_si256((const __m256i *)(s->data + i + 64)));
        acc3 = _mm256_add_epi64(acc3, _mm256_load_si256((const __m256i *)(s->data + i + 96)));
    }
    __m256i acc = _mm256_add_epi64(_mm256_add_epi64(acc0, acc1), _mm256_add_epi64(acc2, acc3));
    int64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    s->sum = (double)(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
    if (threads < 1 || threads > 64 || mib < 64) {
        fprintf(stderr, "usage: read_bandwidth [threads 1..64] [MiB >= 64]\n");
        return 2;
    }
    size_t bytes = mib << 20;
    uint8_t *data = aligned_alloc(64, bytes);
    if (!data) return 1;
    memset(data, 1, bytes);
    double best = 0, sink = 0;
    for (int pass = 0; pass < 5; pass++) {
        pthread_t tid[64];
        share shares[64];
        size_t part = (bytes / (size_t)threads) & ~(size_t)127;
        double start = now();
        for (int t = 0; t < threads; t++) {
            shares[t] = (share){data + (size_t)t * part, part, 0};
            pthread_create(&tid[t], NULL, reader, &shares[t]);
        }
        for (int t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            sink += shares[t].sum;
        }
        double gbps = (double)part * threads / (now() - start) / 1e9;
        if (gbps > best) best = gbps;
    }
    printf("read bandwidth: %.1f GB/s with %d thread(s) over %zu MiB (best of 5; checksum %.0f)\n", best, threads, mib, sink);
    free(data);
    return 0;
}
