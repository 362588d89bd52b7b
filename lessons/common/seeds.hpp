#pragma once
// The seeds' own illustrations set beside what a trained model computed. Seed 000 writes
// the decoder's update with one matrix, s_j = tanh(A' [x'_j; s_{j−1}; c_j] + b). Seed 004 draws
// α for "Tom chases Jerry" → "汤姆 追逐 杰瑞" by hand:
//            Tom  chases  Jerry
//   汤姆     0.6    0.2    0.2
//   追逐     0.2    0.7    0.1
//   杰瑞     0.3    0.1    0.5
// and, in §2.5, α of a summariser as a picture: "russian defense minister ivanov called
// sunday for the creation of a joint front for combating global terrorism" → "russia calls
// for joint front against terrorism".
#include <string_view>
#include <vector>

#include "stepgrad/data.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

// True for a SimpleRNN bahdanau decoder: its update (layer 1's, when stacked) is the one
// seed 000 writes as s_j = tanh(A' [x'_j; s_{j−1}; c_j] + b).
bool has_seed_000_decoder_form(const ModelConfig& config);
// Seed 000's form run on the traced example in plain doubles — A' = [W_ih's E embedding
// columns, W_hh, W_ih's H_k context columns], b = b_ih + b_hh, from s_0 and each step's c_j —
// and max_k |s_j(seed 000) − s_j(cell)| for j = 1..n (of layer 1's s). Empty when the form
// does not apply.
std::vector<double> seed_000_decoder_differences(Seq2Seq& model, const TraceRun& run);
// What A' is, A' and b, the difference at every step and the largest (--trace none: only
// the largest). Prints nothing unless has_seed_000_decoder_form.
void print_seed_000_decoder_update(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& tgt_vocab);

// For task en-zh traced on "Tom chases Jerry" (and only then): the model's α for the three
// words beside seed 004's, then what the numbers say — where each row's largest α falls
// in both, and how sharp the rows are. Prints nothing for any other run.
void compare_with_seed_004(Printer& out, std::string_view task, const TraceRun& run, const Vocab& src_vocab,
                           const Vocab& tgt_vocab);

// For task headline traced on seed 004's summarisation sentence (and only then): what the
// model's α does with the 17 words, from its numbers — the source words it skips (α summed
// over the headline words below headline_skip_below) beside those the headline's rule drops,
// the merges (a headline word made of several source words: how its α spreads over them)
// and the paraphrases (a headline word the source does not contain: where its α went).
// Prints nothing for any other run.
// Skipped: α summed over the headline words below a tenth of one word's whole attention.
inline constexpr double headline_skip_below = 0.1;
void describe_headline_attention(Printer& out, std::string_view task, const TraceRun& run, const Vocab& src_vocab,
                                 const Vocab& tgt_vocab);

}  // namespace stepgrad
