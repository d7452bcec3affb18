// Matrix times a batch of vectors on the pool, and single-row dequantization for embedding lookups.
#include "ck_internal.h"

typedef struct {
    ck_vec_dot_fn dot;
    const uint8_t *W;     // rows x row_bytes
    size_t row_bytes;
    int64_t rows, cols;
    const uint8_t *X;     // batch rows of x_row_bytes, in the weight type's activation format
    size_t x_row_bytes;
    int64_t batch;
    float *Y;             // batch x rows
    int64_t chunk;        // rows handed out at a time
    int64_t next;         // first row not yet handed out (atomic)
} matmul_job;

// Threads take chunks of rows until none are left, so a thread slowed by other load simply takes fewer.
// Each weight row is read once and multiplied with every column of the batch while it is in L1.
static void matmul_rows(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    matmul_job *job = arg;
    const ck_vec_dot_fn dot = job->dot;
    const int64_t rows = job->rows, cols = job->cols, batch = job->batch;
    for (;;) {
        const int64_t r0 = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED);
        if (r0 >= rows) {
            return;
        }
        const int64_t r1 = r0 + job->chunk < rows ? r0 + job->chunk : rows;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *w = job->W + (size_t)r * job->row_bytes;
            for (int64_t b = 0; b < batch; b++) {
                job->Y[b * rows + r] = dot(cols, w, job->X + (size_t)b * job->x_row_bytes);
            }
        }
    }
}

int ck_matmul(ck_pool *pool, uint32_t type, const void *W, int64_t rows, int64_t cols, size_t row_bytes,
              const float *X, int64_t batch, float *Y) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->dot_ref == NULL) {
        return CK_EUNSUPPORTED;
    }
    const size_t need = ck_row_bytes(type, cols);
    if (rows < 0 || batch < 0 || (need == 0 && cols != 0) || row_bytes < need) {
        return CK_ESHAPE;
    }
    if (rows == 0 || batch == 0) {
        return CK_OK;
    }
    const ck_type_traits *act = ck_traits((uint32_t)t->vec_dot_type);
    const size_t x_row_bytes = ck_row_bytes((uint32_t)t->vec_dot_type, cols);
    if (x_row_bytes == 0 && cols != 0) {
        return CK_ESHAPE;
    }

    ck_pool_lock(pool);
    const uint8_t *xq = (const uint8_t *)X;
    if (t->vec_dot_type != CK_TYPE_F32) {
        if ((uint64_t)batch > SIZE_MAX / (x_row_bytes ? x_row_bytes : 1)) {
            ck_pool_unlock(pool);
            return CK_ENOMEM;
        }
        uint8_t *scratch = ck_pool_scratch(pool, (size_t)batch * x_row_bytes);
        if (scratch == NULL) {
            ck_pool_unlock(pool);
            return CK_ENOMEM;
        }
        const ck_quantize_fn quantize = ck_select_quant(act);
        for (int64_t b = 0; b < batch; b++) {
            quantize(X + b * cols, scratch + (size_t)b * x_row_bytes, cols);
        }
        xq = scratch;
    }

    const int nth = ck_pool_threads(pool);
    int64_t chunk = (rows + 8 * nth - 1) / (8 * nth);
    if (chunk < 4) {
        chunk = 4;
    }
    matmul_job job = {
        .dot = ck_select_dot(t),
        .W = W,
        .row_bytes = row_bytes,
        .rows = rows,
        .cols = cols,
        .X = xq,
        .x_row_bytes = x_row_bytes,
        .batch = batch,
        .Y = Y,
        .chunk = chunk,
        .next = 0,
    };
    if (nth == 1 || rows <= chunk) {
        matmul_rows(&job, 0, 1);
    } else {
        ck_pool_run(pool, matmul_rows, &job);
    }
    ck_pool_unlock(pool);
    return CK_OK;
}

int ck_get_row(uint32_t type, const void *W, int64_t row, int64_t cols, size_t row_bytes, float *out) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->dequantize == NULL) {
        return CK_EUNSUPPORTED;
    }
    const size_t need = ck_row_bytes(type, cols);
    if (row < 0 || (need == 0 && cols != 0) || row_bytes < need) {
        return CK_ESHAPE;
    }
    t->dequantize((const uint8_t *)W + (size_t)row * row_bytes, out, cols);
    return CK_OK;
}
