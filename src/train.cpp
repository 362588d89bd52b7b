#include "stepgrad/train.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <numbers>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "stepgrad/bleu.hpp"
#include "stepgrad/decode.hpp"
#include "stepgrad/ops.hpp"
#include "stepgrad/support/checkpoint.hpp"

namespace stepgrad {

// ---- evaluation ----

namespace {

// The tokens of ids as the task writes them: up to <eos>, without <pad> and <bos>.
Tokens written(const Vocab& vocab, const std::vector<int>& ids) {
    Tokens tokens;
    for (const int id : ids) {
        if (id == Vocab::eos) break;
        if (id != Vocab::pad && id != Vocab::bos) tokens.push_back(vocab.token(id));
    }
    return tokens;
}

}  // namespace

Accuracy evaluate(Model& model, std::span<const Example> examples, const EvaluateOptions& options) {
    if (options.batch_size < 1 || options.beam_width < 1)
        throw std::invalid_argument("evaluate: the batch size and the beam width must be at least 1");
    Accuracy result;
    long tokens = 0, tokens_right = 0, sequences_right = 0;
    const bool bleu = options.target && options.target->level == Vocab::Level::word;
    std::vector<Tokens> hypotheses, references;
    const auto batch_size = static_cast<std::size_t>(options.batch_size);
    for (std::size_t start = 0; start < examples.size(); start += batch_size) {
        const auto chunk = examples.subspan(start, std::min(batch_size, examples.size() - start));
        tape().reset();
        const Batch batch = make_batch(chunk);
        // One step past the longest target is enough to see any wrong length.
        const int max_length = batch.tgt_len + 1;
        std::vector<std::vector<int>> predictions;
        if (options.beam_width == 1) {
            predictions = model.greedy_decode(batch, max_length);
        } else {
            for (const Example& example : chunk) {
                tape().reset();
                predictions.push_back(beam_search(model, example.src, options.beam_width, max_length, options.length_penalty).ids);
            }
        }
        for (std::size_t b = 0; b < chunk.size(); ++b) {
            const std::vector<int>& target = chunk[b].tgt;
            const std::vector<int>& predicted = predictions[b];
            for (std::size_t j = 0; j < target.size(); ++j) tokens_right += j < predicted.size() && predicted[j] == target[j];
            tokens += static_cast<long>(target.size());
            sequences_right += predicted == target;
            if (bleu) {
                hypotheses.push_back(written(*options.target, predicted));
                references.push_back(written(*options.target, target));
            }
            result.predictions.push_back(std::move(predictions[b]));
        }
    }
    tape().reset();
    result.examples = static_cast<int>(examples.size());
    result.token_accuracy = tokens ? static_cast<double>(tokens_right) / static_cast<double>(tokens) : 0.0;
    result.sequence_accuracy = examples.empty() ? 0.0 : static_cast<double>(sequences_right) / static_cast<double>(examples.size());
    if (bleu) {
        result.bleu_counts = corpus_bleu(hypotheses, references);
        result.bleu = result.bleu_counts->bleu;
    }
    return result;
}

Accuracy evaluate(Model& model, std::span<const Example> examples, int batch_size) {
    EvaluateOptions options;
    options.batch_size = batch_size;
    return evaluate(model, examples, options);
}

// ---- alignment ----

namespace {

// What alignment_accuracy counts before dividing.
struct AlignmentCounts {
    long aligned = 0;   // target tokens with gold positions
    long on_gold = 0;   // î_j ∈ G_j
    long one_late = 0;  // î_j − 1 ∈ G_j
};

// î_j: the real source position α_j weighs most. Only the first `length` entries of the
// row are the example's own, so padding cannot win even at a tie.
int most_attended(std::span<const double> alpha_row, int length) {
    const auto own = alpha_row.first(static_cast<std::size_t>(length));
    return static_cast<int>(std::max_element(own.begin(), own.end()) - own.begin());
}

bool contains(const std::vector<int>& positions, int i) {
    return std::find(positions.begin(), positions.end(), i) != positions.end();
}

// Adds one teacher-forced batch: step j of example b reads row b of α_j (B, m), for the
// target positions the example has (the rest is padding).
void count_alignment(const Forward& forward, const Batch& batch, std::span<const Example> chunk, AlignmentCounts& counts) {
    for (std::size_t b = 0; b < chunk.size(); ++b) {
        const Alignment& gold = chunk[b].alignment;
        const int length = batch.src_lengths[b];
        for (std::size_t j = 0; j < gold.size(); ++j) {
            if (gold[j].empty()) continue;  // aligned to nothing: not counted
            const Tensor& alpha = forward.decoder[j].attention.alpha;
            const int best = most_attended(alpha.values().subspan(b * static_cast<std::size_t>(alpha.cols())), length);
            ++counts.aligned;
            counts.on_gold += contains(gold[j], best);
            counts.one_late += contains(gold[j], best - 1);
        }
    }
}

// The examples that carry an alignment, each checked against its target.
std::vector<Example> aligned_examples(std::span<const Example> examples) {
    std::vector<Example> aligned;
    for (const Example& e : examples) {
        if (e.alignment.empty()) continue;
        if (e.alignment.size() != e.tgt.size())
            throw std::invalid_argument(fmt::format("alignment_accuracy: an alignment has {} entries for a target of {} "
                                                    "tokens; it needs one per target token (or none at all)",
                                                    e.alignment.size(), e.tgt.size()));
        aligned.push_back(e);
    }
    return aligned;
}

double fraction(long part, long whole) { return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0; }

}  // namespace

AlignmentAccuracy alignment_accuracy(Seq2Seq& model, std::span<const Example> examples, int batch_size) {
    if (!model.score)
        throw std::invalid_argument("alignment_accuracy: a plain model has no attention, so no α to compare with the gold "
                                    "alignment; it needs a bahdanau or luong decoder");
    if (batch_size < 1) throw std::invalid_argument("alignment_accuracy: the batch size must be at least 1");
    const std::vector<Example> aligned = aligned_examples(examples);
    const std::span<const Example> all(aligned);
    AlignmentCounts counts;
    const auto step = static_cast<std::size_t>(batch_size);
    for (std::size_t start = 0; start < all.size(); start += step) {
        const auto chunk = all.subspan(start, std::min(step, all.size() - start));
        tape().reset();
        const Batch batch = make_batch(chunk);
        count_alignment(model.forward(batch), batch, chunk, counts);
    }
    tape().reset();
    AlignmentAccuracy result;
    result.examples = static_cast<int>(aligned.size());
    result.aligned_tokens = counts.aligned;
    // accuracy = #{j : î_j ∈ G_j} / #{j : G_j ≠ ∅};  shifted = #{j : î_j − 1 ∈ G_j} / the same
    result.accuracy = fraction(counts.on_gold, counts.aligned);
    result.shifted_accuracy = fraction(counts.one_late, counts.aligned);
    return result;
}

// ---- memory ----

namespace {

// Bytes of the tape after forward and backward of one example with m source and n
// target tokens (ids past the specials; the values do not matter, the shapes do).
double tape_bytes(Seq2Seq& model, int m, int n) {
    Example example;
    for (int i = 0; i < m; ++i) example.src.push_back(Vocab::first_regular + i % (model.config().src_vocab - Vocab::first_regular));
    for (int j = 0; j < n; ++j) example.tgt.push_back(Vocab::first_regular + j % (model.config().tgt_vocab - Vocab::first_regular));
    const Batch batch = make_batch(std::span<const Example>(&example, 1));
    tape().reset();
    const Forward forward = model.forward(batch);
    tape().backward(forward.loss);
    const double bytes = static_cast<double>(tape().bytes_used());
    tape().reset();
    return bytes;
}

double meminfo_bytes(std::string_view field) {
    std::ifstream meminfo("/proc/meminfo");
    std::string name;
    double kilobytes = 0;
    std::string unit;
    while (meminfo >> name >> kilobytes >> unit)
        if (name.substr(0, name.size() - 1) == field) return kilobytes * 1024;
    return 0;
}

}  // namespace

MemoryEstimate estimate_memory(const ModelConfig& config, int batch, int src_len, int tgt_len) {
    Seq2Seq model(config);
    // bytes(L) = a + b·L + c·L² through L = 4, 8, 16 (sources and targets both L long)
    const double y1 = tape_bytes(model, 4, 4), y2 = tape_bytes(model, 8, 8), y3 = tape_bytes(model, 16, 16);
    const double c = ((y3 - y2) / 8 - (y2 - y1) / 4) / 12, b = (y2 - y1) / 4 - 12 * c, a = y1 - 4 * b - 16 * c;
    // m and n differ: the linear part grows with m + n, the quadratic with m·n
    const double m = src_len, n = tgt_len;
    const double example = a + b * (m + n) / 2 + c * m * n;
    // parameters, their gradients and Adam's two moments
    const double parameters = 4.0 * sizeof(double) * static_cast<double>(model.parameter_count());
    MemoryEstimate estimate;
    estimate.step_bytes = batch * std::max(example, y1) + parameters;
    estimate.machine_bytes = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
    estimate.available_bytes = meminfo_bytes("MemAvailable");
    if (estimate.available_bytes == 0) estimate.available_bytes = estimate.machine_bytes;
    return estimate;
}

// ---- training ----

namespace {

// 0, or the signal (SIGINT, SIGTERM, SIGHUP) that asked training to stop.
std::atomic<int> stop_signal{0};
constexpr int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

// The first stop signal asks the training loop to stop at the next step boundary (and
// save, with --save); the handler then steps aside for that signal, so a second one
// quits at once (a step can be long). Ctrl-C, `timeout`, a scheduler and a closed
// terminal all stop training the same way.
extern "C" void on_stop_signal(int signal_number) {
    int none = 0;
    stop_signal.compare_exchange_strong(none, signal_number);
    std::signal(signal_number, SIG_DFL);
    static constexpr char ctrl_c[] = "\nCtrl-C: stopping after this step (press Ctrl-C again to quit now)\n";
    static constexpr char other[] = "\nstop signal: stopping after this step\n";
    const bool is_ctrl_c = signal_number == SIGINT;
    [[maybe_unused]] const auto written =
        ::write(STDERR_FILENO, is_ctrl_c ? ctrl_c : other, is_ctrl_c ? sizeof ctrl_c - 1 : sizeof other - 1);
}

// The handlers are installed only while a train() runs (several may run at once, one
// per thread, in lesson 07): after training, a signal stops the program as usual instead
// of being swallowed during evaluation or printing.
class InterruptScope {
public:
    InterruptScope() {
        const std::lock_guard lock(mutex_);
        if (active_++ == 0)
            for (std::size_t k = 0; k < std::size(stop_signals); ++k) previous_[k] = std::signal(stop_signals[k], on_stop_signal);
    }
    ~InterruptScope() {
        const std::lock_guard lock(mutex_);
        if (--active_ == 0)
            for (std::size_t k = 0; k < std::size(stop_signals); ++k)
                std::signal(stop_signals[k], previous_[k] == SIG_ERR ? SIG_DFL : previous_[k]);
    }
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

private:
    static inline std::mutex mutex_;
    static inline int active_ = 0;
    static inline void (*previous_[std::size(stop_signals)])(int) = {SIG_DFL, SIG_DFL, SIG_DFL};
};

// Seeds the coins of scheduled sampling apart from the task's own stream of the same seed.
constexpr std::uint64_t coin_stream = 0x5ced'5a3b'1e0f'c01dULL;

void check_teacher_forcing(double P) {
    if (!(P >= 0 && P <= 1))  // NaN too
        throw std::invalid_argument(fmt::format("teacher forcing: P is a probability, from 0 to 1; got {}", P));
}

[[noreturn]] void non_finite(const char* what, int step, bool gradients) {
    const TapeEntry* culprit = tape().first_non_finite(gradients);
    throw TrainingError(fmt::format("step {}: the {} is not finite (NaN or Inf); first non-finite {} made by op '{}'. "
                                    "Try a smaller --lr.",
                                    step, what, gradients ? "gradient" : "value", culprit ? culprit->op : "?"));
}

// "45s", "2m05s": rounded to the second first, so 119.7 s is 2m00s, not 1m60s.
std::string duration(double seconds) {
    const long whole = std::lround(seconds);
    if (whole < 60) return fmt::format("{}s", whole);
    return fmt::format("{}m{:02}s", whole / 60, whole % 60);
}

// "about 3 min": a forecast, so rounded.
std::string roughly(double seconds) {
    if (seconds < 90) return fmt::format("about {:.0f} s", seconds);
    if (seconds < 90 * 60) return fmt::format("about {:.0f} min", seconds / 60);
    return fmt::format("about {:.1f} h", seconds / 3600);
}

// The progress line, on stderr only, so stdout depends on flags and seed alone. It comes
// by the clock, not by the step count: redrawn in place on a terminal (ten times a
// second at most); in a log, a line once a second has passed, then every few seconds;
// and the last step's always. Half a second in, the time per step so far times the
// steps gives the run's length: over a minute, one line says so first.
class Progress {
public:
    explicit Progress(const TrainOptions& options)
        : options_(options), terminal_(::isatty(::fileno(stderr)) != 0), next_(terminal_ ? 0 : first_line) {}

