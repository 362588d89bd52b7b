#include "stepgrad/train.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numbers>
#include <sstream>
#include <unistd.h>

#include "stepgrad/ops.hpp"
#include "stepgrad/trace.hpp"

namespace stepgrad {

// ---- optimizers ----

void Sgd::step(std::span<Parameter* const> parameters, double lr) {
    for (Parameter* p : parameters)
        for (std::size_t i = 0; i < p->size(); ++i) p->value[i] -= lr * p->grad[i];
}

Adam::Adam(double beta1, double beta2, double epsilon) : beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}

void Adam::step(std::span<Parameter* const> parameters, double lr) {
    if (m_.empty())
        for (const Parameter* p : parameters) {
            m_.emplace_back(p->size(), 0.0);
            v_.emplace_back(p->size(), 0.0);
        }
    ++t_;
    const double correction1 = 1 - std::pow(beta1_, static_cast<double>(t_));
    const double correction2 = 1 - std::pow(beta2_, static_cast<double>(t_));
    for (std::size_t k = 0; k < parameters.size(); ++k) {
        Parameter& p = *parameters[k];
        std::vector<double>& m = m_[k];
        std::vector<double>& v = v_[k];
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double g = p.grad[i];
            // m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
            m[i] = beta1_ * m[i] + (1 - beta1_) * g;
            v[i] = beta2_ * v[i] + (1 - beta2_) * g * g;
            // θ ← θ − lr · m̂ / (√v̂ + ε)
            p.value[i] -= lr * (m[i] / correction1) / (std::sqrt(v[i] / correction2) + epsilon_);
        }
    }
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name) {
    if (name == "adam") return std::make_unique<Adam>();
    if (name == "sgd") return std::make_unique<Sgd>();
    throw std::invalid_argument(fmt::format("unknown optimizer '{}' (allowed: adam, sgd)", name));
}

double clip_grad_norm(std::span<Parameter* const> parameters, double max_norm) {
    double squares = 0;
    for (const Parameter* p : parameters)
        for (double g : p->grad) squares += g * g;
    const double norm = std::sqrt(squares);
    if (max_norm > 0 && norm > max_norm) {
        const double factor = max_norm / (norm + 1e-6);
        for (Parameter* p : parameters)
            for (double& g : p->grad) g *= factor;
    }
    return norm;
}

double cosine_lr(double lr, int step, int total_steps) {
    if (total_steps <= 0) return lr;
    return lr * 0.5 * (1 + std::cos(std::numbers::pi * step / total_steps));
}

// ---- evaluation ----

Accuracy evaluate(Seq2Seq& model, std::span<const Example> examples, int batch_size) {
    Accuracy result;
    long tokens = 0, tokens_right = 0, sequences_right = 0;
    for (std::size_t start = 0; start < examples.size(); start += static_cast<std::size_t>(batch_size)) {
        const auto chunk = examples.subspan(start, std::min<std::size_t>(static_cast<std::size_t>(batch_size), examples.size() - start));
        tape().reset();
        const Batch batch = make_batch(chunk);
        // One step past the longest target is enough to see any wrong length.
        const auto predictions = model.greedy_decode(batch, batch.tgt_len + 1);
        for (std::size_t b = 0; b < chunk.size(); ++b) {
            const std::vector<int>& target = chunk[b].tgt;
            const std::vector<int>& predicted = predictions[b];
            for (std::size_t j = 0; j < target.size(); ++j) tokens_right += j < predicted.size() && predicted[j] == target[j];
            tokens += static_cast<long>(target.size());
            sequences_right += predicted == target;
        }
    }
    tape().reset();
    result.examples = static_cast<int>(examples.size());
    result.token_accuracy = tokens ? static_cast<double>(tokens_right) / static_cast<double>(tokens) : 0.0;
    result.sequence_accuracy = examples.empty() ? 0.0 : static_cast<double>(sequences_right) / static_cast<double>(examples.size());
    return result;
}

// ---- training ----

