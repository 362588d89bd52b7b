// Lesson 10 — from attention to self-attention: the Transformer.
//
// What you will learn
//   Lessons 05 and 06 let a recurrent decoder attend to a recurrent encoder's states. Vaswani
//   et al. (2017) keep the attention and drop the recurrence: every position of a sequence
//   attends to every other at once, and order comes in only through a positional encoding
//   added to the input (SPEC §14):
//
//     X = src_embed[x]·√d + PE      PE[p, 2k] = sin(p / 10000^{2k/d}), PE[p, 2k+1] = cos(…)
//     MHA(Q_in, KV_in): Q = Q_in W_Qᵀ + b_Q, K = KV_in W_Kᵀ + b_K, V = KV_in W_Vᵀ + b_V;
//       head i takes d_k = d/h of their columns:  α_i = softmax(Q_i K_iᵀ/√d_k, −∞ where masked),
//       head_i = α_i V_i,  MHA = [head_1 … head_h] W_Oᵀ + b_O
//     LN(x) = γ ⊙ (x − μ)/√(σ² + 1e-5) + β        FFN(x) = relu(x W_1ᵀ + b_1) W_2ᵀ + b_2
//     pre-norm encoder layer:  x += MHA(LN₁(x), LN₁(x));  x += FFN(LN₂(x));  memory = LN(x)
//     pre-norm decoder layer:  y += MHA(LN₁(y), LN₁(y), causal);  y += MHA(LN₂(y), memory);
//                              y += FFN(LN₃(y));  logits = LN(y) W_outᵀ + b_out
//     post-norm (the paper's, --norm post): x = LN₁(x + MHA(x, x)), … and no final LN
//
//   Lesson 05's attention is the decoder's cross-attention; what is new is self-attention,
//   the causal mask that lets the decoder train every position at once, and the residual
//   stream with its layer norms.
//
// Defaults, measured (2 cores, --trace none): reverse, sources of 4–8 tokens, d = 16, h = 2
//   (d_k = 8), N = 1, d_ff = 32 (6,269 parameters), 1,000 steps of 32, Adam lr 1e-2 with
//   cosine decay, clip 1, no warm-up: 100 % of 500 held-out sequences on seeds 1, 2 and 3,
//   pre-norm and post-norm alike, in 1.7–2.8 s. --task translate (2,000 steps when --steps is
//   left out): 99.8 / 99.2 / 98.0 %, BLEU 99.9 / 99.5 / 99.1, in 7–9 s; --task en-zh (1,000
//   steps): 100 % on all three, under 3 s. Steps to 95 % held out, pre against post, seeds
//   1–3: 450/500/400 against 450/550/450 at N = 1; at N = 4, 500/450/400 against never (93 %
//   at step 1,000)/750/450: without warm-up post-norm barely moves for its first 200 steps
//   (mean loss over steps 101–200: 1.24–1.94 against 0.27–0.54).
//
// How to run
//   10_transformer                          # trains on `reverse` in seconds, then one source through it
//   10_transformer --norm post              # the paper's layout: LN after each residual sum
//   10_transformer --trace full             # every parameter and number, to redo by hand
//   10_transformer --task en-zh --sentence "Tom chases Jerry" --beam 4
//   10_transformer --layers 2 --heads 4 --d-model 32 --d-ff 64 --json transformer.json
#include "common/lesson.hpp"
#include "common/scaling.hpp"                 // defines: print_scaling_measured
#include "common/transformer.hpp"             // defines: the flags, train_or_load_transformer
#include "common/transformer_printing.hpp"    // defines: the encoder, decoder and α printers

using namespace stepgrad;

namespace {

// --steps left out: the budget measured for the task (see the header); 1,000 for the others.
void apply_task_budget(const Cli& cli, TransformerFlags& flags) {
    if (!cli.given("--steps") && !flags.quick && flags.shared.task == "translate") flags.shared.steps = 2000;
}

}  // namespace

