// Matrix times a batch of vectors on the pool, and single-row dequantization for embedding lookups. A batch of one
// (generation) takes the per-pair vec_dot; larger batches the tiled kernels of ck_gemm.c where the type has them.
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

// Generation reads every weight row once, straight from memory. Asking for the row PREFETCH_ROWS ahead keeps
// enough lines in flight that a core's stream approaches its read bandwidth; on the AVX2 EPYC of 2026-12-07 this
// took Gemma 3 270M from ~56 to ~65 tok/s (BENCHMARKS.md). Results are untouched: it only touches caches.
#define PREFETCH_ROWS 8

static inline void prefetch_row(const uint8_t *row, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(row + o, 0, 0);
}

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
            if (batch == 1 && r + PREFETCH_ROWS < r1) prefetch_row(w + PREFETCH_ROWS * job->row_bytes, job->row_bytes);
            for (int64_t b = 0; b < batch; b++) {
                job->Y[b * rows + r] = dot(cols, w, job->X + (size_t)b * job->x_row_bytes);
            }
        }
    }
}

// ---------------------------------------------------------------- tiled path (batches of several columns)

static int tiled_enabled = 1;

void ck_matmul_set_tiled(int on) {
    __atomic_store_n(&tiled_enabled, on ? 1 : 0, __ATOMIC_RELAXED);
}

// The tiled kind a product of `type` rows of `cols` by `batch` columns takes, or CK_GEMM_NONE for the per-pair dot.
static int tiled_kind(uint32_t type, int64_t cols, int64_t batch) {
    if (!__atomic_load_n(&tiled_enabled, __ATOMIC_RELAXED) || cols == 0 || batch < ck_gemm_min_batch(type)) {
        return CK_GEMM_NONE;
    }
    return ck_gemm_kind(type);
}

static size_t round64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

// Matrices of a tiled kind go through ck_gemm_rows a chunk of rows at a time; the others (float formats) keep the
// per-pair dot. Work items are (matrix, chunk of rows); threads take them in order until none are left, each with
// its own unpacking buffer.
typedef struct {
    int count, tier;
    uint32_t type[CK_MATMUL_MANY_MAX];
    ck_vec_dot_fn dot[CK_MATMUL_MANY_MAX]; // NULL: tiled
    const uint8_t *W[CK_MATMUL_MANY_MAX];
    size_t row_bytes[CK_MATMUL_MANY_MAX];
    int64_t rows[CK_MATMUL_MANY_MAX];
    const uint8_t *X[CK_MATMUL_MANY_MAX];  // batch columns, x_stride apart
    size_t x_stride[CK_MATMUL_MANY_MAX];
    float *Y[CK_MATMUL_MANY_MAX];          // batch x rows
    int64_t chunk[CK_MATMUL_MANY_MAX];     // rows per work item
    int64_t first_item[CK_MATMUL_MANY_MAX + 1];
    int64_t cols, batch;
    uint8_t *work;                         // per thread: work_bytes
    size_t work_bytes;
    int64_t next;                          // first work item not yet taken (atomic)
} tiled_job;

static void tiled_items(void *arg, int ith, int nth) {
    (void)nth;
    tiled_job *job = arg;
    uint8_t *work = job->work + (size_t)ith * job->work_bytes;
    const int64_t total = job->first_item[job->count];
    for (;;) {
        const int64_t item = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (item >= total) {
            return;
        }
        int m = 0;
        while (item >= job->first_item[m + 1]) m++;
        const int64_t rows = job->rows[m];
        const int64_t r0 = (item - job->first_item[m]) * job->chunk[m];
        const int64_t r1 = r0 + job->chunk[m] < rows ? r0 + job->chunk[m] : rows;
        if (job->dot[m] == NULL) {
            ck_gemm_rows(job->tier, job->type[m], job->W[m], job->row_bytes[m], r0, r1, job->cols, job->X[m],
                         job->x_stride[m], job->batch, job->Y[m], rows, work);
            continue;
        }
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *w = job->W[m] + (size_t)r * job->row_bytes[m];
            for (int64_t b = 0; b < job->batch; b++) {
                job->Y[m][b * rows + r] = job->dot[m](job->cols, w, job->X[m] + (size_t)b * job->x_stride[m]);
            }
        }
    }
}

