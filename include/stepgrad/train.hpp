#pragma once
// Learning: the training loop with its progress line (teacher forced, or with scheduled
// sampling), held-out evaluation with greedy decoding or beam search (decode.hpp), and how
// often α falls on the gold alignment. The optimizers are in optim.hpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "stepgrad/bleu.hpp"
#include "stepgrad/model.hpp"
#include "stepgrad/optim.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad {

// ---- evaluation ----
struct Accuracy {
    int examples = 0;
    double token_accuracy = 0;     // target positions predicted right / target tokens
    double sequence_accuracy = 0;  // whole targets predicted exactly / examples
    // Corpus BLEU-4 in [0, 100] (bleu.hpp) of the predictions against the targets, on the
    // tokens as the task writes them (up to <eos>); only for a word-level target vocabulary.
    std::optional<double> bleu;
    std::optional<BleuScore> bleu_counts;  // the same BLEU with its n-gram counts, c, r and BP
    std::vector<std::vector<int>> predictions;  // the ids decoded for each example, <eos> included
};
struct EvaluateOptions {
    int batch_size = 100;
    int beam_width = 1;             // K: 1 is greedy decoding (Model::greedy_decode)
    double length_penalty = 0;      // a of lp(n) = ((5 + n) / 6)^a, for K > 1
    const Vocab* target = nullptr;  // the task's target vocabulary: BLEU when it is word level
};
// Decodes every example (greedily in batches, or by beam search one at a time) and scores
// the predictions. Resets the tape.
Accuracy evaluate(Model& model, std::span<const Example> examples, const EvaluateOptions& options = {});
Accuracy evaluate(Model& model, std::span<const Example> examples, int batch_size);

// ---- alignment ----
// Does α look where the gold alignment says (SPEC §11)? Teacher forced, over the target
// tokens y_j whose gold positions G_j (Example::alignment, 0-based) are not empty:
//   î_j = argmax_i α_{j,i} over the example's own source positions (padding never wins;
//         equal maxima: the first)
//   accuracy         = #{j : î_j ∈ G_j} / #{j : G_j ≠ ∅}
//   shifted_accuracy = #{j : î_j − 1 ∈ G_j} / #{j : G_j ≠ ∅}      (gold + 1)
// The shifted version is there because a forward encoder's h_{i+1} still holds x_i, so a
// unidirectional model's α often sits one place late; a bidirectional encoder mends it.
// A token aligned to nothing (的, 了, ka, a date's '-') counts in neither; an example
// without an alignment is skipped.
struct AlignmentAccuracy {
    int examples = 0;            // examples with a gold alignment
    long aligned_tokens = 0;     // #{j : G_j ≠ ∅}, over those examples
    double accuracy = 0;         // 0 when no token is aligned
    double shifted_accuracy = 0;
};
// Teacher-forced forward passes of `batch_size` examples at a time. Resets the tape.
// Throws std::invalid_argument for a model without attention (a plain decoder has no α),
// a batch size below 1, or an alignment whose length is not its target's.
AlignmentAccuracy alignment_accuracy(Seq2Seq& model, std::span<const Example> examples, int batch_size = 64);

// ---- memory ----
// What one training step of `config` on a batch of `batch` examples with sources of
// `src_len` tokens and targets of `tgt_len` (each <eos> included) holds in memory, and
// what the machine has. The step's tape grows like B·(m + n) for the recurrences and
// B·m·n for attention's scores (and B·m·n·A for concat's saved tanh); the estimate
// measures one example at three small lengths on the calling thread's tape (which it
// resets), fits that quadratic, and scales it to the sizes asked for.
struct MemoryEstimate {
    double step_bytes = 0;       // the step's tape, parameters and optimizer state
    double machine_bytes = 0;    // physical memory
    double available_bytes = 0;  // what the kernel says is available now
    bool fits() const { return step_bytes <= machine_bytes; }
    bool fits_now() const { return step_bytes <= available_bytes; }
};
MemoryEstimate estimate_memory(const ModelConfig& config, int batch, int src_len, int tgt_len);

// ---- training ----
struct TrainOptions {
    int steps = 1000;
    int batch_size = 32;
    double lr = 1e-2;
    bool cosine = true;      // cosine decay to 0 over `steps`; else constant
    double clip = 1.0;       // max gradient norm; 0 turns clipping off
    std::string optimizer = "adam";
    std::string save_path;   // checkpoint written at the end, and on Ctrl-C
    bool progress = true;    // progress line on stderr
    std::string label;       // shown at the start of the progress line
    // P of scheduled sampling (SPEC §13): each decoder input is the gold y_{j−1} with
    // probability P, else the model's own previous argmax. 1: always gold (teacher forcing).
    double teacher_forcing = 1;
    // Data parallel (see train_step): 0 one tape for the whole batch; N ≥ 1 shards of
    // shard_examples examples, N at a time, with the same bits for every N.
    int threads = 0;
};

struct TrainResult {
    int steps = 0;                 // steps completed
    std::vector<double> losses;    // one per step
    bool interrupted = false;      // a stop signal cut it short (see interrupt_signal())
    double seconds = 0;
};

// Raised when a loss or gradient is NaN or ±Inf: names the step and the first op that
// produced a non-finite value.
class TrainingError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// With teacher_forcing P < 1 the coins come from one Rng of their own, seeded from the
// task's seed: the same seed gives the same coins, and the examples drawn do not depend on P.
// With P = 1 no coin is drawn.
TrainResult train(Model& model, TaskGenerator& task, const TrainOptions& options);

// One optimisation step on a batch; returns the loss. Throws TrainingError on NaN/Inf.
// `feed_gold` (empty: teacher forcing) as Model::loss takes it.
// threads = 0: one tape for the whole batch. threads = N ≥ 1: the batch is cut into shards of
// shard_examples examples (the last may be shorter); each shard's loss (over the whole
// batch's tokens) and gradients are computed on a tape of their own, N shards at a time on
// N threads, and added shard by shard in order — so every N gives the same bits. They are
// not threads = 0's bits: there one product sums over all the examples at once.
constexpr int shard_examples = 16;
constexpr int max_threads = 64;
double train_step(Model& model, Optimizer& optimizer, const Batch& batch, double lr, double clip, int step,
                  std::span<const std::uint8_t> feed_gold = {}, int threads = 0);

// The coins of scheduled sampling for one batch, laid out as batch.tgt_in: 1 (feed the gold
// token) with probability P, drawn for each example's real positions j ≥ 1 in order; 1 at
// <bos> and padding, which never change. P = 1 draws nothing and returns all 1.
// Throws std::invalid_argument for P outside [0, 1].
std::vector<std::uint8_t> scheduled_sampling_coins(const Batch& batch, double P, Rng& rng);

// While train() runs, Ctrl-C (SIGINT), SIGTERM and SIGHUP set a flag the training loop
// reads between steps; a second one of the same signal quits at once. Outside training
// they keep their usual effect. The flag stays set: a later train() in the same program
// stops before its first step. install_interrupt_handler() installs the handler for
// good, for loops of one's own.
void install_interrupt_handler();
bool interrupt_requested();
// The signal that asked to stop (SIGINT, SIGTERM or SIGHUP), or 0: a program exits with
// 128 + it, as a shell reports a process a signal stopped.
int interrupt_signal();

}  // namespace stepgrad
