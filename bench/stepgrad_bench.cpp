// stepgrad-bench — times the full training step (forward, backward, Adam update) of the
// SPEC §4 model, or of the SPEC §14 Transformer (--model transformer), on the `reverse`
// task with a fixed source length, and prints steps/s, target tokens/s, the GFLOP/s
// achieved over the whole step (FLOPs counted by the matrix-product kernels, the attention
// heads' batched products included) against this core's measured fp64 peak, and peak memory.
// Its last line is machine-readable:  steps_per_s=… tokens_per_s=… peak_rss_mb=…
//
//   stepgrad-bench --cell gru --decoder bahdanau --score concat --embed 32 --hidden 64
//                  --attn 64 --vocab 32 --src-len 12 --batch 32 --steps 200
//   stepgrad-bench --model transformer --d-model 64 --heads 4 --layers 2 --d-ff 128 --norm pre
//
// bench/torch_bench.py is the same models in eager PyTorch, for the comparison in README;
// bench/compare_transformer.sh runs both, alternating, and prints the Transformer's table.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "kernels/kernels.hpp"  // internal: which instruction set the kernels use
#include "stepgrad/support/cli.hpp"
#include "common/lesson.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/train.hpp"
#include "stepgrad/transformer.hpp"

using namespace stepgrad;

