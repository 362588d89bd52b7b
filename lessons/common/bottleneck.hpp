#pragma once
// The machinery of lesson 07, which trains several models at several source lengths
// and compares them: its command line, the models trained side by side on threads, the
// tables and the verdicts worded from the measured numbers, and the results as CSV and
// JSON (format "stepgrad-bottleneck/1") for notebooks and plots. The lesson keeps what
// it explains; this file keeps the bookkeeping (gradient_flow.hpp measures and prints
// the gradient that reaches each h_i).
#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "common/training.hpp"
#include "common/transformer.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/json.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/svg.hpp"  // defines: Heatmap
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

// A model of the comparison: "plain", the name of an attention score, or "transformer".
struct Contender {
    std::string name;
    int heads = 2;  // the Transformer's h (--transformer-heads); the RNN models ignore it
    bool plain() const { return name == "plain"; }
    bool transformer() const { return name == "transformer"; }
    // An RNN whose decoder attends over the encoder states h_i: one α per step, and
    // ‖∂L/∂h_i‖ by position (the Transformer has neither).
    bool attention() const { return !plain() && !transformer(); }
};

// Lesson 07's command line: the model and training flags every model shares, and what
// to compare. `lengths` and `models` are read from the text flags by the Cli check.
struct BottleneckFlags {
    LessonFlags shared;
    std::string lengths_text;  // --lengths; the task's default_lengths unless given
    std::string models_text = "plain,concat,qk-scaled";
    std::string csv;
    std::string svg;
    bool quick = false;
    int jobs = 2;
    int scaling_attn = 64;     // --scaling-attn: A of qk against qk-scaled; 0 leaves that out
    int transformer_heads = 2; // --transformer-heads: h of the transformer model
    std::vector<int> lengths;  // sorted, each once
    std::vector<Contender> models;
};

// Registers --task, --lengths, --models, --cell, --decoder, --seed, the sizes and
// training flags, --held-out, --quick, --jobs, --scaling-attn, --transformer-heads,
// --csv, --json, --svg, --color and --trace, with a check that applies --quick and the
// task's default lengths, and refuses lengths the task cannot make, --csv/--json/--svg
// that cannot be written or name one file, --svg when no model has attention, and a
// transformer model that --hidden, --transformer-heads or --teacher-forcing rule out.
void add_bottleneck_flags(Cli& cli, BottleneckFlags& flags);

// The flags of one contender: the shared ones, with its decoder and score (for the
// Transformer, decoder "transformer" and score "qk-scaled": its heads' scores are
// (Q_i K_iᵀ) / √d_k).
LessonFlags flags_for(const LessonFlags& shared, const Contender& model);
// The transformer contender's sizes under the shared budget. d_model = H, so that its
// states are as wide as the RNNs' h_i; h = model.heads (default 2); N = 1 layer (not
// --layers, which stacks the RNNs); d_ff = 2·d; pre norm. Every training flag is shared.
TransformerFlags transformer_flags(const LessonFlags& shared, const Contender& model);
// "transformer: a pre-norm Transformer, d = 16, …": its sizes and why, for section 1.
std::string transformer_sentence(const LessonFlags& shared, const Contender& model, int length);
// A contender's parameter count (the vocabularies, and so the sizes, do not depend on
// the length).
std::size_t parameter_count(const LessonFlags& shared, const Contender& model, int length);

// One model trained at one length.
struct LengthRun {
    int length;
    std::size_t model;  // index into the contenders
    // The task, the training and the held-out accuracy of every contender; the model itself
    // when it is an RNN (the Transformer's is `transformer`, and `alignment` stays empty).
    Trained trained;
    std::unique_ptr<Transformer> transformer{};
    bool finished = false;  // trained to the last step and evaluated (not stopped, not skipped)
    // ‖∂L/∂h_i‖ for i = 1..m (m = length + 1, the <eos> too), once finished: the mean over
    // the first held-out examples (gradient_flow.hpp); none for the Transformer, which has
    // no recurrent h_i
    std::vector<double> gradient_norms{};
};

