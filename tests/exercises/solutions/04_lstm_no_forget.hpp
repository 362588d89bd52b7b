#pragma once
// Exercise 04, reference solution: an LSTM without a forget gate (lesson 03).
#include "stepgrad/cells.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

inline CellState lstm_no_forget_step(Cell& lstm, Tensor x, const CellState& state) {
    const int H = lstm.hidden_size();
    // every gate's W_i* x + b_i* + W_h* h + b_h*, stacked i, f, g, o: (B, 4H); f is never read
    const Tensor pre = add(linear(x, lstm.W_ih, lstm.b_ih), linear(state.h, lstm.W_hh, lstm.b_hh));
    // i, o = σ(…)   g = tanh(…)
    const Tensor i = sigmoid(slice_cols(pre, 0, H));
    const Tensor g = tanh(slice_cols(pre, 2 * H, H));
    const Tensor o = sigmoid(slice_cols(pre, 3 * H, H));
    // c' = c + i ⊙ g: c only ever accumulates
    const Tensor c = add(state.c, mul(i, g));
    // h' = o ⊙ tanh(c')
    return {mul(o, tanh(c)), c};
}

}  // namespace stepgrad::exercises
