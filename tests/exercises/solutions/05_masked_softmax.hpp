#pragma once
// Exercise 05, reference solution: masked softmax (lesson 05).
#include <limits>
#include <span>

#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// α = softmax(e with −∞ at padded positions): e^−∞ = 0, so a padded position gets α = 0 exactly
// and takes no part in the sum; masked_fill also passes no gradient to a padded score.
// (Multiplying α by the mask after the softmax instead would leave rows summing to less than 1.)
inline Tensor masked_softmax(Tensor scores, std::span<const int> mask) {
    return softmax(masked_fill(scores, mask, -std::numeric_limits<double>::infinity()));
}

}  // namespace stepgrad::exercises