    void report(int step, double loss, long tokens, double seconds) {
        if (!options_.progress) return;
        const bool last = step == options_.steps;
        if (!estimated_ && seconds >= measure_for && !last) estimate(step, seconds);
        if (!last && seconds < next_) return;
        next_ = seconds + (terminal_ ? redraw_every : line_every);
        const double rate = seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0;
        const double left = step > 0 ? seconds / step * (options_.steps - step) : 0.0;
        fmt::print(stderr, "{}{}step {:>5}/{}  loss {:.4f}  {:.0f} tokens/s  {} left{}", terminal_ ? "\r\033[K" : "",
                   label(), step, options_.steps, loss, rate, duration(left), terminal_ && !last ? "" : "\n");
        std::fflush(stderr);
    }

private:
    static constexpr double first_line = 1, line_every = 5, redraw_every = 0.1;  // seconds
    static constexpr double measure_for = 0.5, say_above = 60;                    // seconds

    // "about 3 min for 20000 steps (9.1 ms a step over the first 55)", when over a minute
    void estimate(int step, double seconds) {
        estimated_ = true;
        const double per_step = seconds / step;
        if (per_step * options_.steps <= say_above) return;
        fmt::print(stderr, "{}{}{} for {} steps ({:.1f} ms a step over the first {})\n", terminal_ ? "\r\033[K" : "",
                   label(), roughly(per_step * options_.steps), options_.steps, 1000 * per_step, step);
        std::fflush(stderr);
    }
    std::string label() const { return options_.label.empty() ? "" : options_.label + "  "; }