// Packing the activations is shared out too: work items are (layout, column) pairs.
typedef struct {
    int n_layouts, tier;
    int kind[CK_MATMUL_MANY_MAX];             // a tiled kind, or CK_GEMM_NONE: quantize
    ck_quantize_fn quantize[CK_MATMUL_MANY_MAX];
    uint8_t *dst[CK_MATMUL_MANY_MAX];         // batch columns, stride apart
    size_t stride[CK_MATMUL_MANY_MAX];
    const float *X;                           // batch rows of cols floats
    int64_t cols, batch;
    uint8_t *work;                            // per thread: work_bytes of scratch for ck_gemm_pack_x
    size_t work_bytes;
    int64_t next;                             // first item not yet taken (atomic)
} pack_job;

static void pack_columns(void *arg, int ith, int nth) {
    (void)nth;
    pack_job *job = arg;
    for (;;) {
        const int64_t item = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (item >= job->n_layouts * job->batch) {
            return;
        }
        const int k = (int)(item / job->batch);
        const int64_t b = item % job->batch;
        uint8_t *out = job->dst[k] + (size_t)b * job->stride[k];
        if (job->kind[k] != CK_GEMM_NONE) {
            ck_gemm_pack_x(job->tier, job->kind[k], job->X + b * job->cols, out, job->cols,
                           job->work + (size_t)ith * job->work_bytes);
        } else {
            job->quantize[k](job->X + b * job->cols, out, job->cols);
        }
    }
}