int main(int argc, char** argv) {
    TransformerFlags flags;  // d = 16, h = 2, N = 1, d_ff = 32: measured above
    Cli cli("10_transformer", "From attention to self-attention: the Transformer, every head's Q, K, V, scores and α.");
    add_transformer_flags(cli, flags);
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    if (flags.shared.list_vocab) return list_vocabularies(flags.shared);
    apply_task_budget(cli, flags);
    return run_lesson("10_transformer", [&] {
        Printer out(flags.shared.print);
        out.title("Lesson 10 · from attention to self-attention: the Transformer");
        out.text("Lesson 05's decoder attended to the encoder's states; the states themselves came from a recurrent "
                 "cell, one position after another. The Transformer makes every state by attention: each position "
                 "of a sequence asks every other (self-attention), all at once, through h heads. There is no "
                 "recurrence left, so nothing but a positional encoding tells the model where a token is.");

        // --- 1. where a token is: the positional encoding ---
        out.section("1. where a token is: the positional encoding");
        out.text("softmax(QKᵀ/√d_k) does not care in which order the keys come: shuffle the source and each position's "
                 "output is shuffled the same way, nothing more. So a vector that depends on the position p alone is "
                 "added to each embedding (scaled by √d, to match PE's size): PE[p, 2k] = sin(p / 10000^(2k/d)), "
                 "PE[p, 2k+1] = cos(p / 10000^(2k/d)). Each column pair is a clock turning at its own speed, fast in "
                 "the first columns, slow in the last; and since (sin, cos) of p + Δ is (sin, cos) of p turned by an "
                 "angle that depends on Δ alone, PE[p + Δ] is a fixed linear map of PE[p]: 'look Δ places back' can be "
                 "learned once for every p. The first positions, for d = " + std::to_string(flags.d_model) + ":");
        print_positional_encoding(out, flags.d_model, 9);

        // --- 2. train ---
        out.section("2. train");
        TrainedTransformer trained = train_or_load_transformer(flags, out);
        Transformer& model = *trained.model;
        const Vocab& src_vocab = trained.task->src_vocab();
        const Vocab& tgt_vocab = trained.task->tgt_vocab();

        // --- 3. the encoder: self-attention over the source ---
        out.section("3. the encoder: every source position attends to every other");
        const Example example = traced_example(flags.shared, model, *trained.task, out);  // or --sentence
        out.text(fmt::format("source: \"{}\"", src_vocab.decode(example.src)));
        out.text(fmt::format("target: \"{}\"", tgt_vocab.decode(example.tgt)));
        const TransformerTraceRun run = run_traced_example(model, example);
        print_transformer_parameters(out, model, run, src_vocab, tgt_vocab);  // with --trace full
        out.text("Rows are positions p (from 0) with their token. Each sub-layer adds what it computed to the "
                 "residual stream x (pre-norm: its input is LN(x), so x itself never passes through a norm) — or, "
                 "post-norm, normalises the sum. μ and σ² are each position's mean and variance over its d features.");
        print_transformer_encoder(out, model, run, src_vocab);

        // --- 4. the decoder: masked self-attention, then cross-attention ---
        out.section("4. the decoder: masked self-attention, then cross-attention");
        out.text("The decoder reads <bos> y_1 … y_{n−1} and must predict y_1 … y_n, every position at once in "
                 "training (teacher forcing). Its self-attention is masked so that a position cannot see the token "
                 "it must predict; its cross-attention reads the encoder's memory.");
        print_transformer_decoder(out, model, run, src_vocab, tgt_vocab);

        write_transformer_lesson_trace(flags, trained, run);  // --json

        // --- 5. why √d_k: Vaswani et al.'s footnote 4, measured (lesson 06 measures it too) ---
        out.section("5. why divide by √d_k: footnote 4, measured");
        print_model_score_spread(out, model, run);
        print_scaling_measured(out, flags.shared.seed);

        // --- 6. cross-attention as an alignment, beside lesson 05's α ---
        out.section("6. cross-attention as an alignment");
        const std::string& task = trained.task->config().name;  // with --load, the checkpoint's
        out.text("Each cross-attention head's α, rows labelled with the token that position must predict, as "
                 "lesson 05 draws its α. " + expected_alignment(task));
        print_cross_attention_maps(out, run, src_vocab, tgt_vocab);
        // (the last use of `run`: measuring the held-out examples resets the tape)
        print_cross_alignment(out, cross_attention_alignment(model, trained.task->held_out()), task);

        // --- 7. decoding the example on its own ---
        out.section("7. decoding: greedy and beam search");
        const int beam_width = flags.shared.beam > 1 ? flags.shared.beam : 4;
        out.text(fmt::format("Without the answer, the decoder writes one token at a time and reads its own output "
                             "back. Greedy decoding here runs the whole decoder again over the prefix <bos> ŷ_1 … "
                             "ŷ_{{j−1}} at each step and takes the argmax of its last row. The beam, which keeps the "
                             "K = {} most probable prefixes (lesson 09), keeps instead each layer's keys and values of "
                             "the positions so far (a cache): a step computes only the new position, since the causal "
                             "mask means no earlier position ever changes (at K = 1 the two ways write the same tokens).",
                             beam_width));
        print_decodings(out, model, example, beam_width, flags.shared.length_penalty, tgt_vocab);
        const Accuracy& held_out = trained.accuracy;  // section 2's
        out.text(fmt::format("On all {} held-out examples ({}): {:.1f}% of whole sequences right{}.", held_out.examples,
                             decoding_words(evaluate_options(flags.shared, *trained.task)),
                             100 * held_out.sequence_accuracy,
                             held_out.bleu ? fmt::format(", BLEU {:.1f}", *held_out.bleu) : ""));
        return 0;
    });
}