    const TrainOptions& options_;
    bool terminal_;
    double next_;  // seconds into the run when the next line is due
    bool estimated_ = false;
};

}  // namespace

void install_interrupt_handler() {
    for (const int s : stop_signals) std::signal(s, on_stop_signal);
}
bool interrupt_requested() { return stop_signal.load() != 0; }
int interrupt_signal() { return stop_signal.load(); }

std::vector<std::uint8_t> scheduled_sampling_coins(const Batch& batch, double P, Rng& rng) {
    check_teacher_forcing(P);
    std::vector<std::uint8_t> feed_gold(batch.tgt_in.size(), 1);
    if (P == 1) return feed_gold;
    for (int b = 0; b < batch.size; ++b)
        for (int j = 1; j < batch.tgt_lengths[static_cast<std::size_t>(b)]; ++j)
            // gold with probability P: u < P for u uniform in [0, 1)
            feed_gold[static_cast<std::size_t>(b) * batch.tgt_len + j] = rng.uniform() < P;
    return feed_gold;
}

namespace {

// Threads that outlive a step, so each keeps its tape's memory (a thread per step would map
// and fault in a fresh arena every step). One pool per calling thread: lessons that train
// two models at once each get their own.
//
// A train step hands the pool two jobs (the shards, then the sum of their gradients) with
// well under a millisecond between them. So both sides watch an atomic for up to 200 µs
// before they sleep on a condition variable (still the only way to block): on the 2-vCPU VM a
// two-thread GRU + concat step at B = 32 ran 0.3–6 % faster (paired medians, more when the
// host was busy). The wake-up itself measured ~5 µs there; the rest is presumably what letting
// a vCPU go idle costs.
class ShardPool {
public:
    // job(0) on the calling thread and job(1) … job(count − 1) on the pool's threads; returns
    // when all are done. job must not throw.
    void run(int count, const std::function<void(int)>& job) {
        {
            std::lock_guard lock(mutex_);
            while (static_cast<int>(threads_.size()) < count - 1) {
                const int worker = static_cast<int>(threads_.size()) + 1;
                threads_.emplace_back([this, worker, seen = generation_.load()] { serve(worker, seen); });
            }
            job_ = &job;
            workers_ = count - 1;
            pending_ = count - 1;
            ++generation_;
        }
        wake_.notify_all();
        job(0);
        spin_until([this] { return pending_.load() == 0; });
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return pending_.load() == 0; });
    }
    ~ShardPool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread& thread : threads_) thread.join();
    }

