#pragma once
// Exercise 09, reference solution: attention over a padded batch (lesson 05).
#include <limits>
#include <span>

#include "stepgrad/attention.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

inline AttentionStep attend_padded(Score& score, const AttentionKeys& keys, Tensor s, std::span<const int> mask) {
    AttentionStep step;
    step.query = score.query(s);
    // e_{b,i} = score(h_i, s_b): (B, m)
    step.scores = score.scores(keys.keys, step.query);
    // The mask goes BEFORE the softmax: a padded score becomes −∞, e^−∞ = 0, so it takes no part in
    // the sum and gets α = 0 exactly. Multiplying α by the mask afterwards zeroes the padded weights
    // but leaves their e^(e_{b,i}) in the denominator: the real weights then sum to less than 1.
    const Tensor masked = mask.empty() ? step.scores : masked_fill(step.scores, mask, -std::numeric_limits<double>::infinity());
    step.alpha = softmax(masked);
    // c_b = Σ_i α_{b,i} h_i
    step.context = blocks_weighted_sum(step.alpha, keys.states);
    return step;
}

}  // namespace stepgrad::exercises
