// Work other than matrix products shared out over the pool: attention for many (query row, head) pairs at once
// (prompt processing and batched decoding have rows x heads independent items), and ranges of rows for the
// element-wise steps between the products.
#include "ck_internal.h"
#include "ck_ops.h"

void ck_attend_f16_group_avx2(int heads, const float *const *q, float *const *out, const uint16_t *k, int64_t k_stride,
                              const uint16_t *v, int64_t v_stride, int64_t n_kv, int64_t head_dim, float scale,
                              float softcap, float *scores);

#define CK_GROUP_MAX 4

typedef struct {
    const ck_attend_item *items;
    const int64_t *runs;   // run r is items[runs[r] ..< runs[r+1]]: heads reading the same keys and values
    int64_t count;
    int64_t k_stride, v_stride, head_dim;
    float scale, softcap;
    float *scores;      // nth x max_kv
    int64_t max_kv;
    int64_t next;       // first item not yet handed out (atomic)
} attend_job;

static void attend_items(void *arg, int ith, int nth) {
    (void)nth;
    attend_job *job = arg;
    float *scores = job->scores + (size_t)ith * (size_t)job->max_kv * CK_GROUP_MAX;
    for (;;) {
        const int64_t r = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (r >= job->count) {
            return;
        }
        const ck_attend_item *first = &job->items[job->runs[r]];
        const int heads = (int)(job->runs[r + 1] - job->runs[r]);
#if CK_X86
        if (heads > 1 && ck_using_avx2() && job->head_dim % 8 == 0 && job->head_dim <= 1024) {
            const float *q[CK_GROUP_MAX];
            float *out[CK_GROUP_MAX];
            for (int h = 0; h < heads; h++) {
                q[h] = first[h].q;
                out[h] = first[h].out;
            }
            ck_attend_f16_group_avx2(heads, q, out, first->k, job->k_stride, first->v, job->v_stride, first->n_kv,
                                     job->head_dim, job->scale, job->softcap, scores);
            continue;
        }
#endif
        for (int h = 0; h < heads; h++) {
            const ck_attend_item *it = &first[h];
            ck_attend_f16(it->q, it->k, job->k_stride, it->v, job->v_stride, it->n_kv, job->head_dim, job->scale,
                          job->softcap, NULL, scores, it->out);
        }
    }
}

int ck_attend_many(ck_pool *pool, const ck_attend_item *items, int64_t count, int64_t k_stride, int64_t v_stride,
                   int64_t head_dim, float scale, float softcap, int64_t max_kv) {
    if (count < 0 || head_dim <= 0 || max_kv <= 0) {
        return CK_ESHAPE;
    }
    for (int64_t i = 0; i < count; i++) {
        if (items[i].n_kv <= 0 || items[i].n_kv > max_kv) {
            return CK_ESHAPE;
        }
    }
    if (count == 0) {
        return CK_OK;
    }
    ck_pool_lock(pool);
    const int nth = ck_pool_threads(pool);
    if ((uint64_t)max_kv > SIZE_MAX / sizeof(float) / CK_GROUP_MAX / (size_t)nth / 2) {
        ck_pool_unlock(pool);
        return CK_ENOMEM;
    }
    // Scores for CK_GROUP_MAX heads per thread, then the run boundaries.
    const size_t score_bytes = ((size_t)nth * (size_t)max_kv * CK_GROUP_MAX * sizeof(float) + 63) & ~(size_t)63;
    uint8_t *scratch = ck_pool_scratch(pool, score_bytes + (size_t)(count + 1) * sizeof(int64_t));
    if (scratch == NULL) {
        ck_pool_unlock(pool);
        return CK_ENOMEM;
    }
    float *scores = (float *)scratch;
    int64_t *runs = (int64_t *)(scratch + score_bytes);
    int64_t n_runs = 0;
    for (int64_t i = 0; i < count; i++) {
        const int joins = i > 0 && runs[n_runs - 1] > i - CK_GROUP_MAX && items[i].k == items[i - 1].k &&
                          items[i].v == items[i - 1].v && items[i].n_kv == items[i - 1].n_kv;
        if (!joins) runs[n_runs++] = i;
    }
    runs[n_runs] = count;
    attend_job job = {
        .items = items, .runs = runs, .count = n_runs, .k_stride = k_stride, .v_stride = v_stride, .head_dim = head_dim,
        .scale = scale, .softcap = softcap, .scores = scores, .max_kv = max_kv, .next = 0,
    };
    if (nth == 1 || n_runs == 1) {
        attend_items(&job, 0, 1);
    } else {
        ck_pool_run(pool, attend_items, &job);
    }
    ck_pool_unlock(pool);
    return CK_OK;
}

typedef struct {
    ck_range_fn fn;
    void *ctx;
    int64_t count, chunk;
    int64_t next;       // first index not yet handed out (atomic)
} range_job;

static void run_ranges(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    range_job *job = arg;
    for (;;) {
        const int64_t begin = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED);
        if (begin >= job->count) {
            return;
        }
        job->fn(job->ctx, begin, begin + job->chunk < job->count ? begin + job->chunk : job->count);
    }
}

int ck_pool_for(ck_pool *pool, int64_t count, int64_t min_chunk, ck_range_fn fn, void *ctx) {
    if (count < 0 || min_chunk < 1) {
        return CK_ESHAPE;
    }
    if (count == 0) {
        return CK_OK;
    }
    ck_pool_lock(pool);
    const int nth = ck_pool_threads(pool);
    int64_t chunk = (count + nth - 1) / nth;
    if (chunk < min_chunk) chunk = min_chunk;
    range_job job = {.fn = fn, .ctx = ctx, .count = count, .chunk = chunk, .next = 0};
    if (nth == 1 || chunk >= count) {
        fn(ctx, 0, count);
    } else {
        ck_pool_run(pool, run_ranges, &job);
    }
    ck_pool_unlock(pool);
    return CK_OK;
}
