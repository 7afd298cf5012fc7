/* Internal to the tiled mat-mat of the CPU backend (simd_avx2_gemm*.c): the packed
 * layouts that the weight panels and the activation columns share.
 *
 * Both sides are cut into groups of 256 elements along k. Inside a group, the 256 int8
 * values are stored interleaved so that one 256-bit vector (32 bytes) j = 0..7 holds, in
 * its int16 lane p = 0..15, elements 16p + 2j and 16p + 2j + 1. After the eight maddubs of
 * a group, int16 lane p has summed the products of elements 16p..16p+15 (a K-quant
 * sub-block of 16, half a sub-block of 32), and a madd with per-lane multipliers turns that
 * into int32 lane s = elements 32s..32s+31 (one legacy block of 32, one sub-block of 32).
 * A k that is not a multiple of 256 (legacy types) is padded with zero levels and zero
 * scales, which contribute exact zeros.
 *
 * A panel holds CPU_GEMM_ROWS weight rows as GEMM_TILES tiles of GEMM_R rows; tile t,
 * group g stores its GEMM_R x 256 levels contiguously (the kernel walks a tile's groups in
 * order), then all the per-row, per-group metadata (gemm_wmeta) follow the levels.
 */
#ifndef QG_CPU_GEMM_LAYOUT_H
#define QG_CPU_GEMM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

#define GEMM_GROUP 256
#define GEMM_R 4 /* weight rows of the register tile */
#define GEMM_C 2 /* activation columns of the register tile */
#define GEMM_TILES (CPU_GEMM_ROWS / GEMM_R)
#define GEMM_NB 128 /* columns whose running sums a panel keeps (a column block) */
#define GEMM_KG 2 /* groups per k-chunk: a chunk of the panel and of a column pair stay in L1 */

/* One packed activation group (any partner type; unused fields stay zero). */
typedef struct gemm_xgroup {
    int8_t q[GEMM_GROUP]; /* interleaved quants */
    float d[8];           /* Q8_0 / Q8_1: the eight block scales; Q8_K: d[0] */
    union {
        struct {
            union {
                int32_t ysum[8];  /* legacy: the weight type's level offset times the block's quant sum */
                int16_t bs32[16]; /* Q8_K for GEMM_K_MIN32: the eight sums of 32 quants (then zeros) */
            };
            float s[8];           /* Q8_1: the blocks' s (d * sum of quants, as stored) */
        };
        /* Q8_K for GEMM_O32: -32 times the sum of elements 16p + 8h .. 16p + 8h + 7 in lane p
         * of init[h], the starting value of the int16 sums of round h (steps 4h..4h+3) */
        int16_t init[2][16];
    };
    int16_t bs[16];       /* Q8_K: the sixteen sums of 16 quants */
} gemm_xgroup;

/* Per weight row and group. */
typedef struct gemm_wmeta {
    int16_t mul[16];  /* madd multiplier of each int16 lane: sub-block scales, or 1
                       * (GEMM_K_SC32: the eight sub-block scales, then zeros) */
    int16_t mins[16]; /* K-quants: multipliers of the activation's bsums (GEMM_K_MIN32: of
                       * its bs32, the eight sub-block mins twice) */
    union {
        float d[8];     /* legacy: block scales */
        double kd[4];   /* K-quants: d, d, dmin, dmin (dmin 0 for the offset types) */
    };
    float m[8];       /* legacy type-1: block mins */
} gemm_wmeta;

_Static_assert(sizeof(gemm_xgroup) == 384, "packed activation group");
_Static_assert(sizeof(gemm_wmeta) == 128, "weight group metadata");

static inline int64_t gemm_groups(int64_t k) { return (k + GEMM_GROUP - 1) / GEMM_GROUP; }

/* Levels of tile t, group g (GEMM_R rows of 256 bytes). */
static inline uint8_t *gemm_panel_levels(void *panel, int64_t groups, int t, int64_t g) {
    return (uint8_t *)panel + ((size_t)t * (size_t)groups + (size_t)g) * GEMM_R * GEMM_GROUP;
}

