/* ROPE: one work-item per element index of a row (one head of one token). Items below
 * n_dims/2 rotate their pair (adjacent pairs in NORMAL mode, halves in NEOX mode) by
 * theta = pos * freq_scale * freq_base^(-2i/n_dims), evaluated in ACC; items past n_dims
 * copy their value. The position of a row is pos[i2] (I32 or I64).
 */
kernel void rope(gcbytes a, ulong a_off, long4 a_ne, long4 a_nb, int a_t,
                 gcbytes p, ulong p_off, long p_nb0, int p64,
                 gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t,
                 int n_dims, int neox, float base, float fscale) {
    const long i0 = get_global_id(0), r = get_global_id(1);
    if (i0 >= d_ne.s0 || r >= d_ne.s1 * d_ne.s2 * d_ne.s3) return;
    const long i1 = r % d_ne.s1, i2 = (r / d_ne.s1) % d_ne.s2, i3 = r / (d_ne.s1 * d_ne.s2);
    gcbytes x = a + a_off + elem_off(a_nb, 0, i1, i2, i3);
    gbytes o = d + d_off + elem_off(d_nb, 0, i1, i2, i3);
    const int half_ = n_dims / 2;
    if (i0 >= 2 * half_) {
        store_plain(o + i0 * d_nb.s0, d_t, load_plain(x + i0 * a_nb.s0, a_t));
        return;
    }
    if (i0 >= half_) return;
    gcbytes pp = p + p_off + i2 * p_nb0;
    long pos = p64 ? (long)((ulong)rd_u32(pp) | ((ulong)rd_u32(pp + 4) << 32)) : (long)(int)rd_u32(pp);
    const ACC theta = (ACC)pos * (ACC)fscale * pow((ACC)base, (ACC)(-2.0f * (float)i0) / (ACC)n_dims);
    const ACC c = cos(theta), s = sin(theta);
    const long j0 = neox ? i0 : 2 * i0, j1 = neox ? i0 + half_ : 2 * i0 + 1;
    const ACC x0 = load_plain(x + j0 * a_nb.s0, a_t), x1 = load_plain(x + j1 * a_nb.s0, a_t);
    store_plain(o + j0 * d_nb.s0, d_t, (float)(x0 * c - x1 * s));
    store_plain(o + j1 * d_nb.s0, d_t, (float)(x0 * s + x1 * c));
}
