// bench/store_probe.c: where the time of loading a model from the store goes, on this machine: populating fresh
// anonymous memory (page faults one by one, MAP_POPULATE, or MADV_POPULATE_WRITE from two threads) and
// XChaCha20-Poly1305 decryption of 1 MiB chunks with libsodium (one thread). Sizes as Gemma 3 270M (253 MiB).
//
//   cc -O2 bench/store_probe.c -o /tmp/store_probe -lsodium -lpthread && /tmp/store_probe
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned char *region;
static size_t bytes = (size_t)253 << 20;

static void *populate_half(void *arg) {
    size_t half = bytes / 2;
    if (madvise(region + (size_t)arg * half, half, MADV_POPULATE_WRITE) != 0) perror("madvise(MADV_POPULATE_WRITE)");
    return NULL;
}

static unsigned char *fresh(int flags) {
    unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

int main(void) {
    if (sodium_init() < 0) return 1;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        region = fresh(0);
        memset(region, 1, bytes);
        double t1 = now();
        munmap(region, bytes);
        double t2 = now();
        region = fresh(MAP_POPULATE);
        double t3 = now();
        munmap(region, bytes);
        double t4 = now();
        region = fresh(0);
        pthread_t a, b;
        pthread_create(&a, NULL, populate_half, (void *)0);
        pthread_create(&b, NULL, populate_half, (void *)1);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        double t5 = now();
        munmap(region, bytes);
        printf("253 MiB fresh memory: touched page by page %.0f ms, MAP_POPULATE %.0f ms, MADV_POPULATE_WRITE x2 threads %.0f ms\n",
               (t1 - t0) * 1e3, (t3 - t2) * 1e3, (t5 - t4) * 1e3);
    }
    size_t chunk = 1 << 20, chunks = bytes / chunk;
    unsigned char key[32] = {1}, nonce[24] = {0};
    unsigned char *plain = malloc(chunk), *sealed = malloc(bytes + chunks * 16), *out = malloc(bytes);
    memset(plain, 3, chunk);
    unsigned long long n;
    for (size_t i = 0; i < chunks; i++)
        crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + i * (chunk + 16), &n, plain, chunk, NULL, 0, NULL, nonce, key);
    memset(out, 0, bytes);
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (size_t i = 0; i < chunks; i++)
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(out + i * chunk, &n, NULL, sealed + i * (chunk + 16), chunk + 16, NULL, 0,
                                                           nonce, key) != 0) return 1;
        double t1 = now();
        printf("XChaCha20-Poly1305 decryption, one thread, into touched memory: %.0f ms, %.2f GB/s\n", (t1 - t0) * 1e3, bytes / (t1 - t0) / 1e9);
    }
    return 0;
}
