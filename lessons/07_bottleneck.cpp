// Lesson 07 — the bottleneck, measured: plain vs concat vs dot-product attention as the
// source grows.
//
// What you will learn
//   Lesson 04 showed that plain seq2seq hands the decoder one vector, s_0 = h_m, and that
//   its accuracy falls as the source grows. Here the three models of lessons 04–06 get
//   the same budget — same cell, E, H, A, steps, batch, optimizer and learning rate —
//   and are trained on sources of one fixed length L, for several L:
//
//     plain      s_0 = h_m and nothing else                         (lesson 04)
//     concat     e_{j,i} = vᵀ tanh(W [h_i; s_{j−1}])                 (lesson 05)
//     qk-scaled  e_{j,i} = (W_K h_i)ᵀ (W_Q s_{j−1}) / √A             (lesson 06)
//
//   and, with --models …,transformer, lesson 10's Transformer: no recurrence at all, every
//   position attends to every other. It gets the same budget, with d_model = H (its states
//   as wide as the RNNs'), 2 heads (--transformer-heads), N = 1 layer, d_ff = 2·d, pre norm.
//
//   Each is then scored on held-out sources it never saw, with greedy decoding: the share
//   of whole sequences it gets exactly right, and of target tokens. Plotted against L,
//   this is the shape of Bahdanau, Cho & Bengio (2014), Figure 2: the encoder–decoder's
//   score falls as sentences get longer, the attention model's holds. The plain model
//   must squeeze L tokens into H numbers; the attention models re-read every h_i at
//   every step, so nothing has to survive the trip through one vector.
//
//   Two more claims, as numbers. Seed 002 §5: attention eases vanishing gradients. After
//   training, ‖∂L/∂h_i‖ for each source position i (L one held-out example's mean token
//   loss): in the plain model the loss reaches h_1 only through every later encoder step
//   and the whole decoder, with attention through c_j = Σ_i α_{j,i} h_i in one step.
//   Vaswani et al. (2017), footnote 4: divide k_iᵀq_j by √A, or large scores push the
//   softmax towards one-hot. qk against qk-scaled at a larger A, one budget.
//
// How to run
//   07_bottleneck                               # reverse, L = 5, 8, 12, 20, 30: a few minutes
//   07_bottleneck --quick                       # tiny lengths and budget, seconds (the tests)
//   07_bottleneck --task translate              # English → Zeli sentences of 4, 6, 8, 10, 12 words
//   07_bottleneck --lengths 5,10,20,40 --steps 3000 --csv bottleneck.csv --json bottleneck.json
//   07_bottleneck --models plain,concat,dot,general,qk,qk-scaled
//   07_bottleneck --models plain,concat,qk-scaled,transformer
//   07_bottleneck --quick --svg alpha.svg       # α at the longest length, as a picture
//   07_bottleneck --scaling-attn 256            # qk against qk-scaled at A = 256 (0: not at all)
// Ctrl-C stops the training: the models that finished are reported, then it exits 130.
// The models train two at a time (--jobs), each on its own thread; the output is the
// same whatever --jobs is.
#include <algorithm>
#include <optional>

#include "common/bottleneck.hpp"     // defines: the flags, train_comparison, the tables, verdicts, CSV and JSON
#include "common/gradient_flow.hpp"  // defines: print_gradient_flow
#include "common/lesson.hpp"
#include "stepgrad/support/files.hpp"  // defines: write_file_atomically
#include "stepgrad/support/svg.hpp"    // defines: heatmap_svg

using namespace stepgrad;

