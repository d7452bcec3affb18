// The quantized dot products of ck_avx2_dot.c for the AVX512-VNNI tier: the same code with its integer products as
// the EVEX-encoded vpdpbusd / vpdpwssd (on 256-bit registers), bit for bit the AVX2 tier's results.
#define CK_DOT_VNNI 1
#define CK_FN CK_AVX512_VNNI_FN
#define CK_NAME(f) f##_avx512vnni
#define CK_DPBUSD _mm256_dpbusd_epi32
#define CK_DPWSSD _mm256_dpwssd_epi32
#include "ck_avx2_dot.c"
