#pragma once
// The machinery of lesson 07, which trains several models at several source lengths
// and compares them: its command line, the models trained side by side on threads, the
// tables and the verdict worded from the measured numbers, and the results as CSV and
// JSON (format "stepgrad-bottleneck/1") for notebooks and plots. The lesson keeps what
// it explains; this file keeps the bookkeeping.
#include <cstddef>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "common/training.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/json.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

// A model of the comparison: "plain", or the name of an attention score.
struct Contender {
    std::string name;
    bool plain() const { return name == "plain"; }
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
    std::vector<int> lengths;  // sorted, each once
    std::vector<Contender> models;
};

// Registers --task, --lengths, --models, --cell, --decoder, --seed, the sizes and
// training flags, --held-out, --quick, --jobs, --csv, --json, --svg, --color and --trace,
// with a check that applies --quick and the task's default lengths, and refuses lengths
// the task cannot make, --csv/--json/--svg that cannot be written or name one file, and
// --svg when no model has attention.
void add_bottleneck_flags(Cli& cli, BottleneckFlags& flags);

// The flags of one contender: the shared ones, with its decoder and score.
LessonFlags flags_for(const LessonFlags& shared, const Contender& model);
// Its parameter count (the vocabularies, and so the sizes, do not depend on the length).
std::size_t parameter_count(const LessonFlags& model_flags, int length);

// One model trained at one length.
struct LengthRun {
    int length;
    std::size_t model;  // index into the contenders
    Trained trained;
    bool finished = false;  // trained to the last step and evaluated (not stopped, not skipped)
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
// on stderr). Throws the first failure, naming the model that diverged. A stop signal
// (Ctrl-C) stops the runs in progress at a step boundary and starts no other: the
// comparison is then `interrupted`, and the runs that finished before keep their results.
Comparison train_comparison(const LessonFlags& shared, const std::vector<int>& lengths,
                            const std::vector<Contender>& models, int jobs);

// The mean training loss over the last 10% of the steps.
double late_loss(const TrainResult& result);
// One row per length, one column per model: the late loss, or the held-out accuracy of
// whole sequences (`whole`) or of target tokens; "—" for a run that did not finish.
Table loss_table(const Comparison& comparison);
Table accuracy_table(const Comparison& comparison, bool whole);
// After a stop signal: prints the accuracy of the models that finished and names those
// that did not, then throws Interrupted (run_lesson exits with 128 + the signal, 130 for
// Ctrl-C).
[[noreturn]] void report_interrupted(Printer& out, const Comparison& comparison);
// The conclusion, worded from the measured numbers: every model at the longest length,
// and how far the plain model fell and the others are from it there.
std::string bottleneck_verdict(const Comparison& comparison);

// One α map for --json: the model, the length, the tokens and α row by row.
Json alignment_json(const std::string& model, int length, const Example& example, const TraceRun& run,
                    const Vocab& src_vocab, const Vocab& tgt_vocab);
// --csv: one row per length and model.
void write_bottleneck_csv(const std::string& path, const LessonFlags& shared, const Comparison& comparison);
// --json: the settings, the models, the results, the loss curves and the α maps.
void write_bottleneck_json(const std::string& path, const LessonFlags& shared, const Comparison& comparison,
                           const Json& alignments);

}  // namespace stepgrad
