#version 450
// Element-wise ADD, MUL (src1 broadcast by index modulo its shape), SCALE, SILU and GELU
// (tanh form). One invocation per unit of the destination (an element, or a block for
// quantized outputs); inputs of any readable type, computed in float.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#define V_SIZE 256
#define QB_SIZE 292
#include "common.glsl"
#include "types.glsl"
#include "store.glsl"

float apply(uint op, float x, float y) {
    switch (op) {
    case 1u: return x + y;
    case 2u: return x * y;
    case 3u: return x * PF(S_OP);
    case 10u: return x / (1.0 + exp(-x));
    case 11u: {
        float u = clamp(0.7978845608 * (x + 0.044715 * x * x * x), -15.0, 15.0);
        return 0.5 * x * (1.0 + tanh(u));
    }
    }
    return 0.0;
}

void main() {
    const uint td = TD, t0 = TS0, t1 = TS1, op = OPC;
    const uint U = type_qk(td), ne0 = NE(0u, 0u), ne1 = NE(0u, 1u), ne2 = NE(0u, 2u);
    const uint upr = ne0 / U, g = flat_id(64u);
    const uint r = g / upr, u = g % upr;
    if (r >= ne1 * ne2 * NE(0u, 3u)) return;
    const uint i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
    const uint ra = row_addr(0u, i1, i2, i3);
    const bool binary = op == 1u || op == 2u;
    uint rb = 0u, nb10 = NE(2u, 0u);
    if (binary) rb = row_addr(1u, i1 % NE(2u, 1u), i2 % NE(2u, 2u), i3 % NE(2u, 3u));
    for (uint j = 0u; j < U; j++) {
        uint i0 = u * U + j;
        float x = load_elem(0u, t0, ra, i0, NB(1u, 0u));
        float y = binary ? load_elem(1u, t1, rb, i0 % nb10, NB(2u, 0u)) : 0.0;
        V[j] = apply(op, x, y);
    }
    const uint da = row_addr(3u, i1, i2, i3) + (U == 1u ? u * NB(0u, 0u) : u * type_size(td));
    store_unit(td, da);
}