namespace {

// B examples of m random symbols (ids 3 … V−1) and their reversal, then <eos>.
std::vector<Example> reverse_batch(Rng& rng, int batch, int length, int vocab) {
    std::vector<Example> examples(static_cast<std::size_t>(batch));
    for (Example& e : examples) {
        for (int i = 0; i < length; ++i) e.src.push_back(3 + static_cast<int>(rng.below(static_cast<std::uint64_t>(vocab - 3))));
        e.tgt.assign(e.src.rbegin(), e.src.rend());
        e.src.push_back(Vocab::eos);
        e.tgt.push_back(Vocab::eos);
    }
    return examples;
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

struct Timing {
    double steps_per_s;
    double flops_per_step;    // counted by the matrix-product kernels, forward and backward
    double cpu_ms_per_step;   // the CPU time the step's threads got: on a busy machine, below threads × the wall time
};

// The CPU time of this thread, or of the whole process (every thread of a --threads run)
double cpu_seconds(bool all_threads) {
    timespec now{};
    clock_gettime(all_threads ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Warm-up steps, then `steps` timed training steps (forward, backward, clipping at 1, Adam)
// cycling through the batches; train_step's threads (0: one tape for the batch).
Timing time_training(Model& model, const std::vector<Batch>& batches, int steps, int warmup, int threads) {
    Adam adam;
    auto run = [&](int count, int offset, int threads) {
        for (int i = 0; i < count; ++i)
            train_step(model, adam, batches[static_cast<std::size_t>(offset + i) % batches.size()], 1e-3, 1.0, i + 1, {},
                       threads);
    };
    run(warmup, 0, threads);
    // the kernels count FLOPs per thread: one step with the shards all on this thread counts them
    const double flops_before = kernels::gemm_flops();
    run(1, warmup, threads == 0 ? 0 : 1);
    const double flops_per_step = kernels::gemm_flops() - flops_before, cpu_before = cpu_seconds(threads > 1);
    const auto start = std::chrono::steady_clock::now();
    run(steps, warmup + 1, threads);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {steps / seconds, flops_per_step, (cpu_seconds(threads > 1) - cpu_before) * 1e3 / steps};
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_kind = "rnn", cell = "gru", decoder = "bahdanau", score = "concat";
    int embed = 32, hidden = 64, attn = 64, vocab = 32, src_len = 12, batch = 32, steps = 100, warmup = 10;
    std::uint64_t seed = 1;
    bool bidirectional = false;
    int layers = 1;
    int threads = 0;
    int d_model = 64, heads = 4, d_ff = 128;  // the Transformer's sizes (issue 18's configuration)
    std::string norm = "pre";
    std::string kernel_set = "auto";
    Cli cli("stepgrad-bench", "Times stepgrad's full training step (forward, backward, Adam).");
    cli.choice("--model", model_kind, {"rnn", "transformer"}, "the SPEC §4 seq2seq model or the SPEC §14 Transformer");
    cli.choice("--cell", cell, {"rnn", "gru", "lstm"}, "recurrent cell");
    cli.choice("--decoder", decoder, {"plain", "bahdanau", "luong"}, "decoder");
    cli.choice("--score", score, {"concat", "dot", "general", "qk", "qk-scaled"}, "attention score (not for plain)");
    cli.option("--embed", embed, "embedding size E", 1, 4096);
    cli.option("--hidden", hidden, "hidden size H", 1, 4096);
    cli.option("--attn", attn, "attention size A", 1, 4096);
    cli.flag("--bidirectional", bidirectional, "bidirectional encoder, keys [→h; ←h] (SPEC §11)");
    cli.option("--layers", layers, "layers of encoder and decoder: L (SPEC §11, up to 4), or N (2 if not given)", 1, 8);
    cli.option("--d-model", d_model, "Transformer width d", 2, 4096);
    cli.option("--heads", heads, "Transformer heads h (d_k = d/h)", 1, 4096);
    cli.option("--d-ff", d_ff, "Transformer feed-forward width", 1, 65536);
    cli.choice("--norm", norm, {"pre", "post"}, "where the Transformer's layer norms sit");
    cli.option("--vocab", vocab, "vocabulary size, <pad> <bos> <eos> included", 4, 100000);
    cli.option("--src-len", src_len, "source length m (the target has m + 1 tokens)", 1, 100000);
    cli.option("--batch", batch, "examples per step", 1, 100000);
    cli.option("--steps", steps, "timed steps", 1, 1000000);
    cli.option("--warmup", warmup, "untimed steps first", 0, 1000000);
    cli.option("--seed", seed, "seed");
    cli.option("--threads", threads, "0: one tape for the batch; N: shards of 16 examples, N at a time on N threads "
                                     "(the same numbers for every N)", 0, max_threads);
    cli.choice("--kernels", kernel_set, {"auto", "reference", "baseline", "avx2", "avx512"},
               "instruction set of the kernels (auto: the best this CPU has; reference: the plain loops)");
    cli.check([&] {
        const auto given_any = [&](std::initializer_list<const char*> names) -> const char* {
            for (const char* name : names)
                if (cli.given(name)) return name;
            return nullptr;
        };
        if (model_kind == "transformer") {
            if (const char* flag = given_any({"--cell", "--decoder", "--score", "--embed", "--hidden", "--attn", "--bidirectional"}))
                throw UsageError(fmt::format("{} is a flag of --model rnn; leave it out with --model transformer", flag));
            if (d_model % 2 != 0 || d_model % heads != 0)
                throw UsageError(fmt::format("--d-model {} must be even and a multiple of --heads {}", d_model, heads));
            return;
        }
        if (const char* flag = given_any({"--d-model", "--heads", "--d-ff", "--norm"}))
            throw UsageError(fmt::format("{} is a flag of --model transformer; leave it out with --model rnn", flag));
        if (layers > 4) throw UsageError(fmt::format("--layers {}: the RNN models stack 1 to 4 layers", layers));
        if (decoder == "plain" && cli.given("--score"))
            throw UsageError("--score has no effect with --decoder plain (it has no attention); leave --score out");
        if (cli.given("--attn") && (decoder == "plain" || (score != "concat" && score != "qk" && score != "qk-scaled")))
            throw UsageError(fmt::format("--attn has no effect with --score {}; leave --attn out", score));
    });
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    return run_lesson("stepgrad-bench", [&] {
        if (kernel_set != "auto") kernels::use(kernel_set);  // one line and exit 2 if the CPU lacks it
        std::unique_ptr<Model> model;
        std::string described;
        if (model_kind == "transformer") {
            TransformerConfig config;
            config.src_vocab = config.tgt_vocab = vocab;
            config.d_model = d_model;
            config.heads = heads;
            config.layers = cli.given("--layers") ? layers : 2;
            config.d_ff = d_ff;
            config.norm = parse_norm_position(norm);
            auto transformer = std::make_unique<Transformer>(config);
            transformer->init(seed);
            model = std::move(transformer);
            described = fmt::format("transformer {}-norm d={} h={} N={} d_ff={}", norm, d_model, heads, config.layers, d_ff);
        } else {
            ModelConfig config;
            config.cell = parse_cell_kind(cell);
            config.decoder = parse_decoder_kind(decoder);
            config.score = config.decoder == DecoderKind::plain ? ScoreKind::none : parse_score_kind(score);
            config.src_vocab = config.tgt_vocab = vocab;
            config.embed = embed;
            config.hidden = hidden;
            config.attn = attn;
            config.bidirectional = bidirectional;
            config.layers = layers;
            // sizes that cannot fit are refused, not killed by the kernel without a word
            const MemoryEstimate memory = estimate_memory(config, batch, src_len + 1, src_len + 1);
            if (!memory.fits())
                throw std::runtime_error(fmt::format("the step needs about {:.1f} GB, more than this machine's {:.1f} GB; "
                                                     "lower --batch, --src-len or --hidden",
                                                     memory.step_bytes / 1e9, memory.machine_bytes / 1e9));
            auto seq2seq = std::make_unique<Seq2Seq>(config);
            seq2seq->init(seed);
            model = std::move(seq2seq);
            described = fmt::format("{} {}{} E={} H={} A={}", cell, decoder,
                                    config.decoder == DecoderKind::plain ? "" : "/" + score, embed, hidden, attn);
        }
        Rng rng(seed);
        // Batches are made before timing: the benchmark times the model, not the data.
        std::vector<Batch> batches;
        for (int i = 0; i < std::min(steps + warmup, 64); ++i) batches.push_back(make_batch(reverse_batch(rng, batch, src_len, vocab)));
        const Timing timing = time_training(*model, batches, steps, warmup, threads);

        const double steps_per_s = timing.steps_per_s, flops_per_step = timing.flops_per_step;
        const double tokens_per_s = steps_per_s * batch * (src_len + 1);
        // FLOPs counted by the matrix-product kernels (forward and backward); the elementwise
        // ops add a few percent more that are not counted.
        const double gflops = flops_per_step * steps_per_s / 1e9, peak = kernels::peak_gflops();
        fmt::print("{} V={} m={} B={}{}: {} parameters, tape {} entries, arena {:.1f} MB\n", described, vocab, src_len,
                   batch, threads == 0 ? "" : fmt::format(" threads={} (shards of {})", threads, shard_examples),
                   model->parameter_count(), tape().size(), static_cast<double>(tape().arena_bytes()) / 1e6);
        fmt::print("{:.2f} ms/step (CPU {:.2f}), {:.1f} MFLOP/step in matrix products: {:.2f} GFLOP/s, {:.0f}% of this "
                   "core's fp64 peak of {:.1f} GFLOP/s ({} kernels){}\n",
                   1e3 / steps_per_s, timing.cpu_ms_per_step, flops_per_step / 1e6, gflops, 100 * gflops / peak, peak, kernels::variant(),
                   threads > 1 ? fmt::format("; CPU is all {} threads', the peak one core's", threads) : "");
        fmt::print("steps_per_s={:.2f} tokens_per_s={:.0f} peak_rss_mb={:.1f}\n", steps_per_s, tokens_per_s, peak_rss_mb());
        return 0;
    }, "--batch, --hidden or --src-len");  // an error (out of memory for a huge --src-len) is one line and exit 2
}
