#pragma once
// Exercise 09 — fix the bug: attention over a padded batch (lesson 05; compare attend() in
// src/attention.cpp).
//
// A batch holds sources of different lengths: the shorter ones are padded, and mask[b·m + i] = 1
// marks a padded position of example b. Attention must spread over the real positions only:
//   e_{b,i} = score(h_i, s_b)
//   α_{b,i} = exp(e_{b,i}) / Σ_{k not padded} exp(e_{b,k}) at a real position, exactly 0 at a padded one
//   c_b     = Σ_i α_{b,i} h_i
// The code below runs, and α is 0 at every padded position, yet a sentence batched with longer ones
// gets a different α and context than it gets alone. What is wrong: the mask is applied AFTER the
// softmax, so the padded positions' scores still sit in the softmax's denominator and the real
// positions' weights sum to less than 1. Fix that one line.
//
// Your tests: ctest --test-dir build/learner -R "exercise 09"   (README, "Exercises")
#include <span>
#include <vector>

#include "stepgrad/attention.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// keys: the encoder states (and the score's keys) of a (B, m) batch; s: (B, H) the decoder's query
// state; mask: B·m flags, 1 at padding (empty when nothing is padded).
inline AttentionStep attend_padded(Score& score, const AttentionKeys& keys, Tensor s, std::span<const int> mask) {
    AttentionStep step;
    step.query = score.query(s);
    // e_{b,i} = score(h_i, s_b): (B, m)
    step.scores = score.scores(keys.keys, step.query);
    // α = softmax over the real positions
    std::vector<double> real(mask.size());
    for (std::size_t k = 0; k < mask.size(); ++k) real[k] = mask[k] ? 0.0 : 1.0;
    step.alpha = mask.empty() ? softmax(step.scores)
                              : mul(softmax(step.scores), constant(step.scores.rows(), step.scores.cols(), real));
    // c_b = Σ_i α_{b,i} h_i
    step.context = blocks_weighted_sum(step.alpha, keys.states);
    return step;
}

}  // namespace stepgrad::exercises
