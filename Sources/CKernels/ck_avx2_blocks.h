// Unpacking steps of the 32-wide block formats that the per-pair (ck_avx2_dot.c) and tiled (ck_gemm_avx2.c)
// kernels share. Included inside `#if CK_X86` after <immintrin.h>, with CK_FN set to the including tier's
// target attribute, so each tier compiles its own copy.
#ifndef OUTPOST_CK_AVX2_BLOCKS_H
#define OUTPOST_CK_AVX2_BLOCKS_H

// The 32 nibbles of 16 bytes in element order: low nibbles (elements 0..15), then high nibbles (16..31).
CK_FN static inline __m256i nibbles(const uint8_t *qs) {
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Byte j = 0xff where bit j of `bits` is set, else 0.
CK_FN static inline __m256i bit_mask(const uint8_t qh[4]) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                         2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
}

#endif