namespace {

std::atomic<bool> interrupted{false};

// The first Ctrl-C asks the training loop to stop at the next step boundary; the handler
// then steps aside, so a second Ctrl-C quits at once (a step can be long).
extern "C" void on_interrupt(int) {
    interrupted.store(true);
    std::signal(SIGINT, SIG_DFL);
    static constexpr char message[] = "\nCtrl-C: stopping after this step (press Ctrl-C again to quit now)\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
}

// The handler is installed only while a train() runs (several may run at once, one per
// thread, in lesson 07): after training, Ctrl-C stops the program as usual instead of
// being swallowed during evaluation or printing.
class InterruptScope {
public:
    InterruptScope() {
        const std::lock_guard lock(mutex_);
        if (active_++ == 0) previous_ = std::signal(SIGINT, on_interrupt);
    }
    ~InterruptScope() {
        const std::lock_guard lock(mutex_);
        if (--active_ == 0) std::signal(SIGINT, previous_ == SIG_ERR ? SIG_DFL : previous_);
    }
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

private:
    static inline std::mutex mutex_;
    static inline int active_ = 0;
    static inline void (*previous_)(int) = SIG_DFL;
};

[[noreturn]] void non_finite(const char* what, int step, bool gradients) {
    const TapeEntry* culprit = tape().first_non_finite(gradients);
    throw TrainingError(fmt::format("step {}: the {} is not finite (NaN or Inf); first non-finite {} made by op '{}'. "
                                    "Try a smaller --lr.",
                                    step, what, gradients ? "gradient" : "value", culprit ? culprit->op : "?"));
}

std::string duration(double seconds) {
    if (seconds < 60) return fmt::format("{:.0f}s", seconds);
    return fmt::format("{:.0f}m{:02.0f}s", std::floor(seconds / 60), std::fmod(seconds, 60));
}

// The progress line: redrawn in place on a terminal, a plain line every tenth of the
// run in a log. Wall-clock figures go to stderr only, so stdout depends on flags and seed.
class Progress {
public:
    Progress(const TrainOptions& options) : options_(options), terminal_(::isatty(::fileno(stderr)) != 0) {}

    void report(int step, double loss, long tokens, double seconds) {
        if (!options_.progress) return;
        const int every = std::max(1, options_.steps / 10);
        const bool last = step == options_.steps;
        if (!terminal_ && step % every != 0 && !last) return;
        if (terminal_ && !last && seconds - last_draw_ < 0.1) return;
        last_draw_ = seconds;
        const double rate = seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0;
        const double left = step > 0 ? seconds / step * (options_.steps - step) : 0.0;
        fmt::print(stderr, "{}{}step {:>5}/{}  loss {:.4f}  {:.0f} tokens/s  {} left{}", terminal_ ? "\r\033[K" : "",
                   options_.label.empty() ? "" : options_.label + "  ", step, options_.steps, loss, rate,
                   duration(left), terminal_ && !last ? "" : "\n");
        std::fflush(stderr);
    }

private:
    const TrainOptions& options_;
    bool terminal_;
    double last_draw_ = -1;
};

}  // namespace

void install_interrupt_handler() { std::signal(SIGINT, on_interrupt); }
bool interrupt_requested() { return interrupted.load(); }

double train_step(Seq2Seq& model, Optimizer& optimizer, const Batch& batch, double lr, double clip, int step) {
    const std::vector<Parameter*> parameters = model.parameters();
    tape().reset();
    for (Parameter* p : parameters) p->zero_grad();
    const Forward forward = model.forward(batch);
    const double loss = forward.loss.value(0);
    if (!std::isfinite(loss)) non_finite("loss", step, false);
    tape().backward(forward.loss);
    const double norm = clip_grad_norm(parameters, clip);
    if (!std::isfinite(norm)) non_finite("gradient norm", step, true);
    optimizer.step(parameters, lr);
    return loss;
}

TrainResult train(Seq2Seq& model, TaskGenerator& task, const TrainOptions& options) {
    if (options.steps < 0 || options.batch_size <= 0)
        throw std::invalid_argument("train: steps must be ≥ 0 and the batch size positive");
    const InterruptScope ctrl_c;
    auto optimizer = make_optimizer(options.optimizer);
    Progress progress(options);
    TrainResult result;
    const auto start = std::chrono::steady_clock::now();
    long tokens = 0;
    for (int step = 1; step <= options.steps; ++step) {
        if (interrupt_requested()) {
            result.interrupted = true;
            break;
        }
        const std::vector<Example> examples = task.next(options.batch_size);
        const Batch batch = make_batch(examples);
        const double lr = options.cosine ? cosine_lr(options.lr, step - 1, options.steps) : options.lr;
        result.losses.push_back(train_step(model, *optimizer, batch, lr, options.clip, step));
        result.steps = step;
        for (const Example& e : examples) tokens += static_cast<long>(e.tgt.size());
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.report(step, result.losses.back(), tokens, seconds);
    }
    tape().reset();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options.save_path.empty()) save_checkpoint(options.save_path, model, task, result.steps);
    return result;
}

