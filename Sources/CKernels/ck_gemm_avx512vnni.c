// The tiled kernels of ck_gemm_avx2.c for the AVX512-VNNI tier: the same code on 512-bit vectors that hold two
// quads of rows (groups of eight), with its integer products as the EVEX-encoded vpdpbusd / vpdpwssd; bit for bit
// the AVX2 tier's results, as each 256-bit half takes the narrow kernels' steps.
#define CK_GEMM_VNNI 1
#define CK_GEMM_WIDE 1
#define CK_FN CK_AVX512_VNNI_FN
#define CK_NAME(f) f##_avx512vnni
#define CK_DPBUSD _mm256_dpbusd_epi32
#define CK_DPWSSD _mm256_dpwssd_epi32
#include "ck_gemm_avx2.c"