private:
    void serve(int worker, std::uint64_t seen) {
        for (;;) {
            spin_until([&] { return generation_.load() != seen; });
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
            if (stopping_) return;
            seen = generation_.load();
            if (worker > workers_) continue;
            const std::function<void(int)>* job = job_;
            lock.unlock();
            (*job)(worker);
            lock.lock();
            if (--pending_ == 0) done_.notify_one();
        }
    }
    // Returns once `ready` holds or 200 µs have passed. Every 16 checks it lets any other thread
    // waiting for this CPU go first (as when a lesson trains models side by side, each with its
    // threads).
    template <class Ready>
    static void spin_until(Ready ready) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
        for (;;) {
            for (int i = 0; i < 16; ++i) {
                if (ready()) return;
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            }
            if (std::chrono::steady_clock::now() >= until) return;
            std::this_thread::yield();
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(int)>* job_ = nullptr;
    int workers_ = 0;
    std::atomic<int> pending_ = 0;  // written under mutex_; read without it while spinning
    std::atomic<std::uint64_t> generation_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// The calling thread's pool: train_step's shards and the sum of their gradients share it.
ShardPool& shard_pool() {
    thread_local ShardPool pool;
    return pool;
}

// The loss of every shard and, through gradient homes, its gradients: shard s's in
// homes[s·total …], each parameter's gradient after the last's.
std::vector<double> shard_losses(Model& model, const std::vector<Parameter*>& parameters, const Batch& batch,
                                 std::span<const std::uint8_t> feed_gold, int threads, int step, std::vector<double>& homes) {
    const int tokens = loss_token_count(batch);  // every shard's loss is a mean over the whole batch's tokens
    const int shards = (batch.size + shard_examples - 1) / shard_examples;
    std::size_t total = 0;
    for (const Parameter* p : parameters) total += p->value.size();
    homes.resize(total * static_cast<std::size_t>(shards));  // each shard's zeroed by its thread, below
    std::vector<double> losses(static_cast<std::size_t>(shards));
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(shards));
    const std::function<void(int)> job = [&](int worker) {
        for (int s = worker; s < shards; s += threads) {
            try {
                const int first = s * shard_examples, count = std::min(shard_examples, batch.size - first);
                Batch shard = slice_batch(batch, first, count);
                shard.loss_tokens = tokens;
                const auto n = static_cast<std::size_t>(batch.tgt_len);
                const std::span<const std::uint8_t> feed =
                    feed_gold.empty() ? feed_gold : feed_gold.subspan(static_cast<std::size_t>(first) * n, count * n);
                std::vector<double*> home;
                double* next = homes.data() + total * static_cast<std::size_t>(s);
                std::fill_n(next, total, 0.0);
                for (const Parameter* p : parameters) home.push_back(std::exchange(next, next + p->value.size()));
                tape().reset();
                tape().set_gradient_homes(parameters, home);
                const Tensor loss = model.loss(shard, feed);
                losses[static_cast<std::size_t>(s)] = loss.value(0);
                if (std::isfinite(loss.value(0))) tape().backward(loss, Tape::KeepGradients::parameters_only);
                else non_finite(fmt::format("loss of examples {}–{}", first, first + count - 1).c_str(), step, false);
                tape().set_gradient_homes({}, {});
            } catch (...) {
                tape().set_gradient_homes({}, {});
                errors[static_cast<std::size_t>(s)] = std::current_exception();
            }
        }
    };
    shard_pool().run(std::min(threads, shards), job);
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
    return losses;
}

