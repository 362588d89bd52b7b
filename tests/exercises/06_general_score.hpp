#pragma once
// Exercise 06 — Luong's `general` score on blocks (extends lesson 06, --score general; compare
// GeneralScore in src/attention.cpp).
//
// For every example b and every encoder state h_{b,i} at once, compute
//   e_{b,i} = s_bᵀ W h_{b,i}        states: (B, m·H) blocks, row b = h_{b,1} … h_{b,m} side by side;
//                                   s: (B, H); W: (H, H)  →  e: (B, m)
// blocks_dot(blocks, query) gives blocks[b, i]ᵀ query[b]; which query q_b makes q_bᵀ h_{b,i} = s_bᵀ W h_{b,i}?
//
// Your tests: ctest --test-dir build/learner -R "exercise 06"   (README, "Exercises")
#include <stdexcept>

#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

inline Tensor general_score([[maybe_unused]] Tensor states, [[maybe_unused]] Tensor s, [[maybe_unused]] Tensor W) {
    throw std::logic_error("exercise 06: write general_score in tests/exercises/06_general_score.hpp");
}

}  // namespace stepgrad::exercises
