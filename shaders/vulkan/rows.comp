#version 450
// Row movement: CPY (element order kept between any shapes, converting types),
// GET_ROWS (gather rows picked by I32/I64 ids into the destination type) and SET_ROWS
// (scatter source rows to destination rows; with duplicate ids the last source row wins,
// as the reference's sequential loop). Bad ids are reported through report_error().
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#define V_SIZE 256
#define QB_SIZE 292
#include "common.glsl"
#include "types.glsl"
#include "store.glsl"

// Id at (i0, i1, i2) of the ids tensor in slot 1 (bufs[1]); -1 when it does not fit an int.
int read_id(uint i0, uint i1, uint i2) {
    uint a = P(S_OFF + 1u) + i0 * NB(2u, 0u) + i1 * NB(2u, 1u) + i2 * NB(2u, 2u);
    int lo = int(rd32(1u, a));
    if (TS1 == T_I32) return lo;
    int hi = int(rd32(1u, a + 4u));
    return (hi == 0 && lo >= 0) ? lo : -1;
}

void main() {
    const uint td = TD, t0 = TS0, mode = OPC;
    const uint U = type_qk(td);
    const uint g = flat_id(64u);
    // The grid walks destination units (CPY, GET_ROWS) or source units (SET_ROWS).
    const uint gs = mode == 13u ? 1u : 0u;
    const uint ne0 = NE(gs, 0u), ne1 = NE(gs, 1u), ne2 = NE(gs, 2u);
    const uint upr = ne0 / U, r = g / upr, u = g % upr;
    if (r >= ne1 * ne2 * NE(gs, 3u)) return;
    const uint i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
    uint d1 = i1;
    if (mode == 12u) {
        const uint s0 = NE(1u, 0u), s1 = NE(1u, 1u), s2 = NE(1u, 2u);
        for (uint j = 0u; j < U; j++) {
            uint L = r * ne0 + u * U + j;
            uint j0 = L % s0, q = L / s0;
            uint j1 = q % s1, j2 = (q / s1) % s2, j3 = q / (s1 * s2);
            V[j] = load_elem(0u, t0, row_addr(0u, j1, j2, j3), j0, NB(1u, 0u));
        }
    } else if (mode == 5u) {
        int id = read_id(i1, i2 % NE(2u, 1u), i3 % NE(2u, 2u));
        if (id < 0 || uint(id) >= NE(1u, 1u)) { report_error(); return; }
        uint ra = row_addr(0u, uint(id), i2 % NE(1u, 2u), i3 % NE(1u, 3u));
        for (uint j = 0u; j < U; j++) V[j] = load_elem(0u, t0, ra, u * U + j, NB(1u, 0u));
    } else {
        const uint k1 = i2 % NE(2u, 1u), k2 = i3 % NE(2u, 2u);
        int id = read_id(i1, k1, k2);
        if (id < 0 || uint(id) >= NE(0u, 1u)) { report_error(); return; }
        for (uint i = i1 + 1u; i < ne1; i++)
            if (read_id(i, k1, k2) == id) return; // a later row overwrites this one
        d1 = uint(id);
        uint ra = row_addr(0u, i1, i2, i3);
        for (uint j = 0u; j < U; j++) V[j] = load_elem(0u, t0, ra, u * U + j, NB(1u, 0u));
    }
    const uint da = row_addr(3u, d1, i2, i3) + (U == 1u ? u * NB(0u, 0u) : u * type_size(td));
    store_unit(td, da);
}
