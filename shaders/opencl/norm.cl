/* Row-wise kernels with a work-group per row: RMS_NORM, NORM and SOFT_MAX. The group's
 * work-items stride over the row and combine partial sums (in ACC) through local memory.
 * Semantics follow the CPU reference: NORM takes two passes (mean, then variance);
 * SOFT_MAX forms x*scale + mask in float, subtracts the row maximum (NaN anywhere makes
 * the row NaN, an all -inf row gives zeros) and normalises exp() sums.
 */
#define WG 64

inline ACC group_sum(local ACC *sh, ACC v) {
    const int lid = get_local_id(0);
    sh[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) sh[lid] += sh[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    ACC r = sh[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline void row_coords(long r, long4 ne, long *i1, long *i2, long *i3) {
    *i1 = r % ne.s1;
    *i2 = (r / ne.s1) % ne.s2;
    *i3 = r / (ne.s1 * ne.s2);
}

kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void norm_rows(gcbytes a, ulong a_off, long4 a_ne, long4 a_nb, int a_t,
               gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t, float eps, int rms) {
    local ACC sh[WG];
    const long r = get_group_id(1);
    const int lid = get_local_id(0);
    long i1, i2, i3;
    row_coords(r, d_ne, &i1, &i2, &i3);
    gcbytes x = a + a_off + elem_off(a_nb, 0, i1, i2, i3);
    gbytes o = d + d_off + elem_off(d_nb, 0, i1, i2, i3);
    const long n = d_ne.s0;
    ACC mean = 0;
    if (!rms) {
        ACC s = 0;
        for (long i = lid; i < n; i += WG) s += (ACC)load_plain(x + i * a_nb.s0, a_t);
        mean = group_sum(sh, s) / (ACC)n;
    }
    ACC sq = 0;
    for (long i = lid; i < n; i += WG) {
        ACC v = (ACC)load_plain(x + i * a_nb.s0, a_t) - mean;
        sq += v * v;
    }
    sq = group_sum(sh, sq);
    const ACC inv = (ACC)1 / sqrt(sq / (ACC)n + (ACC)eps);
    for (long i = lid; i < n; i += WG)
        store_plain(o + i * d_nb.s0, d_t, (float)(((ACC)load_plain(x + i * a_nb.s0, a_t) - mean) * inv));
}

kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void soft_max(gcbytes a, ulong a_off, long4 a_ne, long4 a_nb, int a_t,
              gcbytes m, ulong m_off, long4 m_ne, long4 m_nb, int m_t, int has_mask,
              gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t, float scale) {
    local ACC sh[WG];
    local int flags[WG];
    const long r = get_group_id(1);
    const int lid = get_local_id(0);
    long i1, i2, i3;
    row_coords(r, d_ne, &i1, &i2, &i3);
    gcbytes x = a + a_off + elem_off(a_nb, 0, i1, i2, i3);
    gcbytes mk = m + m_off + elem_off(m_nb, 0, i1, has_mask ? i2 % m_ne.s2 : 0, has_mask ? i3 % m_ne.s3 : 0);
    gbytes o = d + d_off + elem_off(d_nb, 0, i1, i2, i3);
    const long n = d_ne.s0;
    float mx = -INFINITY;
    int nan_seen = 0;
    for (long i = lid; i < n; i += WG) {
        float v = load_plain(x + i * a_nb.s0, a_t) * scale + (has_mask ? load_plain(mk + i * m_nb.s0, m_t) : 0.0f);
        if (isnan(v)) nan_seen = 1;
        else if (v > mx) mx = v;
    }
    /* maximum and NaN flag across the group */
    sh[lid] = (ACC)mx;
    flags[lid] = nan_seen;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            sh[lid] = fmax(sh[lid], sh[lid + s]);
            flags[lid] |= flags[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float rmax = flags[0] ? NAN : (float)sh[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (rmax == -INFINITY) {
        for (long i = lid; i < n; i += WG) store_plain(o + i * d_nb.s0, d_t, 0.0f);
        return;
    }
    ACC s = 0;
    for (long i = lid; i < n; i += WG) {
        float v = load_plain(x + i * a_nb.s0, a_t) * scale + (has_mask ? load_plain(mk + i * m_nb.s0, m_t) : 0.0f);
        s += exp((ACC)v - (ACC)rmax);
    }
    const ACC inv = (ACC)1 / group_sum(sh, s);
    for (long i = lid; i < n; i += WG) {
        float v = load_plain(x + i * a_nb.s0, a_t) * scale + (has_mask ? load_plain(mk + i * m_nb.s0, m_t) : 0.0f);
        store_plain(o + i * d_nb.s0, d_t, (float)(exp((ACC)v - (ACC)rmax) * inv));
    }
}