// ∂L/∂θ = Σ_s ∂L_s/∂θ into the parameters' gradients, shard by shard in order for every entry,
// so the same bits whatever thread sums which entries: each of `threads` sums a slice of them.
// (One thread summing them all after zeroing every shard's: a two-thread GRU + concat step,
// B = 32, was 5 % slower.) zero_grad's 0 is where each sum starts, so no zeroing pass first.
void sum_shard_gradients(const std::vector<Parameter*>& parameters, const std::vector<double>& homes, std::size_t shards,
                         int threads) {
    const std::size_t total = homes.size() / shards;  // entries of all the parameters: one shard's home
    const auto workers = static_cast<std::size_t>(threads);
    const std::function<void(int)> job = [&](int worker) {
        const std::size_t from = total * static_cast<std::size_t>(worker) / workers;
        const std::size_t to = total * (static_cast<std::size_t>(worker) + 1) / workers;
        std::size_t first = 0;  // the flat index of p's first entry
        for (Parameter* p : parameters) {
            const std::size_t size = p->grad.size(), begin = std::max(from, first), end = std::min(to, first + size);
            for (std::size_t i = begin; i < end; ++i) {
                double gradient = 0.0 + homes[i];  // as zero_grad's 0 plus shard 0's
                for (std::size_t shard = 1; shard < shards; ++shard) gradient += homes[shard * total + i];
                p->grad[i - first] = gradient;
            }
            first += size;
        }
    };
    shard_pool().run(threads, job);
}

}  // namespace