// Every contender trained at every length.
struct Comparison {
    std::vector<int> lengths;
    std::vector<Contender> models;
    std::vector<LengthRun> runs;  // length by length, the models in order within each
    bool interrupted = false;     // a stop signal ended the training: some runs may not have finished
    const LengthRun& at(std::size_t l, std::size_t k) const { return runs[l * models.size() + k]; }
};

// Trains every model at every length, `jobs` at a time, each on its own thread (progress
// on stderr), and measures the gradient each finished model sends back to its encoder
// states. Throws the first failure, naming the model that diverged. A stop signal
// (Ctrl-C) stops the runs in progress at a step boundary and starts no other: the
// comparison is then `interrupted`, and the runs that finished before keep their results.
Comparison train_comparison(const LessonFlags& shared, const std::vector<int>& lengths,
                            const std::vector<Contender>& models, int jobs);

// The mean training loss over the last 10% of the steps.
double late_loss(const TrainResult& result);
// The mean training loss over every step: how fast a model learned, as one number.
double mean_loss(const TrainResult& result);
// One row per length, one column per model: the late loss, or the held-out accuracy of
// whole sequences (`whole`) or of target tokens; "—" for a run that did not finish.
Table loss_table(const Comparison& comparison);
Table accuracy_table(const Comparison& comparison, bool whole);
// SPEC §11's alignment accuracy of each RNN attention model by length: "on gold / one late".
Table alignment_table(const Comparison& comparison);
// After a stop signal: prints the accuracy of the models that finished and names those
// that did not, then throws Interrupted (run_lesson exits with 128 + the signal, 130 for
// Ctrl-C).
[[noreturn]] void report_interrupted(Printer& out, const Comparison& comparison);
// The conclusion, worded from the measured numbers: every model at the longest length,
// and how far the plain model fell and the others are from it there.
std::string bottleneck_verdict(const Comparison& comparison);

// α at the longest length (section 4): one held-out source teacher forced through each RNN
// attention model, its map (compact for a long source), then how often each model's largest
// α falls on the gold source position. Returns the maps: `json` for --json, `pictures` for --svg.
struct AlignmentMaps {
    Json json = Json::Array{};
    std::vector<Heatmap> pictures;
};
AlignmentMaps print_alignment_maps(Printer& out, const Comparison& comparison, const std::string& task);

// qk against qk-scaled, trained alike at one length with a larger A (section 6). From the
// same initial weights qk's first decoder step's scores are exactly √A times qk-scaled's.
struct ScalingComparison {
    int attn;                              // A
    Comparison runs;                       // qk, then qk-scaled, at one length
    std::array<double, 2> initial_spread;  // the standard deviation of e_{1,i} at step 0
};
// Trains both as train_comparison does (Ctrl-C leaves `runs` interrupted); the spread is
// measured on the first held-out sources, teacher forced through the untrained models.
ScalingComparison train_scaling(const LessonFlags& shared, int length, int attn, int jobs);
// One row per model: its score spread at step 0, its training loss over every step (how
// fast it learned) and over the last 10%, and its held-out accuracy.
Table scaling_table(const ScalingComparison& scaling);
// Which learned better, or faster when both score alike, worded from those numbers.
std::string scaling_verdict(const ScalingComparison& scaling);

// One α map for --json: the model, the length, the tokens and α row by row.
Json alignment_json(const std::string& model, int length, const Example& example, const TraceRun& run,
                    const Vocab& src_vocab, const Vocab& tgt_vocab);
// --csv: one row per length and model; after its accuracy and loss, its ‖∂L/∂h_i‖ in
// columns grad_norm_1 … grad_norm_M (M = the longest length + 1), empty past its own m
// (and, like the alignment columns, empty for the Transformer).
void write_bottleneck_csv(const std::string& path, const LessonFlags& shared, const Comparison& comparison);
// --json: the settings, the models (the Transformer with its sizes), the results (each
// with its "gradient_norms", null for the Transformer), the loss curves, the α maps, and
// "scaling": qk against qk-scaled, with A, the length, each one's σ(e_{1,i}) at step 0 in
// "initial_score_std", and results and losses as above (null when there is none).
void write_bottleneck_json(const std::string& path, const LessonFlags& shared, const Comparison& comparison,
                           const Json& alignments, const ScalingComparison* scaling);

}  // namespace stepgrad
