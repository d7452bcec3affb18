// Attention for many (query row, head) pairs at once, shared out over the pool: prompt processing and batched
// decoding have count x heads independent items, each an ck_attend_f16 call with its own scores scratch.
#include "ck_internal.h"
#include "ck_ops.h"

typedef struct {
    const ck_attend_item *items;
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
    float *scores = job->scores + (size_t)ith * (size_t)job->max_kv;
    for (;;) {
        const int64_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->count) {
            return;
        }
        const ck_attend_item *it = &job->items[i];
        ck_attend_f16(it->q, it->k, job->k_stride, it->v, job->v_stride, it->n_kv, job->head_dim, job->scale,
                      job->softcap, NULL, scores, it->out);
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
    if ((uint64_t)max_kv > SIZE_MAX / sizeof(float) / (size_t)nth) {
        ck_pool_unlock(pool);
        return CK_ENOMEM;
    }
    float *scores = ck_pool_scratch(pool, (size_t)nth * (size_t)max_kv * sizeof(float));
    if (scores == NULL) {
        ck_pool_unlock(pool);
        return CK_ENOMEM;
    }
    attend_job job = {
        .items = items, .count = count, .k_stride = k_stride, .v_stride = v_stride, .head_dim = head_dim,
        .scale = scale, .softcap = softcap, .scores = scores, .max_kv = max_kv, .next = 0,
    };
    if (nth == 1 || count == 1) {
        attend_items(&job, 0, 1);
    } else {
        ck_pool_run(pool, attend_items, &job);
    }
    ck_pool_unlock(pool);
    return CK_OK;
}
