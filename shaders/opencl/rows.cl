/* Row-moving kernels: GET_ROWS, SET_ROWS and CPY, compiled per (source type STYPE,
 * destination type DTYPE), plain types chosen at run time (s_t, d_t). Each work-item
 * fills one destination block (DQK elements; one element for plain destinations): it
 * reads the DQK source values through load_row_elem, then writes them with quant_store.
 * Tensors are (buffer, byte offset, ne, nb). A row id out of range is skipped and
 * reported through err[0..1] (the host turns it into an error). This file is compiled
 * in one program with mul_mat.cl (the "typed" program of a type pair).
 */
inline long read_id(gcbytes ids, int is64, long4 nb, long i0, long i1, long i2) {
    gcbytes p = ids + elem_off(nb, i0, i1, i2, 0);
    if (is64) return (long)((ulong)rd_u32(p) | ((ulong)rd_u32(p + 4) << 32));
    return (long)(int)rd_u32(p);
}
inline void flag_bad_id(global int *err, long id) {
    err[0] = 1;
    err[1] = (int)id;
}

kernel void get_rows(gcbytes s, ulong s_off, long4 s_ne, long4 s_nb, int s_t,
                     gcbytes ids, ulong i_off, long4 i_ne, long4 i_nb, int ids64,
                     gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t, global int *err) {
    const long blk = get_global_id(0);
    const long r = get_global_id(1);
    const int dqk = dst_qk(d_t);
    if (blk * dqk >= d_ne.s0 || r >= d_ne.s1 * d_ne.s2 * d_ne.s3) return;
    const long i1 = r % d_ne.s1, i2 = (r / d_ne.s1) % d_ne.s2, i3 = r / (d_ne.s1 * d_ne.s2);
    const long id = read_id(ids + i_off, ids64, i_nb, i1, i2 % i_ne.s1, i3 % i_ne.s2);
    if (id < 0 || id >= s_ne.s1) { flag_bad_id(err, id); return; }
    gcbytes srow = s + s_off + elem_off(s_nb, 0, id, i2 % s_ne.s2, i3 % s_ne.s3);
    float v[DQK_MAX];
    for (int e = 0; e < dqk; e++) v[e] = load_row_elem(srow, blk * dqk + e, s_nb.s0, s_t);
    quant_store(d + d_off + elem_off(d_nb, blk, i1, i2, i3), v, d_t);
}

kernel void set_rows(gcbytes s, ulong s_off, long4 s_ne, long4 s_nb, int s_t,
                     gcbytes ids, ulong i_off, long4 i_ne, long4 i_nb, int ids64,
                     gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t, global int *err) {
    const long blk = get_global_id(0);
    const long r = get_global_id(1);
    const int dqk = dst_qk(d_t);
    if (blk * dqk >= d_ne.s0 || r >= s_ne.s1 * s_ne.s2 * s_ne.s3) return;
    const long i = r % s_ne.s1, i2 = (r / s_ne.s1) % s_ne.s2, i3 = r / (s_ne.s1 * s_ne.s2);
    const long id = read_id(ids + i_off, ids64, i_nb, i, i2 % i_ne.s1, i3 % i_ne.s2);
    if (id < 0 || id >= d_ne.s1) { flag_bad_id(err, id); return; }
    /* duplicate ids: the last source row wins, as in a sequential loop */
    for (long j = i + 1; j < s_ne.s1; j++)
        if (read_id(ids + i_off, ids64, i_nb, j, i2 % i_ne.s1, i3 % i_ne.s2) == id) return;
    gcbytes srow = s + s_off + elem_off(s_nb, 0, i, i2, i3);
    float v[DQK_MAX];
    for (int e = 0; e < dqk; e++) v[e] = load_row_elem(srow, blk * dqk + e, s_nb.s0, s_t);
    quant_store(d + d_off + elem_off(d_nb, blk, id, i2, i3), v, d_t);
}

/* Element order is kept: destination element L (row-major over d_ne) takes source
 * element L (row-major over s_ne). */
kernel void cpy(gcbytes s, ulong s_off, long4 s_ne, long4 s_nb, int s_t,
                gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t) {
    const long blk = get_global_id(0);
    const long r = get_global_id(1);
    const int dqk = dst_qk(d_t);
    if (blk * dqk >= d_ne.s0 || r >= d_ne.s1 * d_ne.s2 * d_ne.s3) return;
    const long i1 = r % d_ne.s1, i2 = (r / d_ne.s1) % d_ne.s2, i3 = r / (d_ne.s1 * d_ne.s2);
    float v[DQK_MAX];
    for (int e = 0; e < dqk; e++) {
        long4 c = unravel4(r * d_ne.s0 + blk * dqk + e, s_ne);
        gcbytes srow = s + s_off + elem_off(s_nb, 0, c.s1, c.s2, c.s3);
        v[e] = load_row_elem(srow, c.s0, s_nb.s0, s_t);
    }
    quant_store(d + d_off + elem_off(d_nb, blk, i1, i2, i3), v, d_t);
}