// ---- checkpoints ----

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char byte : bytes) {
        hash ^= byte;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

void save_checkpoint(const std::string& path, Seq2Seq& model, const TaskGenerator& task, int step) {
    const ModelConfig& c = model.config();
    const TaskConfig& t = task.config();
    if (t.seed > checkpoint_max_seed)
        throw CheckpointError(fmt::format("cannot save {}: a checkpoint holds task seeds up to {}, not {}", path,
                                          checkpoint_max_seed, t.seed));
    JsonWriter w;
    w.begin_object();
    w.key("model").begin_object(JsonWriter::Layout::line);
    w.key("cell").value(cell_kind_name(c.cell)).key("decoder").value(decoder_kind_name(c.decoder));
    w.key("score").value(score_kind_name(c.score)).key("src_vocab").value(c.src_vocab).key("tgt_vocab").value(c.tgt_vocab);
    w.key("embed_dim").value(c.embed).key("hidden_dim").value(c.hidden).key("attn_dim").value(c.attn);
    w.end_object();
    w.key("task").begin_object(JsonWriter::Layout::line);
    w.key("name").value(t.name).key("min_len").value(t.min_len).key("max_len").value(t.max_len);
    w.key("symbols").value(t.symbols).key("seed").value(t.seed);
    w.end_object();
    w.key("src_vocab").value(task.src_vocab().tokens);
    w.key("tgt_vocab").value(task.tgt_vocab().tokens);
    w.key("step").value(step);
    w.key("params").begin_object();
    for (const Parameter* p : model.parameters()) {
        std::vector<std::size_t> shape;
        if (!p->is_vector()) shape.push_back(static_cast<std::size_t>(p->rows()));
        shape.push_back(static_cast<std::size_t>(p->cols()));
        w.key(p->name());
        write_tensor(w, shape, p->value);
    }
    w.end_object();
    w.end_object();
    w.finish();
    const std::string& body = w.str();
    write_file_atomically(path, fmt::format("{}\nchecksum fnv1a64 {:016x}\n{}", checkpoint_format, fnv1a64(body), body));
}

namespace {

std::string read_whole_file(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error))
        throw CheckpointError(fmt::format("cannot read checkpoint {}: it is a folder, not a file", path));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CheckpointError(fmt::format("cannot read checkpoint {}: no such file or not readable", path));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw CheckpointError(fmt::format("cannot read checkpoint {}: a read error", path));
    return text.str();
}

// How many numbers the "data" arrays of a checkpoint's params hold.
double numbers_held(const Json& params) {
    double total = 0;
    for (const auto& [name, tensor] : params.as_object())
        if (const Json* data = tensor.is_object() ? tensor.find("data") : nullptr; data && data->is_array())
            total += static_cast<double>(data->size());
    return total;
}

// A lower bound on the parameter count of a model: the embeddings, one H × (E + H)
// matrix per cell and the output layer. A checkpoint whose configuration claims more
// than its file holds is refused before any memory is allocated for it.
double fewest_parameters(const ModelConfig& c) {
    const double E = c.embed, H = c.hidden, A = c.attn;
    double count = (c.src_vocab + c.tgt_vocab) * E + 2 * H * (E + H) + c.tgt_vocab * H;
    if (c.score == ScoreKind::concat || c.score == ScoreKind::qk || c.score == ScoreKind::qk_scaled) count += A * H;
    return count;
}

// Splits off one header line; a missing newline means the file was cut short.
std::string_view take_line(std::string_view& text, const std::string& path) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos)
        throw CheckpointError(fmt::format("checkpoint {} is truncated or not a checkpoint (header incomplete)", path));
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    return line;
}

}  // namespace

