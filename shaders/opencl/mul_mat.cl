/* MUL_MAT for weights of type STYPE: dst[i, j] = sum_k w[i, k] * x[j, k] per plane.
 *
 * prep_x gathers x (F32, any strides) into a contiguous float matrix, one column of k
 * values per (j, i2, i3), and rounds each value the way the CPU reference rounds
 * activations for this weight type (its partner type: F16, BF16, Q8_0/Q8_1 blocks of
 * 32, Q8_K blocks of 256, or none), so both compute the same products. Then weights are
 * dequantized element by element (DEQ, bit-exact with the C reference) and multiplied
 * in float:
 *  - mul_mat_vec: a work-group of VWG items per weight row and up to VNC columns; the
 *    items stride over k and the partial sums meet in local memory (small n);
 *    mul_mat_vec32 does the same in 32-element chunks when k allows;
 *  - mul_mat_tiled: 32x32 output tiles, 16x16 items with 2x2 outputs each, k in steps
 *    of TK through local-memory tiles of dequantized weights and x (larger n).
 * Planes broadcast as in ggml: x plane (i2, i3) uses weight plane (i2 / r2, i3 / r3).
 */
#define RND_NONE 0
#define RND_F16 1
#define RND_BF16 2
#define RND_Q8_0 3
#define RND_Q8_K 5

kernel void prep_x(gcbytes x, ulong x_off, long4 x_ne, long4 x_nb, global float *xs, int mode, int rb) {
    const long blk = get_global_id(0), col = get_global_id(1);
    const long k = x_ne.s0;
    if (blk * rb >= k || col >= x_ne.s1 * x_ne.s2 * x_ne.s3) return;
    const long j = col % x_ne.s1, i2 = (col / x_ne.s1) % x_ne.s2, i3 = col / (x_ne.s1 * x_ne.s2);
    gcbytes row = x + x_off + elem_off(x_nb, 0, j, i2, i3);
    global float *out = xs + col * k + blk * rb;
    const long e0 = blk * rb;
    if (mode == RND_Q8_0 || mode == RND_Q8_K) {
        float amax = 0.0f;
        for (int e = 0; e < rb; e++) amax = fmax(amax, fabs(as_float(rd_u32(row + (e0 + e) * x_nb.s0))));
        if (mode == RND_Q8_0) {
            float d = amax / 127.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            float dh = h2f(f2h(d));
            for (int e = 0; e < rb; e++) {
                float v = as_float(rd_u32(row + (e0 + e) * x_nb.s0)) * id;
                float q = isnan(v) ? 0.0f : clamp(round(v), -127.0f, 127.0f);
                out[e] = q * dh;
            }
        } else {
            float d = amax > 0.0f ? amax / 127.0f : 0.0f;
            float is = amax > 0.0f ? 127.0f / amax : 0.0f;
            for (int e = 0; e < rb; e++) {
                float v = is * as_float(rd_u32(row + (e0 + e) * x_nb.s0));
                float q = !(v > -127.0f) ? -127.0f : v >= 127.0f ? 127.0f : rint(v);
                out[e] = amax > 0.0f ? q * d : 0.0f;
            }
        }
        return;
    }
    for (int e = 0; e < rb; e++) {
        float v = as_float(rd_u32(row + (e0 + e) * x_nb.s0));
        if (mode == RND_F16) v = h2f(f2h(v));
        else if (mode == RND_BF16) v = bf2f(f2bf(v));
        out[e] = v;
    }
}

#define VWG 64
#define VNC 4

kernel __attribute__((reqd_work_group_size(VWG, 1, 1)))
void mul_mat_vec(gcbytes w, ulong w_off, long4 w_ne, long4 w_nb, int w_t, global const float *xs,
                 long n, long b2, gbytes d, ulong d_off, long4 d_nb, long r2, long r3) {
    local float sh[VNC][VWG];
    const long i = get_group_id(0);
    const long j0 = get_group_id(1) * VNC;
    const long plane = get_group_id(2);
    const int lid = get_local_id(0);
    const long i2 = plane % b2, i3 = plane / b2;
    const long k = w_ne.s0;
    gcbytes wrow = w + w_off + elem_off(w_nb, 0, i, i2 / r2, i3 / r3);
    const int nc = (int)min((long)VNC, n - j0);
    global const float *xc = xs + (plane * n + j0) * k;
    float acc[VNC] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (long e = lid; e < k; e += VWG) {
        const float wv = load_row_elem(wrow, e, w_nb.s0, w_t);
        for (int c = 0; c < VNC; c++)
            if (c < nc) acc[c] += wv * xc[c * k + e];
    }
    for (int c = 0; c < VNC; c++) sh[c][lid] = acc[c];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = VWG / 2; s > 0; s >>= 1) {
        if (lid < s)
            for (int c = 0; c < VNC; c++) sh[c][lid] += sh[c][lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid < nc) {
        global float *o = (global float *)(d + d_off + elem_off(d_nb, i, j0 + lid, i2, i3));
        *o = sh[lid][0];
    }
}

