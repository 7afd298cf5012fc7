/* Element-wise kernels: ADD and MUL (src1 broadcast by index modulo its shape), SCALE,
 * SILU and GELU (tanh form). One work-item per output element; inputs and output may
 * be any plain float type (ids as in common.cl, chosen at run time) with any strides.
 * SILU and GELU are evaluated in ACC (double where the device has it), like the CPU
 * reference, and rounded once.
 */
kernel void binary(gcbytes a, ulong a_off, long4 a_ne, long4 a_nb, int a_t,
                   gcbytes b, ulong b_off, long4 b_ne, long4 b_nb, int b_t,
                   gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t, int is_mul) {
    const long i0 = get_global_id(0), r = get_global_id(1);
    if (i0 >= d_ne.s0 || r >= d_ne.s1 * d_ne.s2 * d_ne.s3) return;
    const long i1 = r % d_ne.s1, i2 = (r / d_ne.s1) % d_ne.s2, i3 = r / (d_ne.s1 * d_ne.s2);
    float x = load_plain(a + a_off + elem_off(a_nb, i0, i1, i2, i3), a_t);
    float y = load_plain(b + b_off + elem_off(b_nb, i0 % b_ne.s0, i1 % b_ne.s1, i2 % b_ne.s2, i3 % b_ne.s3), b_t);
    store_plain(d + d_off + elem_off(d_nb, i0, i1, i2, i3), d_t, is_mul ? x * y : x + y);
}

#define UN_SCALE 0
#define UN_SILU 1
#define UN_GELU 2

kernel void unary(gcbytes a, ulong a_off, long4 a_ne, long4 a_nb, int a_t,
                  gbytes d, ulong d_off, long4 d_ne, long4 d_nb, int d_t, int kind, float s) {
    const long i0 = get_global_id(0), r = get_global_id(1);
    if (i0 >= d_ne.s0 || r >= d_ne.s1 * d_ne.s2 * d_ne.s3) return;
    const long i1 = r % d_ne.s1, i2 = (r / d_ne.s1) % d_ne.s2, i3 = r / (d_ne.s1 * d_ne.s2);
    float x = load_plain(a + a_off + elem_off(a_nb, i0, i1, i2, i3), a_t);
    ACC v = (ACC)x;
    float o;
    if (kind == UN_SCALE) {
        o = x * s;
    } else if (kind == UN_SILU) {
        o = (float)(v / ((ACC)1 + exp(-v)));
    } else {
        const ACC c = (ACC)0.79788456080286535588;
        o = (float)((ACC)0.5 * v * ((ACC)1 + tanh(c * (v + (ACC)0.044715 * v * v * v))));
    }
    store_plain(d + d_off + elem_off(d_nb, i0, i1, i2, i3), d_t, o);
}
