/* Internal to the NEON tiled mat-mat (simd_neon_gemm*.c): the packed layouts of the weight
 * panels and the activation columns, and the per-type description.
 *
 * Everything is built around SDOT by element (vdotq_laneq_s32): a 16-byte weight vector
 * holds four consecutive k values ("a quad") of each of four rows, row r in bytes
 * 4r..4r+3, and the activation column is kept in natural order, so one 16-byte load of a
 * column holds four quads and lane q of it selects quad q. One SDOT by element thus adds
 * four products to each of four rows for one column; the register tile is NEON_GR = 8
 * rows (two row groups of 4) x NEON_GC = 4 columns, and per 16 values of k it loads 8
 * weight and 4 activation vectors for 32 SDOTs.
 *
 * All levels are stored as signed int8 in their true value (Q4_0 q - 8, Q3_K q - 4, ...),
 * so no offset corrections are needed. A panel holds CPU_GEMM_ROWS rows as NEON_TILES
 * tiles of 8 rows; tile t is k * 8 bytes of levels (16 values of k = 128 bytes: quads
 * 4i..4i+3, each as row group 0 then row group 1) followed by the metadata: per block of
 * 32 (legacy types) a neon_lmeta, per super-block of 256 (K-quants) a neon_kmeta. Rows
 * past the last real one have zero levels and zero scales (a tile without any real row
 * is neither packed nor read).
 *
 * A packed activation column is its k int8 quants, then the per-block floats: legacy
 * (Q8_0 / Q8_1): d[k/32] then s[k/32]; K-quants (Q8_K): d[k/256] then, per super-block,
 * sixteen int16 sums of 16 quants (the types with eight mins of 32: eight sums of 32).
 */
#ifndef QG_CPU_GEMM_NEON_LAYOUT_H
#define QG_CPU_GEMM_NEON_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

#define NEON_GR 8 /* weight rows of the register tile */
#define NEON_GC 4 /* activation columns of the register tile */
#define NEON_TILES (CPU_GEMM_ROWS / NEON_GR)

/* Legacy weights, per block of 32 and tile: block scales (and type-1 mins) of 8 rows. */
typedef struct neon_lmeta {
    float d[NEON_GR];
    float m[NEON_GR];
} neon_lmeta;

/* K-quants, per super-block and tile: the integer sub-block scales and mins of 8 rows
 * (sub-block s of 16; types with sub-blocks of 32 use s = 0..7), d and dmin as doubles. */
typedef struct neon_kmeta {
    int32_t sc[16][NEON_GR];
    int16_t mn[16][NEON_GR];
    double d[NEON_GR];
    double dmin[NEON_GR];
} neon_kmeta;

/* How a type's super-block (or block) is finished. */
typedef enum {
    NEON_LEGACY,     /* block-32 types: float sum of (int dot) * d_w * d_y, Q8_0 partner */
    NEON_LEGACY_MIN, /* Q4_1, Q5_1: plus m_w * s_y per block, Q8_1 partner */
    NEON_K_MIN16,    /* Q2_K: sixteen sub-blocks of 16 with mins */
    NEON_K_MIN32,    /* Q4_K, Q5_K: eight sub-blocks of 32 with mins */
    NEON_K_SC16,     /* Q3_K, Q6_K: sixteen sub-blocks of 16, no mins */
    NEON_K_SC32,     /* IQ4_XS: eight sub-blocks of 32, no mins */
} neon_finish;

/* Expand unit u (legacy: block of 32; K-quant: super-block) of one weight row into its
 * signed levels in natural order, plus row r's fields of the tile's metadata. */
typedef void (*neon_expand_fn)(const void *row, int64_t u, int8_t *lev, void *meta, int r);

struct cpu_gemm {
    qg_type type;
    neon_finish finish;
    neon_expand_fn expand;
};

static inline int neon_is_k(neon_finish f) { return f >= NEON_K_MIN16; }

/* Bytes of one tile: levels, then the metadata of every unit (the larger of the two
 * kinds, so the size depends on k only). */
static inline size_t neon_tile_meta_bytes(int64_t k) {
    const size_t l = (size_t)(k / 32) * sizeof(neon_lmeta), q = (size_t)((k + 255) / 256) * sizeof(neon_kmeta);
    return l > q ? l : q;
}
static inline size_t neon_tile_bytes(int64_t k) { return (size_t)k * NEON_GR + neon_tile_meta_bytes(k); }

/* Packed column: quants, then d (and s or the block sums). */
static inline size_t neon_x_bytes(int64_t k) {
    const size_t l = (size_t)k + (size_t)(k / 32) * 2 * sizeof(float);
    const size_t q = (size_t)k + (size_t)((k + 255) / 256) * (sizeof(float) + 16 * sizeof(int16_t));
    const size_t b = l > q ? l : q;
    return (b + 63) / 64 * 64;
}

/* The NEON type table and kernels (simd_neon_gemm_pack.c, simd_neon_gemm.c). */
const struct cpu_gemm *neon_gemm_type(qg_type weight);
void neon_gemm_run(const struct cpu_gemm *g, const void *panel, int rows, int64_t k, const void *x, size_t xs,
                   int64_t ncols, char *out, size_t ldo);
extern const cpu_gemm_fns cpu_neon_gemm_fns;

#endif
