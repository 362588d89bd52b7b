#pragma once
// Exercise 03 — one GRU step from its equations (extends lesson 03; compare GruCell in src/cells.cpp).
//
// With the ops of ops.hpp and the weights of a stepgrad GRU cell (W_ih, W_hh, b_ih, b_hh: each
// gate's H rows stacked r, z, n), compute for a batch x: (B, In), h: (B, H) → h': (B, H)
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)        z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))        h' = (1 − z) ⊙ n + z ⊙ h
// Hint: linear(x, gru.W_ih, gru.b_ih) gives all three W_i* x + b_i* side by side, (B, 3H);
// slice_cols(…, k·H, H) picks gate k.
//
// Your tests: ctest --test-dir build/learner -R "exercise 03"   (README, "Exercises")
#include <stdexcept>

#include "stepgrad/cells.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

inline Tensor gru_step([[maybe_unused]] Cell& gru, [[maybe_unused]] Tensor x, [[maybe_unused]] Tensor h) {
    throw std::logic_error("exercise 03: write gru_step in tests/exercises/03_gru_step.hpp");
}

}  // namespace stepgrad::exercises