// count matrices (arguments validated, at least one row) on the pool, each tiled where its type and the batch allow.
// X is packed once per activation layout into the pool's scratch, followed by one unpacking buffer per thread; the
// threads share out the packing, then the products.
static int matmul_tiled(ck_pool *pool, int count, const uint32_t *types, const void *const *Ws, const int64_t *rows,
                        const size_t *row_bytes, int64_t cols, const float *X, int64_t batch, float *const *Ys) {
    const int nth = ck_pool_threads(pool);
    // One tier for the whole product: the packing and the kernels must agree on it.
    tiled_job job = {.count = count, .tier = ck_tier(), .cols = cols, .batch = batch, .next = 0};
    const int64_t group = ck_gemm_group_rows(job.tier);
    // Layouts: a tiled kind's packing (keyed -1 - kind) or a per-pair activation type (its type id).
    int64_t keys[CK_MATMUL_MANY_MAX];
    size_t key_bytes[CK_MATMUL_MANY_MAX];
    int n_keys = 0, key_of[CK_MATMUL_MANY_MAX];
    job.first_item[0] = 0;
    size_t work_bytes = 0;
    for (int m = 0; m < count; m++) {
        const ck_type_traits *t = ck_traits(types[m]);
        const int kind = tiled_kind(types[m], cols, batch);
        const int64_t key = kind != CK_GEMM_NONE ? -1 - kind : t->vec_dot_type;
        int k = 0;
        while (k < n_keys && keys[k] != key) k++;
        if (k == n_keys) {
            keys[k] = key;
            key_bytes[k] = kind != CK_GEMM_NONE ? ck_gemm_x_bytes(kind, cols) : ck_row_bytes((uint32_t)key, cols);
            n_keys++;
        }
        key_of[m] = k;
        job.type[m] = types[m];
        job.dot[m] = kind != CK_GEMM_NONE ? NULL : ck_tier_dot(t, job.tier);
        job.W[m] = Ws[m];
        job.row_bytes[m] = row_bytes[m];
        job.rows[m] = rows[m];
        job.Y[m] = Ys[m];
        // About four items per thread per matrix for balance, in whole groups of rows.
        int64_t chunk = (rows[m] + 4 * nth - 1) / (4 * nth);
        chunk = chunk < group ? group : (chunk + group - 1) / group * group;
        job.chunk[m] = chunk;
        job.first_item[m + 1] = job.first_item[m] + (rows[m] + chunk - 1) / chunk;
        if (kind != CK_GEMM_NONE && ck_gemm_work_bytes(types[m], cols) > work_bytes) {
            work_bytes = ck_gemm_work_bytes(types[m], cols);
        }
    }
    // The per-thread buffer also serves ck_gemm_pack_x while the activations are packed.
    if (ck_gemm_pack_tmp_bytes(cols) > work_bytes) {
        work_bytes = ck_gemm_pack_tmp_bytes(cols);
    }
    job.work_bytes = round64(work_bytes);

    size_t offsets[CK_MATMUL_MANY_MAX], total = 0;
    for (int k = 0; k < n_keys; k++) {
        offsets[k] = total;
        const size_t stride = round64(key_bytes[k]);
        if (keys[k] == CK_TYPE_F32) {
            continue;
        }
        if ((uint64_t)batch > (SIZE_MAX - total) / (stride ? stride : 1)) {
            return CK_ENOMEM;
        }
        total += (size_t)batch * stride;
    }
    const size_t work_at = total;
    if ((uint64_t)nth > (SIZE_MAX - total) / (job.work_bytes ? job.work_bytes : 1)) {
        return CK_ENOMEM;
    }
    total += (size_t)nth * job.work_bytes;

    ck_pool_lock(pool);
    uint8_t *scratch = total ? ck_pool_scratch(pool, total) : NULL;
    if (total && scratch == NULL) {
        ck_pool_unlock(pool);
        return CK_ENOMEM;
    }
    pack_job pack = {.tier = job.tier, .X = X, .cols = cols, .batch = batch, .work = scratch + work_at,
                     .work_bytes = job.work_bytes, .next = 0};
    for (int k = 0; k < n_keys; k++) {
        const uint8_t *packed = scratch + offsets[k];
        size_t x_stride = round64(key_bytes[k]);
        if (keys[k] == CK_TYPE_F32) {
            packed = (const uint8_t *)X;
            x_stride = (size_t)cols * sizeof(float);
        } else {
            const int n = pack.n_layouts++;
            pack.kind[n] = keys[k] < 0 ? (int)(-1 - keys[k]) : CK_GEMM_NONE;
            pack.quantize[n] = keys[k] < 0 ? NULL : ck_tier_quant(ck_traits((uint32_t)keys[k]), job.tier);
            pack.dst[n] = scratch + offsets[k];
            pack.stride[n] = x_stride;
        }
        for (int m = 0; m < count; m++) {
            if (key_of[m] == k) {
                job.X[m] = packed;
                job.x_stride[m] = x_stride;
            }
        }
    }
    // Two dispatches (pack, then multiply) are worth it once the packing is more than a few microseconds.
    if (nth == 1 || batch * cols < 16384) {
        pack_columns(&pack, 0, 1);
    } else {
        ck_pool_run(pool, pack_columns, &pack);
    }
    job.work = scratch + work_at;
    if (nth == 1 || job.first_item[count] == 1) {
        tiled_items(&job, 0, 1);
    } else {
        ck_pool_run(pool, tiled_items, &job);
    }
    ck_pool_unlock(pool);
    return CK_OK;
}

// ---------------------------------------------------------------- per-pair path

int ck_matmul(ck_pool *pool, uint32_t type, const void *W, int64_t rows, int64_t cols, size_t row_bytes,
              const float *X, int64_t batch, float *Y) {
    const ck_type_traits *t = ck_traits(type);
    if (t == NULL || t->dot[CK_TIER_SCALAR] == NULL) {
        return CK_EUNSUPPORTED;
    }
    const size_t need = ck_row_bytes(type, cols);
    if (rows < 0 || batch < 0 || (need == 0 && cols != 0) || row_bytes < need) {
        return CK_ESHAPE;
    }
    if (rows == 0 || batch == 0) {
        return CK_OK;
    }
    if (tiled_kind(type, cols, batch) != CK_GEMM_NONE) {
        return matmul_tiled(pool, 1, &type, &W, &rows, &row_bytes, cols, X, batch, &Y);
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
                if (job->batch == 1 && g + PREFETCH_ROWS < end) prefetch_row(w + PREFETCH_ROWS * job->row_bytes[m], job->row_bytes[m]);
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
        if (t == NULL || t->dot[CK_TIER_SCALAR] == NULL) {
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
    for (int m = 0; m < count; m++) {
        if (tiled_kind(types[m], cols, batch) != CK_GEMM_NONE) {
            return matmul_tiled(pool, count, types, Ws, rows, row_bytes, cols, X, batch, Ys);
        }
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
