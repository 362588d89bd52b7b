// Lesson 05 — concat (additive) attention, step by step.
//
// What you will learn
//   How a decoder with attention looks at *every* encoder state at every step, instead
//   of the single vector h_m the plain model of lesson 04 gets. This is seed 000's
//   method 1 and Bahdanau, Cho & Bengio (2014), §3.1:
//
//     e_{j,i} = vᵀ tanh(W [h_i; s_{j−1}])     how well source position i fits the decoder now
//     α_{j,i} = softmax_i(e_{j,i})            the weights: each in (0, 1), summing to 1
//     c_j     = Σ_i α_{j,i} h_i               the context: a weighted average of the h_i
//     s_j     = cell([tgt_embed[y_{j−1}]; c_j], s_{j−1})
//     logits_j = W_out [s_j; c_j] + b_out
//
//   Seed 000 calls this context c_{j−1}, after the state s_{j−1} it was computed from; we
//   name it after the step j that uses it. Same vector, shifted index.
//
// How to run
//   05_concat_attention                       # trains a GRU on `reverse` in seconds, then traces one example
//   05_concat_attention --decoder luong       # Luong's order: s_j first, then attention on s_j, then h̃_j
//   05_concat_attention --cell rnn            # section 3b: the update as seed 000 writes it, tanh(A' [x'; s; c] + b)
//   05_concat_attention --task dates --steps 2000 --json trace.json
//   05_concat_attention --svg alpha.svg       # α as a picture: open it in a browser
//   05_concat_attention --task dates --steps 2000 --sentence "March 3, 1999"   # trace a date of your own
//   05_concat_attention --task en-zh --sentence "Tom chases Jerry"   # α beside seed 004's hand-drawn one
//   05_concat_attention --task zh-en --list-vocab   # every token the task knows
#include "common/lesson.hpp"

using namespace stepgrad;

int main(int argc, char** argv) {
    LessonFlags flags;  // defaults measured to reach ≥ 95% in seconds (README)
    Cli cli("05_concat_attention", "Concat (additive) attention: every score, weight α, context and state.");
    add_lesson_flags(cli, flags, {"bahdanau", "luong"}, {"concat"});
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    if (flags.list_vocab) return list_vocabularies(flags);
    return run_lesson("05_concat_attention", [&] {
        Printer out(flags.print);
        out.title("Lesson 05 · concat attention");
        out.text("Plain seq2seq squeezes the whole source into one vector h_m. Attention keeps every "
                 "encoder state h_1 … h_m and, at each decoder step j, scores each against the decoder's "
                 "state, turns the scores into weights α with a softmax, and reads the weighted average c_j.");

        // --- 1. train the model ---
        out.section("1. train");
        Trained trained = train_or_load(flags, out);
        const Vocab& src_vocab = trained.task->src_vocab();
        const Vocab& tgt_vocab = trained.task->tgt_vocab();

        // --- 2. one held-out example through the encoder ---
        out.section("2. the encoder reads the source");
        const Example example = traced_example(flags, trained, out);  // or --sentence
        out.line("source: \"{}\"   target: \"{}\"", src_vocab.decode(example.src), tgt_vocab.decode(example.tgt));
        out.text("h_0 = 0 and h_i = cell(src_embed[x_i], h_{i−1}). Attention will use all of these states, not only "
                 "the last.");
        const TraceRun run = run_traced_example(*trained.model, example);
        print_parameters(out, *trained.model, run, src_vocab, tgt_vocab);  // with --trace full
        print_encoder(out, *trained.model, run, src_vocab);

        // --- 3. every decoder step: scores, α, context, state ---
        out.section("3. the decoder attends, step by step");
        out.text(trained.model->config().decoder == DecoderKind::bahdanau
                     ? "At step j the query is the previous state s_{j−1} (s_0 = h_m, or with --bidirectional the bridge "
                       "tanh(bridge.W ←h_1 + bridge.b)). Each score is "
                       "e_{j,i} = vᵀ tanh(W [h_i; s_{j−1}]); α_j = softmax(e_j); c_j = Σ_i α_{j,i} h_i is fed "
                       "with the input token into the cell. Seed 000 writes this context as c_{j−1}."
                     : "Luong: the cell runs first, s_j = cell(tgt_embed[y_{j−1}], s_{j−1}); the query is s_j; "
                       "then h̃_j = tanh(W_c [s_j; c_j]) feeds the output layer.");
        print_decoder_steps(out, *trained.model, run, src_vocab, tgt_vocab);

        // --- 3b. seed 000's form of the same update: s_j = tanh(A' [x'_j; s_{j−1}; c_j] + b) ---
        if (has_seed_000_decoder_form(trained.model->config())) {
            out.section("3b. the same state update as seed 000 writes it");
            print_seed_000_decoder_update(out, *trained.model, run, tgt_vocab);
        } else if (trained.model->config().decoder == DecoderKind::bahdanau) {
            out.line("  With --cell rnn, section 3b shows this update in seed 000's form, by numbers.");
        }

        // --- 4. the alignment ---
        out.section("4. α as a picture");
        const std::string task = trained.task->config().name;  // with --load, the checkpoint's
        out.text("Row j is α_j: where the decoder looked while writing target token j. " + expected_alignment(task));
        print_alignment(out, run, src_vocab, tgt_vocab);
        print_alignment_accuracy(out, trained.model->config(), trained.alignment);  // held out, measured after training
        compare_with_seed_004(out, task, run, src_vocab, tgt_vocab);  // en-zh, "Tom chases Jerry" only
        describe_headline_attention(out, task, run, src_vocab, tgt_vocab);  // headline, seed 004's §2.5 sentence only

        write_lesson_trace(flags, "05", trained, run);
        write_lesson_svg(flags, "Lesson 05 · concat attention", trained, run);
        return 0;
    });
}
