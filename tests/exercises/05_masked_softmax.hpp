#pragma once
// Exercise 05 — masked softmax, attention over a padded batch (extends lesson 05; compare attend()
// in src/attention.cpp).
//
// Row b of scores holds e_{b,1} … e_{b,m}; mask[b·m + i] != 0 marks a padded source position.
// Return α with α_{b,i} = e^(e_{b,i}) / Σ_{k not padded} e^(e_{b,k}), and α_{b,i} = 0 exactly where
// padded, so every row still sums to 1 (each row has at least one real position). The usual way:
// give padded scores −∞ before the softmax (masked_fill, softmax in ops.hpp), since e^−∞ = 0.
//
// Your tests: ctest --test-dir build/learner -R "exercise 05"   (README, "Exercises")
#include <span>
#include <stdexcept>

#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// scores: (B, m), mask: B·m flags (1 = padding) → α: (B, m)
inline Tensor masked_softmax([[maybe_unused]] Tensor scores, [[maybe_unused]] std::span<const int> mask) {
    throw std::logic_error("exercise 05: write masked_softmax in tests/exercises/05_masked_softmax.hpp");
}

}  // namespace stepgrad::exercises
