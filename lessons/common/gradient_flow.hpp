#pragma once
// How much of the loss's gradient reaches each encoder state h_i of a trained model
// (lesson 07, section 5): seed 002 §5's claim that attention eases vanishing gradients,
// as numbers.
//
//   plain      L → s_n → … → s_1 → s_0 = h_m → h_{m−1} → … → h_i     every step can shrink it
//   attention  L → logits_j → c_j = Σ_i α_{j,i} h_i → h_i             one step, for every j
#include <span>
#include <vector>

#include "common/bottleneck.hpp"
#include "stepgrad/data.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"

namespace stepgrad {

// The held-out examples each run is measured on (fewer when --held-out is smaller).
inline constexpr int gradient_examples = 32;

// ‖∂L_b/∂h_i‖ by source position i = 1..m, the mean over the examples b; L_b is example
// b's mean token loss, teacher forced, and h_i the encoder's top-layer state. Every
// example must have m source tokens. Resets the tape, and leaves the parameters'
// gradients at zero (they are not the training's to keep).
std::vector<double> gradient_norms_by_position(Seq2Seq& model, std::span<const Example> examples);

// Section 5 of lesson 07, from each finished run's gradient_norms: ‖∂L/∂h_i‖ of every
// recurrent model (the Transformer has no h_i, and no column) by source position at the longest length (a selection of positions when m > 12,
// unless the trace is full) and what that says about h_1, worded from the numbers; then
// ‖∂L/∂h_1‖ / ‖∂L/∂h_m‖ of every run, which a model's loss does not scale.
void print_gradient_flow(Printer& out, const Comparison& comparison);

}  // namespace stepgrad
