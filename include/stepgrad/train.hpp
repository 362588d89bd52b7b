#pragma once
// Learning: optimizers, gradient clipping, the training loop with its progress line,
// held-out evaluation with greedy decoding, and checkpoints.
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "stepgrad/json.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad {

// ---- optimizers ----
class Optimizer {
public:
    virtual ~Optimizer() = default;
    // θ ← θ − update(∇θ), with the learning rate of this step.
    virtual void step(std::span<Parameter* const> parameters, double lr) = 0;
};

// θ ← θ − lr · g
class Sgd final : public Optimizer {
public:
    void step(std::span<Parameter* const> parameters, double lr) override;
};

// Adam (Kingma & Ba 2015), as torch.optim.Adam without weight decay:
//   m ← β₁ m + (1 − β₁) g      v ← β₂ v + (1 − β₂) g²
//   θ ← θ − lr · m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
class Adam final : public Optimizer {
public:
    explicit Adam(double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8);
    void step(std::span<Parameter* const> parameters, double lr) override;

private:
    double beta1_, beta2_, epsilon_;
    long t_ = 0;
    std::vector<std::vector<double>> m_, v_;
};

std::unique_ptr<Optimizer> make_optimizer(std::string_view name);  // "adam" | "sgd"

// ‖g‖ over every parameter; when it exceeds max_norm, every gradient is scaled by
// max_norm / ‖g‖ (as torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
double clip_grad_norm(std::span<Parameter* const> parameters, double max_norm);

// lr_t = lr · ½ (1 + cos(π t / T)): large steps first, then settling (TRAINING-NOTES).
double cosine_lr(double lr, int step, int total_steps);

// ---- evaluation ----
struct Accuracy {
    int examples = 0;
    double token_accuracy = 0;     // target positions predicted right / target tokens
    double sequence_accuracy = 0;  // whole targets predicted exactly / examples
};
// Greedy decoding of every example, in batches. Resets the tape.
Accuracy evaluate(Seq2Seq& model, std::span<const Example> examples, int batch_size = 100);

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
};

struct TrainResult {
    int steps = 0;                 // steps completed
    std::vector<double> losses;    // one per step
    bool interrupted = false;      // Ctrl-C stopped it at a step boundary
    double seconds = 0;
};

// Raised when a loss or gradient is NaN or ±Inf: names the step and the first op that
// produced a non-finite value.
class TrainingError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

TrainResult train(Seq2Seq& model, TaskGenerator& task, const TrainOptions& options);

// One optimisation step on a batch; returns the loss. Throws TrainingError on NaN/Inf.
double train_step(Seq2Seq& model, Optimizer& optimizer, const Batch& batch, double lr, double clip, int step);

// ---- checkpoints ----
// A text file: a header line with the format version, a line with the FNV-1a 64
// checksum of the body, then the body (JSON: model config, task config, vocabularies,
// step, params). Written atomically; any damage is caught by the checksum.
inline constexpr std::string_view checkpoint_format = "stepgrad-checkpoint/1";

class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Checkpoint {
    ModelConfig model;
    TaskConfig task;
    std::vector<std::string> src_tokens;
    std::vector<std::string> tgt_tokens;
    int step = 0;
    Json params;
};

// The largest task seed a checkpoint holds exactly (its JSON numbers are doubles).
inline constexpr std::uint64_t checkpoint_max_seed = std::uint64_t{1} << 53;

// Throws CheckpointError for a task seed above checkpoint_max_seed.
void save_checkpoint(const std::string& path, Seq2Seq& model, const TaskGenerator& task, int step);
Checkpoint read_checkpoint(const std::string& path);
// The model a checkpoint holds, with its parameters; checks the vocabularies against
// the task the checkpoint names.
std::unique_ptr<Seq2Seq> load_model(const Checkpoint& checkpoint, const TaskGenerator& task);

std::uint64_t fnv1a64(std::string_view bytes);

// While train() runs, Ctrl-C sets a flag the training loop reads between steps (a second
// Ctrl-C quits at once); outside training Ctrl-C keeps its usual effect. The flag stays
// set: a later train() in the same program stops before its first step.
// install_interrupt_handler() installs the handler for good, for loops of one's own.
void install_interrupt_handler();
bool interrupt_requested();

}  // namespace stepgrad
