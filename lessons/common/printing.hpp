#pragma once
// Printing one example's computation, teacher forced with batch 1: the encoder's states,
// every decoder step with its scores, α, context, gates and top predictions, and α as a
// heatmap; and a model's held-out accuracy by source length. What is shown follows the
// Printer's --trace level.
#include <cstddef>
#include <string>
#include <string_view>

#include "stepgrad/data.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/svg.hpp"  // defines: Heatmap
#include "stepgrad/support/trace.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"  // defines: EvaluateOptions

namespace stepgrad {

// Every token of `vocab` ("source" or "target" says which side), wrapped to 80 columns:
// the specials on a line of their own, then the tokens a user can type, quoted.
void print_vocabulary(Printer& out, std::string_view side, const Vocab& vocab);
// h_i for every source token (and the gates, from --trace gates on; with full each gate's
// pre-activation, under the cell's equations), a line on the <eos> that ends the source,
// the keys a score computes once per source (qk's k_i from --trace gates, concat's W_h h_i
// with full), and below full the flag that shows more.
void print_encoder(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& src_vocab);
// Every decoder step (from --trace steps on), as print_decoder_step prints it, the loss
// on the example, and below full the flag that shows more.
void print_decoder_steps(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& src_vocab,
                         const Vocab& tgt_vocab);
// Decoder step j: what it reads and must predict, each e_{j,i} and α_{j,i} with its
// source token, the context, the new state and the three most probable next tokens (✗
// when the most probable is wrong). With --trace full also every number in between:
// each gate's pre-activation, the score's inner vectors, logits_j, softmax and −log p.
void print_decoder_step(Printer& out, Seq2Seq& model, const TraceRun& run, std::size_t j, const Vocab& src_vocab,
                        const Vocab& tgt_vocab);
// α of the run: a row per target token (what each step had to predict), a column per
// source token; no values when the model has no attention.
Heatmap alignment_heatmap(const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab);
// α as a heatmap: target tokens down, source tokens across.
void print_alignment(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab);
// α as a compact heatmap for long sources: one shade character per source position,
// doubled (no numbers), so a 40-token source fits in about 90 columns. Every 5th position
// is numbered; the source tokens head their columns when they fit in two (a final <eos>
// shows as ·), else they are listed underneath.
void print_alignment_compact(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab);
// Any α-like map (rows down, columns across): Printer::heatmap's when it fits in 80
// columns, else print_compact_heatmap's, headed by `compact_title` and the column count.
void print_fitted_heatmap(Printer& out, const Heatmap& map, std::string_view title, std::string_view compact_title);
// One shade character per column, doubled, as print_alignment_compact draws α.
void print_compact_heatmap(Printer& out, const Heatmap& map, std::string_view title);
// The sentence that says what shape α should take for `task` (reverse: the anti-diagonal).
std::string expected_alignment(std::string_view task);
// Held-out accuracy per source length, one row per length, decoded as `options` say
// (--beam, --length-penalty). Decoding resets the tape: tensors of an earlier run are gone
// afterwards.
void print_accuracy_by_length(Printer& out, Seq2Seq& model, const TaskGenerator& task, const EvaluateOptions& options);

}  // namespace stepgrad
