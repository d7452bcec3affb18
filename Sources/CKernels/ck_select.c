// Partial selection for sampling: the k largest logits of a vocabulary in one pass (see ck_ops.h).
#include "ck_ops.h"

#include <math.h>

// Candidate a beats b: larger value, then the lower index.
static inline int beats(float va, int32_t ia, float vb, int32_t ib) {
    return va > vb || (va == vb && ia < ib);
}

// Min-heap on (vals, ids) with the worst candidate at the root.
static void sift_down(float *vals, int32_t *ids, int64_t count, int64_t parent) {
    for (;;) {
        int64_t left = 2 * parent + 1;
        if (left >= count) return;
        int64_t worst = left;
        if (left + 1 < count && beats(vals[worst], ids[worst], vals[left + 1], ids[left + 1])) worst = left + 1;
        if (!beats(vals[parent], ids[parent], vals[worst], ids[worst])) return;
        float v = vals[parent];
        int32_t id = ids[parent];
        vals[parent] = vals[worst];
        ids[parent] = ids[worst];
        vals[worst] = v;
        ids[worst] = id;
        parent = worst;
    }
}

int64_t ck_select_top(const float *x, int64_t n, int64_t k, float *vals, int32_t *ids) {
    if (k > n) k = n;
    if (k <= 0) return 0;
    int64_t bad = -1;
    for (int64_t i = 0; i < k; i++) {
        vals[i] = x[i];
        ids[i] = (int32_t)i;
        if (bad < 0 && !(x[i] < INFINITY)) bad = i;
    }
    for (int64_t i = k / 2 - 1; i >= 0; i--) sift_down(vals, ids, k, i);
    float threshold = vals[0];
    int64_t i = k;
    // Eight at a time: one vectorised test settles eight logits unless one of them beats the worst kept
    // candidate or is not a number (NaN fails every ordered compare, so it is tested for itself).
    for (; i + 8 <= n; i += 8) {
        int hit = 0;
        for (int j = 0; j < 8; j++) hit |= (x[i + j] > threshold) | (x[i + j] != x[i + j]);
        if (!hit) continue;
        for (int j = 0; j < 8; j++) {
            float v = x[i + j];
            if (v != v) {
                if (bad < 0) bad = i + j;
                continue;
            }
            if (v > threshold) {
                vals[0] = v;
                ids[0] = (int32_t)(i + j);
                sift_down(vals, ids, k, 0);
                threshold = vals[0];
            }
        }
    }
    for (; i < n; i++) {
        float v = x[i];
        if (v != v) {
            if (bad < 0) bad = i;
        } else if (v > threshold) {
            vals[0] = v;
            ids[0] = (int32_t)i;
            sift_down(vals, ids, k, 0);
            threshold = vals[0];
        }
    }
    // +infinity beats every threshold, so one that exists is among the kept candidates.
    for (int64_t c = 0; c < k && bad < 0; c++) {
        if (vals[c] == INFINITY) bad = ids[c];
    }
    return bad >= 0 ? -1 - bad : k;
}
