// The tiled kernels of ck_gemm_avx2.c for the AVX-VNNI tier: the same code with its integer products as the
// VEX-encoded vpdpbusd / vpdpwssd, bit for bit the AVX2 tier's results.
#define CK_GEMM_VNNI 1
#define CK_GEMM_WIDE 0
#define CK_FN CK_AVX_VNNI_FN
#define CK_NAME(f) f##_avxvnni
#define CK_DPBUSD _mm256_dpbusd_avx_epi32
#define CK_DPWSSD _mm256_dpwssd_avx_epi32
#include "ck_gemm_avx2.c"
