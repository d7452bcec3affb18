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

// Several matrices that read the same input (Q, K and V; gate and up) in one dispatch: the input is quantized
// once per activation format, and the threads walk one row space that spans all the matrices, so a decode step
// pays one pool round-trip instead of one per matrix.
typedef struct {
    int count;
    ck_vec_dot_fn dot[CK_MATMUL_MANY_MAX];
    const uint8_t *W[CK_MATMUL_MANY_MAX];
    size_t row_bytes[CK_MATMUL_MANY_MAX];
    int64_t rows[CK_MATMUL_MANY_MAX];
    int64_t first_row[CK_MATMUL_MANY_MAX + 1]; // prefix sums of rows
    const uint8_t *X[CK_MATMUL_MANY_MAX];
    size_t x_row_bytes[CK_MATMUL_MANY_MAX];
    float *Y[CK_MATMUL_MANY_MAX];
    int64_t cols, batch, chunk;
    int64_t next;
} matmul_many_job;

static void matmul_many_rows(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    matmul_many_job *job = arg;
    const int64_t total = job->first_row[job->count];
    for (;;) {
        int64_t r0 = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED);
        if (r0 >= total) {
            return;
        }
        const int64_t r1 = r0 + job->chunk < total ? r0 + job->chunk : total;
        int m = 0;
        while (r0 < r1) {
            while (r0 >= job->first_row[m + 1]) m++;
            const int64_t end = r1 < job->first_row[m + 1] ? r1 : job->first_row[m + 1];
            const int64_t rows = job->rows[m];
            for (int64_t g = r0; g < end; g++) {
                const int64_t r = g - job->first_row[m];
                const uint8_t *w = job->W[m] + (size_t)r * job->row_bytes[m];
                for (int64_t b = 0; b < job->batch; b++) {
                    job->Y[m][b * rows + r] = job->dot[m](job->cols, w, job->X[m] + (size_t)b * job->x_row_bytes[m]);
                }
            }
            r0 = end;
        }
    }
}

int ck_matmul_many(ck_pool *pool, int count, const uint32_t *types, const void *const *Ws, const int64_t *rows,
                   const size_t *row_bytes, int64_t cols, const float *X, int64_t batch, float *const *Ys) {
    if (count < 1 || count > CK_MATMUL_MANY_MAX || batch < 0 || cols < 0) {
        return CK_ESHAPE;
    }
    matmul_many_job job = {.count = count, .cols = cols, .batch = batch, .next = 0};
    // Distinct activation formats, each quantized once into its own part of the scratch.
    int formats[CK_MATMUL_MANY_MAX];
    size_t format_bytes[CK_MATMUL_MANY_MAX];
    int n_formats = 0;
    int format_of[CK_MATMUL_MANY_MAX];
    job.first_row[0] = 0;
    for (int m = 0; m < count; m++) {
        const ck_type_traits *t = ck_traits(types[m]);
        if (t == NULL || t->dot_ref == NULL) {
            return CK_EUNSUPPORTED;
        }
        const size_t need = ck_row_bytes(types[m], cols);
        if (rows[m] < 0 || (need == 0 && cols != 0) || row_bytes[m] < need) {
            return CK_ESHAPE;
        }
        int f = 0;
        while (f < n_formats && formats[f] != t->vec_dot_type) f++;
        if (f == n_formats) {
            formats[f] = t->vec_dot_type;
            format_bytes[f] = ck_row_bytes((uint32_t)t->vec_dot_type, cols);
            if (format_bytes[f] == 0 && cols != 0) {
                return CK_ESHAPE;
            }
            n_formats++;
        }
        format_of[m] = f;
        job.dot[m] = ck_select_dot(t);
        job.W[m] = Ws[m];
        job.row_bytes[m] = row_bytes[m];
        job.rows[m] = rows[m];
        job.first_row[m + 1] = job.first_row[m] + rows[m];
        job.x_row_bytes[m] = format_bytes[f];
        job.Y[m] = Ys[m];
    }
    if (job.first_row[count] == 0 || batch == 0) {
        return CK_OK;
    }

    ck_pool_lock(pool);
    size_t offsets[CK_MATMUL_MANY_MAX];
    size_t total = 0;
    for (int f = 0; f < n_formats; f++) {
        offsets[f] = total;
        total += formats[f] == CK_TYPE_F32 ? 0 : (size_t)batch * ((format_bytes[f] + 63) & ~(size_t)63);
    }
    uint8_t *scratch = total ? ck_pool_scratch(pool, total) : NULL;
    if (total && scratch == NULL) {
        ck_pool_unlock(pool);
        return CK_ENOMEM;
    }
    const uint8_t *quantized[CK_MATMUL_MANY_MAX];
    for (int f = 0; f < n_formats; f++) {
        if (formats[f] == CK_TYPE_F32) {
            quantized[f] = (const uint8_t *)X;
            continue;
        }
        const size_t stride = (format_bytes[f] + 63) & ~(size_t)63;
        const ck_quantize_fn quantize = ck_select_quant(ck_traits((uint32_t)formats[f]));
        for (int64_t b = 0; b < batch; b++) {
            quantize(X + b * cols, scratch + offsets[f] + (size_t)b * stride, cols);
        }
        quantized[f] = scratch + offsets[f];
        for (int m = 0; m < count; m++) {
            if (format_of[m] == f) job.x_row_bytes[m] = stride;
        }
    }
    for (int m = 0; m < count; m++) job.X[m] = quantized[format_of[m]];

    const int nth = ck_pool_threads(pool);
    const int64_t all = job.first_row[count];
    int64_t chunk = (all + 8 * nth - 1) / (8 * nth);
    job.chunk = chunk < 4 ? 4 : chunk;
    if (nth == 1 || all <= job.chunk) {
        matmul_many_rows(&job, 0, 1);
    } else {
        ck_pool_run(pool, matmul_many_rows, &job);
    }
    ck_pool_unlock(pool);
    return CK_OK;
}
