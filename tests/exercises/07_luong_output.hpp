#pragma once
// Exercise 07 — Luong's attentional hidden state (extends lesson 06, --decoder luong; compare
// Seq2Seq::decoder_step in src/seq2seq.cpp).
//
// After attending, a Luong decoder mixes its state s_j and the context c_j into what the output
// layer reads:   h̃_j = tanh(W_c [s_j; c_j])     s, c: (B, H); W_c: (H, 2H) → h̃: (B, H)
// W_c is stored (out, in), like every stepgrad weight: each row of [s; c] is multiplied by W_cᵀ.
//
// Your tests: ctest --test-dir build/learner -R "exercise 07"   (README, "Exercises")
#include <stdexcept>

#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

inline Tensor luong_attentional([[maybe_unused]] Tensor s, [[maybe_unused]] Tensor context,
                                [[maybe_unused]] Tensor W_c) {
    throw std::logic_error("exercise 07: write luong_attentional in tests/exercises/07_luong_output.hpp");
}

}  // namespace stepgrad::exercises