/* Metadata of tile t, group g (GEMM_R consecutive records). */
static inline gemm_wmeta *gemm_panel_meta(void *panel, int64_t groups, int t, int64_t g) {
    gemm_wmeta *base = (gemm_wmeta *)((uint8_t *)panel + (size_t)CPU_GEMM_ROWS * (size_t)groups * GEMM_GROUP);
    return base + ((size_t)t * (size_t)groups + (size_t)g) * GEMM_R;
}

/* After the metadata: the running sums of the panel's rows against GEMM_NB columns,
 * 32 bytes per row and column (legacy: 8 float lanes; K-quants: one double). */
static inline char *gemm_panel_acc(void *panel, int64_t groups) {
    return (char *)panel + (size_t)CPU_GEMM_ROWS * (size_t)groups * (GEMM_GROUP + sizeof(gemm_wmeta));
}

static inline size_t gemm_panel_bytes(int64_t k) {
    return (size_t)CPU_GEMM_ROWS * ((size_t)gemm_groups(k) * (GEMM_GROUP + sizeof(gemm_wmeta)) + GEMM_NB * 32);
}

/* Where element e (0..255, natural order) of a group goes in the interleaved layout. */
static inline int gemm_slot(int e) {
    const int p = e / 16, r = e % 16;
    return 32 * (r / 2) + 2 * p + (r % 2);
}

/* The kind of weight-side expansion, kernel and finishing step of one type. */
/* GEMM_K_MIN32: K_MIN with one min per 32 elements (Q4_K, Q5_K), whose min sums of two
 * columns fit one madd. */
/* GEMM_K_SC32: type-0 K-quant with one signed scale per 32 elements (IQ4_XS), applied to
 * the SIGNED kernel's int32 sums (mul[0..7]), no offset. GEMM_K0: type-0 K-quant whose
 * kernel took the offset out already (GEMM_O32). */
typedef enum { GEMM_LEGACY, GEMM_LEGACY_MIN, GEMM_K_MIN, GEMM_K_MIN32, GEMM_K_OFF, GEMM_K_SC32, GEMM_K0 } gemm_finish;
/* Weight levels unsigned <= 15, 31, 63, 127, or signed (the kernels of simd_avx2_gemm.c);
 * GEMM_O32: levels <= 63 stored as level + 32, the int16 sums starting from the
 * activation's init (Q6_K). */
typedef enum { GEMM_U16, GEMM_U31, GEMM_U63, GEMM_U127, GEMM_SIGNED, GEMM_O32 } gemm_kernel;

/* Expand group g of one weight row into 256 levels in natural order plus metadata. */
typedef void (*gemm_expand_fn)(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *meta);

struct cpu_gemm {
    qg_type type;
    gemm_kernel kernel;
    gemm_finish finish;
    int offset;             /* legacy: levels are stored plus this (ysum carries the correction) */
    gemm_expand_fn expand;
    int min_cols;           /* fewest activation columns for the tiled path (cpu_gemm_fns.min_cols) */
};
typedef struct cpu_gemm gemm_type;

/* The type descriptions (simd_avx2_gemm_pack.c); NULL for types without a tiled path. */
const gemm_type *gemm_type_get(qg_type weight);
/* The function table handed out through cpu_simd_fns.gemm (simd_avx2_gemm_pack.c). */
extern const cpu_gemm_fns cpu_avx2_gemm_fns;
/* Pack one partner-type row (Q8_0, Q8_1 or Q8_K) into gemm_groups(k) groups. */
void gemm_pack_x(const gemm_type *t, const void *xq, int64_t k, gemm_xgroup *dst);
/* Expand rows (<= CPU_GEMM_ROWS; the rest of the panel is zero) into a panel. */
void gemm_pack_w(const gemm_type *t, const void *w, size_t nb1, int rows, int64_t k, void *panel);
/* The kernels (simd_avx2_gemm.c): out[j * ldo + i] for the first `rows` rows of the
 * panels at panel, panel + ps, ... (rows > CPU_GEMM_ROWS: several panels run together,
 * so each activation chunk loaded serves all of their tiles). */
void gemm_run(const gemm_type *t, const void *panel, size_t ps, int rows, int64_t k, const gemm_xgroup *x,
              size_t xs, int64_t ncols, char *out, size_t ldo);

#endif
