#pragma once
// Exercise 03, reference solution: one GRU step from its equations (lesson 03).
#include "stepgrad/cells.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

inline Tensor gru_step(Cell& gru, Tensor x, Tensor h) {
    const int H = gru.hidden_size();
    const Tensor from_x = linear(x, gru.W_ih, gru.b_ih);  // W_i* x + b_i*: (B, 3H), gates r, z, n
    const Tensor from_h = linear(h, gru.W_hh, gru.b_hh);  // W_h* h + b_h*: (B, 3H)
    // r = σ(W_ir x + b_ir + W_hr h + b_hr)
    const Tensor r = sigmoid(add(slice_cols(from_x, 0, H), slice_cols(from_h, 0, H)));
    // z = σ(W_iz x + b_iz + W_hz h + b_hz)
    const Tensor z = sigmoid(add(slice_cols(from_x, H, H), slice_cols(from_h, H, H)));
    // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    const Tensor n = tanh(add(slice_cols(from_x, 2 * H, H), mul(r, slice_cols(from_h, 2 * H, H))));
    // h' = (1 − z) ⊙ n + z ⊙ h
    const Tensor one_minus_z = sub(full(z.rows(), z.cols(), 1.0), z);
    return add(mul(one_minus_z, n), mul(z, h));
}

}  // namespace stepgrad::exercises
