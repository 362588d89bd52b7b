#pragma once
// Exercise 04 — an LSTM without a forget gate (extends lesson 03; compare LstmCell in src/cells.cpp).
//
// With the weights of a stepgrad LSTM cell (each gate's H rows stacked i, f, g, o; leave f's
// rows unused), compute one step of the 1997 LSTM, which had no forget gate:
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)   g = tanh(W_ig x + …)   o = σ(W_io x + …)
//   c' = c + i ⊙ g        h' = o ⊙ tanh(c')
// Its tests then measure why it fails on long sequences: nothing ever takes anything out of c.
//
// Your tests: ctest --test-dir build/learner -R "exercise 04"   (README, "Exercises")
#include <stdexcept>

#include "stepgrad/cells.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// x: (B, In), state.h and state.c: (B, H) → the new h' and c'.
inline CellState lstm_no_forget_step([[maybe_unused]] Cell& lstm, [[maybe_unused]] Tensor x,
                                     [[maybe_unused]] const CellState& state) {
    throw std::logic_error("exercise 04: write lstm_no_forget_step in tests/exercises/04_lstm_no_forget.hpp");
}

}  // namespace stepgrad::exercises
