#pragma once
// The machinery of lesson 08, which trains forward-only and bidirectional attention
// models under one budget and compares where their α falls: its command line, the models
// trained side by side on threads, the tables and the verdicts worded from the measured
// numbers, and the results as JSON (format "stepgrad-bidirectional/1"). The lesson keeps
// what it explains; encoders.hpp prints one source read both ways.
#include <cstdint>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "common/training.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/json.hpp"
#include "stepgrad/support/print.hpp"

namespace stepgrad {

// Lesson 08's command line: the model and training flags every model shares, and what
// to compare. `tasks` is read from `tasks_text` by the Cli check.
struct BidirectionalFlags {
    LessonFlags shared;
    std::string tasks_text = "reverse,translate,en-zh";
    std::vector<std::string> tasks;
    int seeds = 4;                         // the first task over this many seeds (1: not at all)
    std::string layers_task = "translate";  // the task of 1 against `layers` layers
    int layers = 2;
    bool quick = false;
    int jobs = 2;
};

// Registers --tasks, --cell, --seed, the sizes and training flags, --held-out, --seeds,
// --layers-task, --layers, --quick, --jobs, --json, --color and --trace, with a check that
// applies --quick and refuses unknown or repeated tasks, a task that cannot make the
// held-out examples, sizes that do not fit in memory and a --json that cannot be written.
void add_bidirectional_flags(Cli& cli, BidirectionalFlags& flags);

// One model of the lesson: the task it learns, its encoder and its seed.
struct EncoderModel {
    std::string task;
    bool bidirectional = false;
    int layers = 1;
    std::uint64_t seed = 1;
    bool operator==(const EncoderModel&) const = default;
};
// "forward", "bidirectional", "bidirectional, 2 layers"
std::string encoder_name(const EncoderModel& model);

// Every model the lesson trains: per task forward and bidirectional at --seed; the first
// task's two at each further seed; the layers task's bidirectional model with --layers
// layers (and with one, when that task is not in --tasks).
std::vector<EncoderModel> lesson_models(const BidirectionalFlags& flags);

struct ModelRun {
    EncoderModel model;
    Trained trained;  // trained every step and evaluated (a stop signal throws instead)
    // Alignment accuracy with each target's final <eos> left out: its gold position is the
    // source's <eos>, which a bidirectional model's last words have read too (←h).
    AlignmentAccuracy without_eos{};
};

// Trains every model, `jobs` at a time, each on its own thread with its own task, model
// and generator (progress on stderr, labelled), so the numbers do not depend on --jobs.
// Throws the first failure, naming the model that diverged, and Interrupted after a stop
// signal (Ctrl-C).
std::vector<ModelRun> train_models(const LessonFlags& shared, const std::vector<EncoderModel>& models, int jobs);
// The run of `model`; throws std::logic_error when it was not trained.
const ModelRun& run_of(const std::vector<ModelRun>& runs, const EncoderModel& model);

// The example whose α the lesson shows: the first held-out one of at most 8 tokens and
// its <eos> (the first, when none is that short), so that a map fits on the screen.
const Example& shown_example(const TaskGenerator& task);

// α of one held-out example (shown_example, the same for every run of one task and
// seed), teacher forced through each run's model: the example once, then per model a
// title with how many of its rows peak on the gold position and one place late, and the
// heatmap (from --trace steps on). Appends each map, as alignment_json makes it with the
// task and the gold positions (0-based, per target token) added, to `alignments`. Resets
// the tape.
void print_alpha_maps(Printer& out, const std::vector<const ModelRun*>& runs, Json& alignments);

// A row per run: its encoder, parameters, held-out tokens and whole sequences right, and
// how often its largest α falls on the gold source position and one place late.
Table comparison_table(const std::vector<const ModelRun*>& runs);
// What the forward and the bidirectional model of one task measured, in words: where
// each one's α falls, whether the shift of a forward encoder went away, where it falls
// without the targets' <eos>, and accuracy.
std::string task_verdict(const ModelRun& forward, const ModelRun& bidirectional);
// A row per seed: both models' α on gold and one late, and their whole sequences right.
Table seed_table(const std::vector<ModelRun>& runs, const BidirectionalFlags& flags);
// How often, over the seeds, the forward model's α is mostly one late and the
// bidirectional one's is on gold.
std::string seed_verdict(const std::vector<ModelRun>& runs, const BidirectionalFlags& flags);
// One layer against more: what changed, in words.
std::string layers_verdict(const ModelRun& one, const ModelRun& deeper);

// --json: the settings, every run's accuracies and alignment accuracies, and the α maps
// the lesson showed (`alignments`, as alignment_json makes them).
void write_bidirectional_json(const std::string& path, const BidirectionalFlags& flags, const std::vector<ModelRun>& runs,
                              const Json& alignments);

}  // namespace stepgrad
