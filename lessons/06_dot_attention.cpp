// Lesson 06 — dot-product attention: dot, general, qk and qk-scaled.
//
// What you will learn
//   The second family of scores: compare vectors with a dot product instead of a small
//   neural network (seed 000 method 2; seed 002 §1.5.1; Luong et al. 2015).
//
//     dot        e_{j,i} = sᵀ h_i
//     general    e_{j,i} = sᵀ W h_i                  W (H × H)
//     qk         k_i = W_K h_i,  q_j = W_Q s,  e_{j,i} = k_iᵀ q_j      W_K, W_Q (A × H)
//     qk-scaled  e_{j,i} = k_iᵀ q_j / √A             the Transformer's scaled dot product
//
//   then, as with concat attention, α_j = softmax(e_j) and c_j = Σ_i α_{j,i} h_i. The keys
//   k_i are computed once per source; each step only makes a new query q_j.
//   Why divide by √A? A dot product of A terms grows like √A, and large scores push the
//   softmax towards one-hot, where its gradient vanishes. Sections 4 and 4b measure it.
//
// How to run
//   06_dot_attention                          # qk scores, GRU, `reverse`, trains in seconds
//   06_dot_attention --score qk-scaled --steps 2000
//   06_dot_attention --score general --decoder luong --svg alpha.svg   # α as a picture
//   06_dot_attention --task translate --steps 3000 --sentence "the old cat sees a bird"
#include <cmath>

#include "common/lesson.hpp"
#include "common/scaling.hpp"  // defines: print_scaling_measured
#include "stepgrad/ops.hpp"

using namespace stepgrad;

namespace {

// The largest α of each row, averaged: 1 is one-hot, 1/m is uniform.
double mean_peak(const std::vector<std::vector<double>>& rows) {
    double total = 0;
    for (const auto& row : rows) total += *std::max_element(row.begin(), row.end());
    return total / static_cast<double>(rows.size());
}

// Section 3's formula line: the chosen score, in the symbols its table prints.
std::string score_sentence(ScoreKind score) {
    switch (score) {
        case ScoreKind::dot: return "dot: e_{j,i} = sᵀh_i, the query s itself against each h_i.";
        case ScoreKind::general: return "general: e_{j,i} = sᵀ(W h_i); each step prints its sᵀW once and takes its dot product with every h_i.";
        case ScoreKind::qk: return "qk: e_{j,i} = k_iᵀq_j, the step's query q_j = W_Q s against the keys k_i = W_K h_i printed above.";
        case ScoreKind::qk_scaled:
            return "qk-scaled: e_{j,i} = k_iᵀq_j/√A, the step's query q_j = W_Q s against the keys k_i = W_K h_i printed "
                   "above, divided by √A.";
        case ScoreKind::concat:
        case ScoreKind::none: break;
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    LessonFlags flags;
    flags.score = "qk";
    flags.steps = 2000;  // zh-en reaches ≥ 98% on seeds 1–3 with 2000 (91.6% on seed 2 with 1500)
    Cli cli("06_dot_attention", "Dot-product attention (dot, general, qk, qk-scaled): keys, queries, scores, α.");
    add_lesson_flags(cli, flags, {"bahdanau", "luong"}, {"dot", "general", "qk", "qk-scaled"});
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    if (flags.list_vocab) return list_vocabularies(flags);
    return run_lesson("06_dot_attention", [&] {
        Printer out(flags.print);
        out.title(fmt::format("Lesson 06 · dot-product attention ({})", flags.score));
        out.text("Scores by dot products: the decoder's state (or a query made from it) is compared with each "
                 "encoder state (or a key made from it). Same α and context as lesson 05; a different score.");

        // --- 1. train ---
        out.section("1. train");
        Trained trained = train_or_load(flags, out);
        Seq2Seq& model = *trained.model;
        const Vocab& src_vocab = trained.task->src_vocab();
        const Vocab& tgt_vocab = trained.task->tgt_vocab();

        // --- 2. encoder, keys ---
        out.section("2. the encoder, and the keys it offers");
        const Example example = traced_example(flags, trained, out);  // or --sentence
        out.line("source: \"{}\"   target: \"{}\"", src_vocab.decode(example.src), tgt_vocab.decode(example.tgt));
        const TraceRun run = run_traced_example(model, example);
        print_parameters(out, model, run, src_vocab, tgt_vocab);  // with --trace full
        print_encoder(out, model, run, src_vocab);

        // --- 3. every decoder step ---
        out.section("3. the decoder attends, step by step");
        out.text(score_sentence(model.config().score));
        print_decoder_steps(out, model, run, src_vocab, tgt_vocab);

        // --- 4. what 1/√d does to the softmax ---
        const Tensor keys = run.forward.encoder.attention.keys;
        const int m = run.batch.src_len, d = keys.cols() / m;
        out.section(fmt::format("4. scaling: the same scores divided by √{} = {:.3f}", d, std::sqrt(double(d))));
        out.text("Same weights, same keys and queries: only the scores are divided (or not) before the softmax. "
                 "Bigger scores make α peakier; the model trained with one of them.");
        std::vector<std::vector<double>> alpha_raw, alpha_scaled;
        for (std::size_t j = 0; j < run.forward.decoder.size(); ++j) {
            // k_iᵀ q_j for every i, and the same divided by √d
            const Tensor raw = blocks_dot(keys, run.forward.decoder[j].attention.query);
            const Tensor scaled = scale(raw, 1 / std::sqrt(static_cast<double>(d)));
            alpha_raw.push_back(softmax(raw).row(0));
            alpha_scaled.push_back(softmax(scaled).row(0));
            if (j != 0) continue;
            Table table({"i", "x_i", "k_iᵀ q_1", "α (unscaled)", "k_iᵀ q_1 / √d", "α (scaled)"});
            table.precision(out.precision());
            for (int i = 0; i < m; ++i)
                table.add_row(i + 1, "'" + src_vocab.token(run.batch.src[static_cast<std::size_t>(i)]) + "'",
                              raw.at(0, i), alpha_raw.back()[static_cast<std::size_t>(i)], scaled.at(0, i),
                              alpha_scaled.back()[static_cast<std::size_t>(i)]);
            out.table(table);
        }
        out.line("  largest α of a step, averaged over the {} steps: {:.3f} unscaled, {:.3f} scaled", alpha_raw.size(),
                 mean_peak(alpha_raw), mean_peak(alpha_scaled));
        out.line("  (a uniform α would give {:.3f})", 1.0 / m);

        // --- 4b. why √d at all: footnote 4 of Vaswani et al. 2017, on random q and k ---
        out.section("4b. why √d: Vaswani et al.'s footnote 4, measured");
        print_scaling_measured(out, flags.seed);

        // --- 5. the alignment ---
        out.section("5. α as a picture");
        print_alignment(out, run, src_vocab, tgt_vocab);
        print_alignment_accuracy(out, trained.model->config(), trained.alignment);  // held out, measured after training

        write_lesson_trace(flags, "06", trained, run);
        write_lesson_svg(flags, "Lesson 06 · dot-product attention", trained, run);
        return 0;
    });
}