/* The same with whole 32-element chunks per work-item (k a multiple of 32): the
 * dequantizer's type dispatch and block lookup happen once per chunk. */
kernel __attribute__((reqd_work_group_size(VWG, 1, 1)))
void mul_mat_vec32(gcbytes w, ulong w_off, long4 w_ne, long4 w_nb, int w_t, global const float *xs,
                   long n, long b2, gbytes d, ulong d_off, long4 d_nb, long r2, long r3) {
    local float sh[VNC][VWG];
    const long i = get_group_id(0);
    const long j0 = get_group_id(1) * VNC;
    const long plane = get_group_id(2);
    const int lid = get_local_id(0);
    const long i2 = plane % b2, i3 = plane / b2;
    const long k = w_ne.s0;
    gcbytes wrow = w + w_off + elem_off(w_nb, 0, i, i2 / r2, i3 / r3);
    const int nc = (int)min((long)VNC, n - j0);
    global const float *xc = xs + (plane * n + j0) * k;
    float acc[VNC] = {0.0f, 0.0f, 0.0f, 0.0f};
    float wv[32];
    for (long c = lid; c < k / 32; c += VWG) {
        load_chunk32(wrow, c, w_nb.s0, w_t, wv);
        for (int cc = 0; cc < VNC; cc++) {
            if (cc >= nc) break;
            global const float *xp = xc + cc * k + 32 * c;
            float s = 0.0f;
            for (int j = 0; j < 32; j++) s += wv[j] * xp[j];
            acc[cc] += s;
        }
    }
    for (int c = 0; c < VNC; c++) sh[c][lid] = acc[c];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = VWG / 2; s > 0; s >>= 1) {
        if (lid < s)
            for (int c = 0; c < VNC; c++) sh[c][lid] += sh[c][lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid < nc) {
        global float *o = (global float *)(d + d_off + elem_off(d_nb, i, j0 + lid, i2, i3));
        *o = sh[lid][0];
    }
}

#define TM 32
#define TN 32
#define TK 16

kernel __attribute__((reqd_work_group_size(16, 16, 1)))
void mul_mat_tiled(gcbytes w, ulong w_off, long4 w_ne, long4 w_nb, int w_t, global const float *xs,
                   long n, long b2, gbytes d, ulong d_off, long4 d_nb, long r2, long r3) {
    local float ws[TK][TM + 1];
    local float xt[TK][TN + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int lin = ty * 16 + tx;
    const long row0 = get_group_id(0) * TM, col0 = get_group_id(1) * TN;
    const long plane = get_group_id(2);
    const long i2 = plane % b2, i3 = plane / b2;
    const long k = w_ne.s0, m = w_ne.s1;
    gcbytes wplane = w + w_off + elem_off(w_nb, 0, 0, i2 / r2, i3 / r3);
    global const float *xp = xs + plane * n * k;
    float acc[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};
    for (long k0 = 0; k0 < k; k0 += TK) {
        for (int t = lin; t < TK * TM; t += 256) {
            const int kk = t % TK, rr = t / TK;
            const long gi = row0 + rr, gk = k0 + kk;
            ws[kk][rr] = (gi < m && gk < k) ? load_row_elem(wplane + gi * w_nb.s1, gk, w_nb.s0, w_t) : 0.0f;
            const long gj = col0 + rr;
            xt[kk][rr] = (gj < n && gk < k) ? xp[gj * k + gk] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            const float a0 = ws[kk][tx], a1 = ws[kk][tx + 16];
            const float b0 = xt[kk][ty], b1 = xt[kk][ty + 16];
            acc[0][0] += a0 * b0;
            acc[0][1] += a0 * b1;
            acc[1][0] += a1 * b0;
            acc[1][1] += a1 * b1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            const long gi = row0 + tx + 16 * a, gj = col0 + ty + 16 * b;
            if (gi < m && gj < n) *(global float *)(d + d_off + elem_off(d_nb, gi, gj, i2, i3)) = acc[a][b];
        }
}