Checkpoint read_checkpoint(const std::string& path) {
    const std::string text = read_whole_file(path);
    if (text.empty()) throw CheckpointError(fmt::format("checkpoint {} is empty", path));
    std::string_view rest = text;
    const std::string_view format = take_line(rest, path);
    if (format.substr(0, 20) == "stepgrad-checkpoint/" && format != checkpoint_format)
        throw CheckpointError(fmt::format("checkpoint {} has format '{}'; this stepgrad reads '{}'", path, format, checkpoint_format));
    if (format != checkpoint_format)
        throw CheckpointError(fmt::format("{} is not a stepgrad checkpoint (its first line should be '{}')", path, checkpoint_format));
    const std::string_view checksum_line = take_line(rest, path);
    const std::string expected = fmt::format("checksum fnv1a64 {:016x}", fnv1a64(rest));
    if (checksum_line != expected)
        throw CheckpointError(fmt::format("checkpoint {} is corrupt or truncated: its checksum does not match its contents", path));
    try {
        const Json body = parse_json(rest);
        const Json& m = body.at("model");
        Checkpoint checkpoint;
        checkpoint.model.cell = parse_cell_kind(m.at("cell").as_string());
        checkpoint.model.decoder = parse_decoder_kind(m.at("decoder").as_string());
        checkpoint.model.score = parse_score_kind(m.at("score").as_string());
        checkpoint.model.src_vocab = m.at("src_vocab").as_int();
        checkpoint.model.tgt_vocab = m.at("tgt_vocab").as_int();
        checkpoint.model.embed = m.at("embed_dim").as_int();
        checkpoint.model.hidden = m.at("hidden_dim").as_int();
        checkpoint.model.attn = m.at("attn_dim").as_int();
        validate(checkpoint.model);
        checkpoint.params = body.at("params");
        if (fewest_parameters(checkpoint.model) > numbers_held(checkpoint.params))
            throw CheckpointError(fmt::format("its model (E = {}, H = {}, A = {}) needs more parameters than it holds",
                                              checkpoint.model.embed, checkpoint.model.hidden, checkpoint.model.attn));
        const Json& t = body.at("task");
        checkpoint.task.name = t.at("name").as_string();
        checkpoint.task.min_len = t.at("min_len").as_int();
        checkpoint.task.max_len = t.at("max_len").as_int();
        checkpoint.task.symbols = t.at("symbols").as_int();
        // JSON numbers are doubles: seeds above 2^53 would not read back exactly
        const double seed = t.at("seed").as_number();
        if (!(seed >= 0 && seed <= checkpoint_max_seed) || seed != std::floor(seed))
            throw CheckpointError(fmt::format("task.seed must be a whole number from 0 to {}", checkpoint_max_seed));
        checkpoint.task.seed = static_cast<std::uint64_t>(seed);
        validate(checkpoint.task);
        for (const Json& token : body.at("src_vocab").as_array()) checkpoint.src_tokens.push_back(token.as_string());
        for (const Json& token : body.at("tgt_vocab").as_array()) checkpoint.tgt_tokens.push_back(token.as_string());
        if (checkpoint.src_tokens.size() != static_cast<std::size_t>(checkpoint.model.src_vocab) ||
            checkpoint.tgt_tokens.size() != static_cast<std::size_t>(checkpoint.model.tgt_vocab))
            throw CheckpointError(fmt::format("its model has vocabularies of {} and {} tokens, but it lists {} and {}",
                                              checkpoint.model.src_vocab, checkpoint.model.tgt_vocab,
                                              checkpoint.src_tokens.size(), checkpoint.tgt_tokens.size()));
        checkpoint.step = body.at("step").as_int();
        if (checkpoint.step < 0) throw CheckpointError(fmt::format("step must be ≥ 0, got {}", checkpoint.step));
        return checkpoint;
    } catch (const std::exception& e) {
        throw CheckpointError(fmt::format("checkpoint {} is invalid: {}", path, e.what()));
    }
}

std::unique_ptr<Seq2Seq> load_model(const Checkpoint& checkpoint, const TaskGenerator& task) {
    if (checkpoint.src_tokens != task.src_vocab().tokens || checkpoint.tgt_tokens != task.tgt_vocab().tokens ||
        checkpoint.model.src_vocab != task.src_vocab().size() || checkpoint.model.tgt_vocab != task.tgt_vocab().size())
        throw CheckpointError(fmt::format("the checkpoint's vocabularies do not match the task '{}' it names", task.config().name));
    auto model = std::make_unique<Seq2Seq>(checkpoint.model);
    try {
        load_parameters(checkpoint.params, model->parameters());
    } catch (const std::exception& e) {
        throw CheckpointError(fmt::format("checkpoint does not fit its model: {}", e.what()));
    }
    return model;
}

}  // namespace stepgrad
