// Lesson 04 — plain seq2seq and its bottleneck.
//
// What you will learn
//   How an encoder–decoder turns one sequence into another (seed 000, first half;
//   seed 004 §1): the encoder reads the source into states h_1 … h_m, hands the decoder
//   only the last one, and the decoder writes the target one token at a time.
//
//     h_0 = 0,   h_i = cell(src_embed[x_i], h_{i−1})          i = 1..m
//     s_0 = h_m                                               the only thing passed on
//     s_j = cell(tgt_embed[y_{j−1}], s_{j−1}),   y_0 = <bos>
//     logits_j = W_out s_j + b_out,   loss = mean_j −log softmax(logits_j)[y_j]
//
//   Everything the decoder knows of the source is h_m, a vector of H numbers. The
//   longer the source, the more it has to hold — the bottleneck that attention removes
//   (lesson 05). The table at the end measures it.
//
// How to run
//   04_plain_seq2seq                      # trains a GRU on `reverse` in seconds, then traces one example
//   04_plain_seq2seq --cell lstm --hidden 64 --steps 3000
#include "common/lesson.hpp"

using namespace stepgrad;

int main(int argc, char** argv) {
    LessonFlags flags;
    flags.decoder = "plain";
    flags.score = "none";
    flags.embed = flags.hidden = 32;
    flags.lesson_lengths = {3, 12};  // for `reverse`; another --task keeps its own
    flags.steps = 1200;
    Cli cli("04_plain_seq2seq", "Plain seq2seq: every encoder and decoder state, and the bottleneck measured.");
    add_lesson_flags(cli, flags, {"plain"}, {});
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    if (flags.list_vocab) return list_vocabularies(flags);
    return run_lesson("04_plain_seq2seq", [&] {
        Printer out(flags.print);
        out.title("Lesson 04 · plain seq2seq");
        out.text("An encoder RNN reads the source token by token; its last state h_m becomes the decoder's "
                 "first state s_0; the decoder RNN then writes the target, feeding each token it wrote back "
                 "in. No other path connects the two.");

        // --- 1. train ---
        out.section("1. train");
        Trained trained = train_or_load(flags, out);
        const Vocab& src_vocab = trained.task->src_vocab();
        const Vocab& tgt_vocab = trained.task->tgt_vocab();

        // --- 2. the encoder ---
        out.section("2. the encoder reads the source");
        const Example example = traced_example(flags, trained, out);  // or --sentence
        out.line("source: \"{}\"   target: \"{}\"", src_vocab.decode(example.src), tgt_vocab.decode(example.tgt));
        out.text("h_0 = 0 and h_i = cell(src_embed[x_i], h_{i−1}).");
        const TraceRun run = run_traced_example(*trained.model, example);
        print_parameters(out, *trained.model, run, src_vocab, tgt_vocab);  // with --trace full
        print_encoder(out, *trained.model, run, src_vocab);

        // --- 3. the hand-over ---
        out.section(trained.model->config().bidirectional ? "3. the bottleneck: s_0" : "3. the bottleneck: s_0 = h_m");
        const ModelConfig& config = trained.model->config();
        const std::vector<CellState>& starts = run.forward.encoder.initial;  // one per layer
        for (std::size_t l = 0; l < starts.size(); ++l) {
            const std::string layer = starts.size() > 1 ? fmt::format("layer {}: ", l + 1) : "";
            // bidirectional: s_0 = tanh(bridge.W ←h_1 + bridge.b), from the backward direction
            out.vector(config.bidirectional ? layer + "s_0 = tanh(bridge.W ←h_1 + bridge.b)"
                                            : fmt::format("{}s_0 = h_{}", layer, run.batch.src_len),
                       starts[l].h.row(0));
        }
        out.text(fmt::format("These {} numbers are all the decoder will ever know of the source. Whatever the "
                             "encoder did not fit into them is gone.",
                             config.hidden * config.layers));

        // --- 4. the decoder ---
        out.section("4. the decoder writes the target");
        out.text("Teacher forcing: step j reads the true previous token y_{j−1} and is scored on y_j.");
        print_decoder_steps(out, *trained.model, run, src_vocab, tgt_vocab);
        write_lesson_trace(flags, "04", trained, run);  // before section 5 reuses the tape

        // --- 5. the bottleneck, measured ---
        out.section("5. accuracy as the source grows");
        const EvaluateOptions decoding = evaluate_options(flags, *trained.task);  // --beam, --length-penalty
        out.text(fmt::format("Held-out examples grouped by source length ({}, no teacher forcing). The model had "
                             "the same training at every length; what changes is how much h_m must carry.",
                             decoding_words(decoding)));
        print_accuracy_by_length(out, *trained.model, *trained.task, decoding);
        return 0;
    });
}
