#pragma once
// Lesson 09's machinery: greedy decoding against beam search on held-out sentences (accuracy,
// BLEU with its parts, time per sentence), the beam of one sentence drawn as a tree, the
// sentence where beam search mends a greedy mistake, the models trained with scheduled
// sampling for the exposure-bias table, the verdicts worded from the measured numbers, and
// the figures as JSON (format "stepgrad-decoding/1"). The lesson keeps what it explains;
// this file keeps the bookkeeping.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "common/training.hpp"
#include "stepgrad/bleu.hpp"
#include "stepgrad/decode.hpp"
#include "stepgrad/support/print.hpp"

namespace stepgrad {

// ---- greedy against beam search ----

// One way of decoding the held-out sentences, and what it scored.
struct DecoderRun {
    int beam_width = 1;         // K; 1 is greedy decoding
    double length_penalty = 0;  // a
    Accuracy accuracy;          // with the predictions and, for a word-level task, BLEU's counts
    double ms_per_sentence = 0;  // decoding one sentence at a time
    double batched_ms_per_sentence = 0;  // greedy only: in evaluate()'s batches of 100
};

// Every width K with a = 0, then every K > 1 with a = `penalty` (none when it is 0), each
// scored on `examples` by evaluate() and timed one sentence at a time. Resets the tape.
std::vector<DecoderRun> compare_decoders(Seq2Seq& model, std::span<const Example> examples, const Vocab& target,
                                         const std::vector<int>& widths, double penalty);
// The runs of one task, for --json.
struct TaskDecoders {
    std::string task;
    std::vector<DecoderRun> runs;
};
// The other word-level task the decoders are compared on: translate for en-zh and zh-en,
// en-zh for translate; none for a character-level task.
std::optional<std::string> other_word_task(const std::string& task);
// A fresh model of `flags` trained with scheduled sampling P (1: teacher forcing) without
// printing, progress on stderr headed by `label`. Its accuracy is left unmeasured.
Trained train_quietly(const LessonFlags& flags, double P, const std::string& label);
// One row per run: K, a, whole sentences and tokens right, BLEU (word-level tasks). No times:
// they vary from run to run, and stdout does not (timing_words says them, for stderr).
Table decoder_table(const std::vector<DecoderRun>& runs);
// Beam search against greedy, worded from the numbers: where it helped, where it did not,
// what the length penalty changed, and whether BLEU and exact match rank two runs alike.
std::string decoder_verdict(const std::vector<DecoderRun>& runs);
// What a sentence costs, beam against greedy (one sentence at a time), and that it varies.
std::string timing_words(const std::vector<DecoderRun>& runs);

// ---- BLEU, taken apart ----

// p_n = matched / total for n = 1..4, c, r, BP and BLEU = 100 · BP · exp(¼ Σ log p_n),
// recomputed from those counts, so a learner can redo it.
void print_bleu_parts(Printer& out, const BleuScore& score);
// The held-out sentence whose wrong prediction BLEU likes best: exact match scores it 0,
// sentence BLEU above 0. None when no wrong prediction has a BLEU above 0.
struct PartialCredit {
    std::size_t index;
    BleuScore sentence;
};
std::optional<PartialCredit> partial_credit(std::span<const Example> examples, const DecoderRun& run,
                                            const Vocab& target);

// ---- one sentence ----

// The held-out example to trace: the shortest that `beam` gets right and `greedy` wrong,
// else the first greedy gets wrong, else the first.
struct Showcase {
    std::size_t index = 0;
    bool beam_mends_greedy = false;
};
Showcase pick_showcase(std::span<const Example> examples, const DecoderRun& greedy, const DecoderRun& beam);
// The beam of one search as a tree: from <bos>, each kept prefix with its extensions of the
// next step that ranked among the 2K most probable — kept, finished (<eos>) or pruned —
// each with its log p and score = log p / lp(n); the best finished one marked. How many
// other extensions each step pruned is said below the tree.
void print_beam_tree(Printer& out, const BeamResult& beam, int beam_width, const Vocab& target);

// ---- exposure bias ----

// A model trained with scheduled sampling P, and how it does fed its own tokens and fed the gold ones.
struct ExposureRun {
    double teacher_forcing = 1;  // P
    Trained trained;             // its held-out accuracy with greedy decoding (and BLEU)
    double forced_token_accuracy = 0;  // argmax of logits_j = y_j when fed the gold y_{j−1}
    double forced_loss = 0;            // the mean token loss fed the gold y_{j−1}
    bool finished = false;       // trained every step (not stopped by Ctrl-C)
};
// One model per P, from the same seed, data and budget as `flags` (two at a time on
// threads, progress on stderr). `main`, trained with flags.teacher_forcing, is reused for
// that P when it was trained here (not loaded). A stop signal ends the runs in progress:
// those not finished say so.
std::vector<ExposureRun> train_exposure(const LessonFlags& flags, const std::vector<double>& probabilities,
                                        Trained main);
// One row per P: the late training loss, token accuracy fed the gold prefix and fed its own,
// whole sentences right and BLEU, with greedy decoding.
Table exposure_table(const std::vector<ExposureRun>& runs);
// Did scheduled sampling help under this budget, and how large the exposure-bias gap is.
std::string exposure_verdict(const std::vector<ExposureRun>& runs);

// ---- the figures ----

// --json: the settings, every decoder run of each task (with BLEU's counts and its time),
// and every exposure run, format "stepgrad-decoding/1".
void write_decoding_json(const std::string& path, const LessonFlags& flags, const std::vector<TaskDecoders>& decoders,
                         const std::vector<ExposureRun>& exposure);

}  // namespace stepgrad
