#pragma once
// Alignment accuracy (SPEC §11) as a lesson prints it: how often the largest α of each
// held-out target token falls on its gold source position, and how often one position
// late, with a sentence on what the two numbers say about the encoder.
#include <optional>

#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"  // defines: AlignmentAccuracy

namespace stepgrad {

// "alignment accuracy on 500 held-out examples (3120 aligned target tokens): 41.2 % on
// the gold position, 93.5 % one position late (gold + 1) — …", wrapped to 80 columns,
// the closing words chosen from the numbers and the encoder; `accuracy` is none for a
// plain model, for which it says that there is no α to measure.
void print_alignment_accuracy(Printer& out, const ModelConfig& config, const std::optional<AlignmentAccuracy>& accuracy);

}  // namespace stepgrad
