// A persistent pthread worker pool. Between jobs a worker spins for about a millisecond (a decode step issues
// matrix products back to back, and a futex wake costs tens of microseconds), then sleeps on a condition variable.
#include "ck_internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#if CK_X86
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

static const int64_t spin_ns = 1000000;

struct ck_pool {
    int n_threads;             // threads that take part in a job, the caller included
    int n_workers;             // started threads: n_threads - 1
    pthread_t *workers;
    struct worker_start *starts;
    pthread_mutex_t call_lock; // one caller at a time
    pthread_mutex_t mu;        // guards sleeping and waking
    pthread_cond_t wake;       // workers sleep here until generation changes
    pthread_cond_t done;       // the caller sleeps here until pending is 0
    uint32_t generation;       // bumped under mu to publish a job (or stop)
    int pending;               // workers that have not finished the current job
    int stop;
    int caller_waiting;        // under mu
    ck_job_fn fn;
    void *arg;
    void *scratch;
    size_t scratch_bytes;
};

struct worker_start {
    ck_pool *pool;
    int index;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Returns the generation that differs from `seen` (a new job or the stop signal).
static uint32_t wait_for_job(ck_pool *pool, uint32_t seen) {
    const int64_t until = now_ns() + spin_ns;
    for (int i = 1;; i++) {
        const uint32_t g = __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE);
        if (g != seen) {
            return g;
        }
        cpu_relax();
        if ((i & 255) == 0) {
            if (now_ns() > until) {
                break;
            }
            // On a machine with more runnable threads than cores, give the core to whoever has real work.
            sched_yield();
        }
    }
    pthread_mutex_lock(&pool->mu);
    uint32_t g;
    while ((g = __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE)) == seen) {
        pthread_cond_wait(&pool->wake, &pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    return g;
}

static void *worker_main(void *p) {
    const struct worker_start *start = p;
    ck_pool *pool = start->pool;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_for_job(pool, seen);
        if (__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE)) {
            break;
        }
        pool->fn(pool->arg, start->index, pool->n_threads);
        if (__atomic_sub_fetch(&pool->pending, 1, __ATOMIC_ACQ_REL) == 0) {
            pthread_mutex_lock(&pool->mu);
            if (pool->caller_waiting) {
                pthread_cond_signal(&pool->done);
            }
            pthread_mutex_unlock(&pool->mu);
        }
    }
    return NULL;
}

ck_pool *ck_pool_create(int n_threads) {
    if (n_threads < 1) {
        n_threads = 1;
    }
    ck_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        return NULL;
    }
    pool->workers = calloc((size_t)n_threads, sizeof(pthread_t));
    pool->starts = calloc((size_t)n_threads, sizeof(struct worker_start));
    if (pool->workers == NULL || pool->starts == NULL) {
        free(pool->workers);
        free(pool->starts);
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->call_lock, NULL);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    for (int i = 1; i < n_threads; i++) {
        pool->starts[pool->n_workers] = (struct worker_start){pool, pool->n_workers + 1};
        if (pthread_create(&pool->workers[pool->n_workers], NULL, worker_main, &pool->starts[pool->n_workers]) != 0) {
            break; // run with the threads we have
        }
        pool->n_workers++;
    }
    pool->n_threads = pool->n_workers + 1;
    return pool;
}

void ck_pool_destroy(ck_pool *pool) {
    if (pool == NULL) {
        return;
    }
    pthread_mutex_lock(&pool->mu);
    __atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&pool->generation, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n_workers; i++) {
        pthread_join(pool->workers[i], NULL);
    }
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mu);
    pthread_mutex_destroy(&pool->call_lock);
    free(pool->scratch);
    free(pool->starts);
    free(pool->workers);
    free(pool);
}

int ck_pool_threads(const ck_pool *pool) {
    return pool->n_threads;
}

void ck_pool_lock(ck_pool *pool) {
    pthread_mutex_lock(&pool->call_lock);
}

void ck_pool_unlock(ck_pool *pool) {
    pthread_mutex_unlock(&pool->call_lock);
}

void ck_pool_run(ck_pool *pool, ck_job_fn fn, void *arg) {
    if (pool->n_workers == 0) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    __atomic_store_n(&pool->pending, pool->n_workers, __ATOMIC_RELAXED);
    pthread_mutex_lock(&pool->mu);
    __atomic_add_fetch(&pool->generation, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);

    fn(arg, 0, pool->n_threads);

    const int64_t until = now_ns() + spin_ns;
    for (int i = 1; __atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) != 0; i++) {
        cpu_relax();
        if ((i & 255) == 0) sched_yield();
        if ((i & 255) == 0 && now_ns() > until) {
            pthread_mutex_lock(&pool->mu);
            pool->caller_waiting = 1;
            while (__atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) != 0) {
                pthread_cond_wait(&pool->done, &pool->mu);
            }
            pool->caller_waiting = 0;
            pthread_mutex_unlock(&pool->mu);
            break;
        }
    }
}

void *ck_pool_scratch(ck_pool *pool, size_t bytes) {
    if (bytes <= pool->scratch_bytes) {
        return pool->scratch;
    }
    // grow geometrically so a slowly rising batch does not reallocate every call
    size_t want = pool->scratch_bytes * 2 > bytes ? pool->scratch_bytes * 2 : bytes;
    want = (want + 63) & ~(size_t)63;
    void *p = NULL;
    if (want < bytes || posix_memalign(&p, 64, want) != 0) {
        return NULL;
    }
    free(pool->scratch);
    pool->scratch = p;
    pool->scratch_bytes = want;
    return p;
}
