// stepgrad-bench — times the full training step (forward, backward, Adam update) of the
// SPEC §4 model on the `reverse` task with a fixed source length, and prints steps/s,
// target tokens/s, the GFLOP/s achieved over the whole step (FLOPs counted by the
// matrix-product kernels) against this core's measured fp64 peak, and peak memory.
// Its last line is machine-readable:  steps_per_s=… tokens_per_s=… peak_rss_mb=…
//
//   stepgrad-bench --cell gru --decoder bahdanau --score concat --embed 32 --hidden 64
//                  --attn 64 --vocab 32 --src-len 12 --batch 32 --steps 200
//
// bench/torch_bench.py is the same model in eager PyTorch, for the comparison in README.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/kernels.hpp"  // internal: which instruction set the kernels use
#include "stepgrad/support/cli.hpp"
#include "common/lesson.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/train.hpp"

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

}  // namespace

int main(int argc, char** argv) {
    std::string cell = "gru", decoder = "bahdanau", score = "concat";
    int embed = 32, hidden = 64, attn = 64, vocab = 32, src_len = 12, batch = 32, steps = 100, warmup = 10;
    std::uint64_t seed = 1;
    bool bidirectional = false;
    int layers = 1;
    std::string kernel_set = "auto";
    Cli cli("stepgrad-bench", "Times stepgrad's full training step (forward, backward, Adam).");
    cli.choice("--cell", cell, {"rnn", "gru", "lstm"}, "recurrent cell");
    cli.choice("--decoder", decoder, {"plain", "bahdanau", "luong"}, "decoder");
    cli.choice("--score", score, {"concat", "dot", "general", "qk", "qk-scaled"}, "attention score (not for plain)");
    cli.option("--embed", embed, "embedding size E", 1, 4096);
    cli.option("--hidden", hidden, "hidden size H", 1, 4096);
    cli.option("--attn", attn, "attention size A", 1, 4096);
    cli.flag("--bidirectional", bidirectional, "bidirectional encoder, keys [→h; ←h] (SPEC §11)");
    cli.option("--layers", layers, "layers L of encoder and decoder (SPEC §11)", 1, 4);
    cli.option("--vocab", vocab, "vocabulary size, <pad> <bos> <eos> included", 4, 100000);
    cli.option("--src-len", src_len, "source length m (the target has m + 1 tokens)", 1, 100000);
    cli.option("--batch", batch, "examples per step", 1, 100000);
    cli.option("--steps", steps, "timed steps", 1, 1000000);
    cli.option("--warmup", warmup, "untimed steps first", 0, 1000000);
    cli.option("--seed", seed, "seed");
    cli.choice("--kernels", kernel_set, {"auto", "reference", "baseline", "avx2", "avx512"},
               "instruction set of the kernels (auto: the best this CPU has; reference: the plain loops)");
    cli.check([&] {
        if (decoder == "plain" && cli.given("--score"))
            throw UsageError("--score has no effect with --decoder plain (it has no attention); leave --score out");
        if (cli.given("--attn") && (decoder == "plain" || (score != "concat" && score != "qk" && score != "qk-scaled")))
            throw UsageError(fmt::format("--attn has no effect with --score {}; leave --attn out", score));
    });
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    return run_lesson("stepgrad-bench", [&] {
        if (kernel_set != "auto") kernels::use(kernel_set);  // one line and exit 2 if the CPU lacks it
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
        Seq2Seq model(config);
        model.init(seed);
        Adam adam;
        Rng rng(seed);

        // Batches are made before timing: the benchmark times the model, not the data.
        std::vector<Batch> batches;
        for (int i = 0; i < std::min(steps + warmup, 64); ++i) batches.push_back(make_batch(reverse_batch(rng, batch, src_len, vocab)));
        auto run = [&](int count, int offset) {
            for (int i = 0; i < count; ++i)
                train_step(model, adam, batches[static_cast<std::size_t>(offset + i) % batches.size()], 1e-3, 1.0, i + 1);
        };
        run(warmup, 0);
        const double flops_before = kernels::gemm_flops();
        const auto start = std::chrono::steady_clock::now();
        run(steps, warmup);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double flops_per_step = (kernels::gemm_flops() - flops_before) / steps;

        const double steps_per_s = steps / seconds;
        const double tokens_per_s = steps_per_s * batch * (src_len + 1);
        // FLOPs counted by the matrix-product kernels (forward and backward); the elementwise
        // ops add a few percent more that are not counted.
        const double gflops = flops_per_step * steps_per_s / 1e9, peak = kernels::peak_gflops();
        fmt::print("{} {}{} E={} H={} A={} V={} m={} B={}: {} parameters, tape {} entries, arena {:.1f} MB\n", cell,
                   decoder, config.decoder == DecoderKind::plain ? "" : "/" + score, embed, hidden, attn, vocab, src_len,
                   batch, model.parameter_count(), tape().size(), static_cast<double>(tape().arena_bytes()) / 1e6);
        fmt::print("{:.2f} ms/step, {:.1f} MFLOP/step in matrix products: {:.2f} GFLOP/s, {:.0f}% of this core's "
                   "fp64 peak of {:.1f} GFLOP/s ({} kernels)\n",
                   1e3 / steps_per_s, flops_per_step / 1e6, gflops, 100 * gflops / peak, peak, kernels::variant());
        fmt::print("steps_per_s={:.2f} tokens_per_s={:.0f} peak_rss_mb={:.1f}\n", steps_per_s, tokens_per_s, peak_rss_mb());
        return 0;
    }, "--batch, --hidden or --src-len");  // an error (out of memory for a huge --src-len) is one line and exit 2
}