int main(int argc, char** argv) {
    BottleneckFlags options;
    LessonFlags& flags = options.shared;
    flags.steps = 1500;
    flags.embed = flags.hidden = flags.attn = 16;
    flags.held_out = 300;
    flags.print.trace = TraceLevel::steps;
    Cli cli("07_bottleneck", "Plain vs concat vs dot-product attention as the source grows (Bahdanau et al.'s Figure 2).");
    add_bottleneck_flags(cli, options);
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    if (flags.list_vocab) return list_vocabularies(flags);
    const std::vector<int>& lengths = options.lengths;
    const std::vector<Contender>& models = options.models;
    const auto transformer = std::find_if(models.begin(), models.end(), [](const Contender& m) { return m.transformer(); });
    const bool has_transformer = transformer != models.end();  // it skips the parts about α and h_i

    return run_lesson("07_bottleneck", [&] {
        Printer out(flags.print);
        out.title("Lesson 07 · the bottleneck, measured");
        out.text("The same task at several source lengths, and the same budget for every model. The plain "
                 "model's decoder knows the source only through h_m, H numbers whatever the length; the "
                 "attention models re-read every encoder state at every step. Watch what length does to each.");

        // --- 1. the models and their budget ---
        out.section("1. the models, and one budget for all");
        out.text(fmt::format(
            "Task '{}' ({}); sources of exactly L tokens, L = {}. Every model: a {} encoder and decoder, "
            "E = {}, H = {}, A = {}; {} steps of {} examples, {}, lr {} with cosine decay, {}. Each is scored "
            "on the same {} held-out sources per length, never trained on, with greedy decoding.",
            flags.task, describe_task(flags.task), fmt::join(lengths, ", "), cell_title(flags.cell), flags.embed, flags.hidden,
            flags.attn, flags.steps, flags.batch, flags.optimizer == "adam" ? "Adam" : "SGD", flags.lr,
            flags.clip > 0 ? fmt::format("gradient norm clipped at {}", flags.clip) : "no clipping", flags.held_out));
        Table setup({"model", "decoder", "score", "parameters"});
        setup.align(1, Align::left).align(2, Align::left);
        for (const Contender& model : models) {
            const LessonFlags model_flags = flags_for(flags, model);
            setup.add_row(model.name, model_flags.decoder, model_flags.score, parameter_count(flags, model, lengths.front()));
        }
        out.table(setup);
        out.text("The attention models have more parameters (the score's, and a decoder and output layer that "
                 "also read c_j), but the same state size H: the plain model can be given a larger --hidden to "
                 "try to make up for it.");
        if (has_transformer) out.text(transformer_sentence(flags, *transformer, lengths.front()));

        // --- 2. train every model at every length ---
        // --jobs threads at once; each model has its own task, model and generator, so the
        // numbers do not depend on which thread trained it or when.
        out.section("2. training");
        const Comparison comparison = train_comparison(flags, lengths, models, options.jobs);
        if (comparison.interrupted) report_interrupted(out, comparison);  // Ctrl-C: what finished, then exit 130
        out.text(fmt::format("Trained {} models ({} lengths × {}); progress went to stderr. Training loss, the "
                             "mean over the last 10% of the steps:",
                             comparison.runs.size(), lengths.size(), models.size()));
        out.table(loss_table(comparison));

        // --- 3. held-out accuracy by length ---
        out.section("3. held-out accuracy by source length");
        out.line("  whole sequences exactly right (the harder measure):");
        out.table(accuracy_table(comparison, true));
        out.blank();
        out.line("  target tokens right (position by position):");
        out.table(accuracy_table(comparison, false));
        out.blank();
        std::vector<Bar> bars;
        for (std::size_t l = 0; l < lengths.size(); ++l)
            for (std::size_t k = 0; k < models.size(); ++k)
                bars.push_back({fmt::format("L = {:<3} {}", lengths[l], models[k].name),
                                comparison.at(l, k).trained.accuracy.sequence_accuracy});
        out.bars("whole-sequence accuracy", bars);
        out.text(bottleneck_verdict(comparison));  // worded from the measured numbers

        // --- 4. where the attention models look, at the longest length ---
        const std::size_t last = lengths.size() - 1;
        out.section(fmt::format("4. α at L = {}", lengths[last]));
        AlignmentMaps maps = print_alignment_maps(out, comparison, flags.task);

        // --- 5. how much gradient reaches each h_i ---
        // Measured on each run's thread as soon as it finished training (gradient_flow.hpp).
        out.section(fmt::format("5. how much gradient reaches each h_i, at L = {}", lengths[last]));
        out.text(fmt::format("Seed 002 says attention eases vanishing gradients. After training, {} held-out sources "
                             "of the longest length, teacher forced: for each, the gradient of its mean token loss L "
                             "with respect to every encoder state h_i, and its norm ‖∂L/∂h_i‖, averaged over the "
                             "sources. Position {} is the <eos>, whose h_m is also the decoder's s_0.",
                             std::min(flags.held_out, gradient_examples), lengths[last] + 1));
        if (has_transformer)
            out.text("The Transformer has no recurrent h_i: every position reaches every other in one step of "
                     "self-attention, so its gradient flow is not comparable and it is left out.");
        if (models.size() > 1 || !has_transformer) print_gradient_flow(out, comparison);

        // --- 6. what 1/√A does to learning ---
        // The same runner, at one length: two models that differ only in 1/√A, from the same
        // initial weights (the score's parameters are the same shapes in the same order).
        std::optional<ScalingComparison> scaling;
        if (options.scaling_attn > 0) {
            const int A = options.scaling_attn, length = lengths[lengths.size() / 2];
            out.section(fmt::format("6. what 1/√A does to learning: qk against qk-scaled, A = {}", A));
            out.text(fmt::format("Vaswani et al. (2017, footnote 4) divide k_iᵀq_j by √A: a dot product of A terms "
                                 "grows like √A, and large scores push the softmax towards one-hot, where its gradient "
                                 "vanishes. Lesson 06 measured that on the scores; here is what it does to learning. qk "
                                 "and qk-scaled with A = {} are trained at L = {} with section 1's budget and scored on "
                                 "the same held-out sources. σ(e) is the standard deviation of their first decoder step's "
                                 "scores e_{{1,i}} before any training; the mean loss, over every step, says how fast "
                                 "each learned; the late loss is over the last 10%.",
                                 A, length));
            scaling = train_scaling(flags, length, A, options.jobs);
            if (scaling->runs.interrupted) report_interrupted(out, scaling->runs);  // Ctrl-C: as in section 2
            out.table(scaling_table(*scaling));
            out.text(scaling_verdict(*scaling));
            if (has_transformer) out.text("(The Transformer is not part of this: its scores are always divided by √d_k.)");
        }

        // --- 7. the results, for notebooks and plots ---
        if (!options.csv.empty()) write_bottleneck_csv(options.csv, flags, comparison);
        if (!flags.json.empty())
            write_bottleneck_json(flags.json, flags, comparison, maps.json, scaling ? &*scaling : nullptr);
        if (!options.svg.empty())
            write_file_atomically(options.svg, heatmap_svg(fmt::format("Lesson 07 · α at L = {}: target tokens down, source "
                                                                       "tokens across", lengths[last]), "α", maps.pictures));
        if (!options.csv.empty() || !flags.json.empty() || !options.svg.empty()) {
            out.section(fmt::format("{}. results written", scaling ? 7 : 6));
            if (!options.csv.empty())
                out.line("  {}: one row per length and model, ‖∂L/∂h_i‖ in grad_norm_i", options.csv);
            if (!flags.json.empty())
                out.line("  {}: settings, results, gradient norms, losses, α maps{}", flags.json,
                         scaling ? ", qk vs qk-scaled" : "");
            if (!options.svg.empty()) out.line("  {}: α at L = {}, one heatmap per attention model", options.svg, lengths[last]);
        }
        return 0;
    });
}
