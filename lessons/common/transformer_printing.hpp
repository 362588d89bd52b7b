#pragma once
// Lesson 10's printing: one example through a trained Transformer (SPEC §14), teacher
// forced with batch 1, sub-layer by sub-layer, in the symbols of the equations:
//
//   X = src_embed[x]·√d + PE                  the input rows, one per position p (from 0)
//   per layer and sub-layer (pre):  μ, σ² of LN(x) per position; every head i's
//     Q_i, K_i, V_i (columns (i−1)·d_k + 1 … i·d_k of Q, K, V), Q_i K_iᵀ/√d_k with −∞
//     where masked, α_i as a heatmap; the residual stream x after the sub-layer
//   (post: the same sub-layer on x, then μ, σ² of x + f(x) and the new x = LN(x + f(x)))
//
// What shows follows --trace: none prints no step; steps the statistics, α heatmaps and
// the residual stream; gates (the default) each head's Q, K, V and scores too; full every
// parameter the example uses (labelled with SPEC §14's names, one row per line), the PE
// rows, LN(x), α's numbers, each head_i = α_i V_i, the MHA and FFN outputs and their sums,
// the logits, p and −log p — every number uncut, so that each can be redone by hand from
// the screen (tests/redo_from_stdout.py does).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/transformer.hpp"
#include "stepgrad/data.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/transformer_trace.hpp"  // defines: TransformerTraceRun

namespace stepgrad {

// PE[p, 2k] = sin(p / 10000^{2k/d}), PE[p, 2k+1] = cos(p / 10000^{2k/d}) for p = 0 … positions − 1:
// a table of the first two and the last column pairs, and each pair's wavelength.
void print_positional_encoding(Printer& out, int d, int positions);

// With --trace full: every parameter the run uses, once, as the header describes (the
// embedding rows of the tokens it reads; each weight matrix a row per line, W_Q[k] making
// column k of Q; output.W a row per target token). Below full, one line saying so.
void print_transformer_parameters(Printer& out, Transformer& model, const TransformerTraceRun& run,
                                  const Vocab& src_vocab, const Vocab& tgt_vocab);

// The encoder: X, then each layer's two sub-layers, then memory (pre: LN(x)).
void print_transformer_encoder(Printer& out, Transformer& model, const TransformerTraceRun& run, const Vocab& src_vocab);
// The decoder: Y, each layer's masked self-attention, cross-attention and FFN, the final
// norm (pre), then per position the top predictions (with full: logits, p and −log p) and the loss.
void print_transformer_decoder(Printer& out, Transformer& model, const TransformerTraceRun& run, const Vocab& src_vocab,
                               const Vocab& tgt_vocab);

// Each cross-attention head's α of the run as a heatmap: a row per target token (what that
// position must predict, as lesson 05's α), a column per source token.
void print_cross_attention_maps(Printer& out, const TransformerTraceRun& run, const Vocab& src_vocab,
                                const Vocab& tgt_vocab);

// How often each cross-attention head's largest α (teacher forced) falls on the gold
// source position of the target token, and one position late (SPEC §11's measure).
struct HeadAlignment {
    int layer = 0;  // from 0, as decoder.N
    int head = 0;   // from 1, as head_i; 0 for the mean of the layer's heads
    double on_gold = 0;
    double one_late = 0;
};
struct CrossAlignment {
    int examples = 0;            // examples with a gold alignment
    long aligned_tokens = 0;
    std::vector<HeadAlignment> heads;
};
// Over the examples' aligned target tokens, one teacher-forced pass each. Resets the tape.
CrossAlignment cross_attention_alignment(Transformer& model, std::span<const Example> examples);
// The table and a sentence worded from it, beside what lesson 05's concat attention does.
void print_cross_alignment(Printer& out, const CrossAlignment& alignment, const std::string& task);

// Footnote 4 in this model: the spread of q·k = Q_i K_iᵀ entries before and after ÷√d_k,
// over every head and attention of the run.
void print_model_score_spread(Printer& out, const Transformer& model, const TransformerTraceRun& run);

// The example decoded on its own: greedy (the argmax fed back) and a beam of `beam_width`,
// each with its log p; the beam's finished hypotheses ranked. Resets the tape.
void print_decodings(Printer& out, Transformer& model, const Example& example, int beam_width, double length_penalty,
                     const Vocab& tgt_vocab);

// --json: the Transformer trace (transformer_trace.hpp) of the run with the evaluation.
void write_transformer_lesson_trace(const TransformerFlags& flags, TrainedTransformer& trained,
                                    const TransformerTraceRun& run);

}  // namespace stepgrad