double train_step(Model& model, Optimizer& optimizer, const Batch& batch, double lr, double clip, int step,
                  std::span<const std::uint8_t> feed_gold, int threads) {
    if (threads < 0 || threads > max_threads)
        throw std::invalid_argument(fmt::format("train_step: threads must be from 0 to {}, got {}", max_threads, threads));
    const std::vector<Parameter*> parameters = model.parameters();
    tape().reset();
    double loss = 0;
    if (threads == 0) {
        for (Parameter* p : parameters) p->zero_grad();
        const Tensor loss_tensor = model.loss(batch, feed_gold);
        loss = loss_tensor.value(0);
        if (!std::isfinite(loss)) non_finite("loss", step, false);
        tape().backward(loss_tensor, Tape::KeepGradients::parameters_only);
    } else {
        thread_local std::vector<double> homes;
        const std::vector<double> losses = shard_losses(model, parameters, batch, feed_gold, threads, step, homes);
        // L = Σ_s L_s and ∂L/∂θ = Σ_s ∂L_s/∂θ, shard by shard in order, whatever thread computed each
        for (double shard_loss : losses) loss += shard_loss;
        // on as many threads as had shards: the pool's, none started for this
        sum_shard_gradients(parameters, homes, losses.size(), std::min(threads, static_cast<int>(losses.size())));
    }
    const double norm = clip_grad_norm(parameters, clip);
    if (!std::isfinite(norm)) {
        // the tensors' gradients are gone (only the parameters' were kept): the step again on this
        // thread's tape, the same numbers, keeping them all to name the op that made the first bad one
        tape().reset();
        tape().backward(model.loss(batch, feed_gold), Tape::KeepGradients::all);
        non_finite("gradient norm", step, true);
    }
    optimizer.step(parameters, lr);
    return loss;
}

TrainResult train(Model& model, TaskGenerator& task, const TrainOptions& options) {
    if (options.steps < 0 || options.batch_size <= 0)
        throw std::invalid_argument("train: steps must be ≥ 0 and the batch size positive");
    check_teacher_forcing(options.teacher_forcing);
    const bool sampling = options.teacher_forcing < 1;
    Rng coins(task.config().seed ^ coin_stream);
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
        const std::vector<std::uint8_t> feed_gold =
            sampling ? scheduled_sampling_coins(batch, options.teacher_forcing, coins) : std::vector<std::uint8_t>{};
        result.losses.push_back(train_step(model, *optimizer, batch, lr, options.clip, step, feed_gold, options.threads));
        result.steps = step;
        for (const Example& e : examples) tokens += static_cast<long>(e.tgt.size());
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.report(step, result.losses.back(), tokens, seconds);
    }
    tape().reset();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options.save_path.empty()) save_checkpoint(options.save_path, model, task, result.steps);
    // a stop asked for during the last step or the save still counts: the run was cut short
    if (interrupt_requested()) result.interrupted = true;
    return result;
}

}  // namespace stepgrad
