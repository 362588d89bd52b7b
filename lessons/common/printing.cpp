// The printers of one example's computation (see printing.hpp).
#include "common/printing.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/parameters.hpp"  // defines: gate_letters
#include "stepgrad/support/text.hpp"  // defines: quoted
#include "common/training.hpp"  // defines: evaluate, evaluate_options

namespace stepgrad {

namespace {

std::string quoted(const Vocab& vocab, int id) { return "'" + vocab.token(id) + "'"; }

// The k most probable next tokens under softmax(logits).
std::string top_predictions(const std::vector<double>& logits, const Vocab& vocab, int k) {
    const double max = *std::max_element(logits.begin(), logits.end());
    double total = 0;
    for (double l : logits) total += std::exp(l - max);
    std::vector<int> order(logits.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)]; });
    std::string text;
    for (int i = 0; i < k && i < static_cast<int>(order.size()); ++i)
        text += fmt::format("{}{} {:.3f}", i ? ",  " : "", quoted(vocab, order[static_cast<std::size_t>(i)]),
                            std::exp(logits[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] - max) / total);
    return text;
}

// The step equations of a cell, once, so that the "pre" vectors of --trace full say
// which sum they are: `input` is what W_ih multiplies, `state` h or s, `t` t or j.
void print_cell_equations(Printer& out, CellKind kind, std::string_view input, std::string_view state, std::string_view t) {
    const std::string now = fmt::format("{}_{}", state, t), before = fmt::format("{}_{{{}−1}}", state, t);
    std::vector<std::string> lines;
    if (kind == CellKind::rnn) {
        lines = {fmt::format("pre {} = W_ih {} + b_ih + W_hh {} + b_hh", now, input, before),
                 fmt::format("{} = tanh(pre {})", now, now)};
    } else {
        for (const std::string& g : gate_letters(kind)) {
            const bool n = kind == CellKind::gru && g == "n";
            const bool tanh = n || (kind == CellKind::lstm && g == "g");
            const std::string hidden = n ? fmt::format("r_{} ⊙ (W_hn {} + b_hn)", t, before)
                                         : fmt::format("W_h{} {} + b_h{}", g, before, g);
            lines.push_back(fmt::format("pre {}_{} = W_i{} {} + b_i{} + {}", g, t, g, input, g, hidden));
            lines.push_back(fmt::format("{}_{} = {}(pre {}_{})", g, t, tanh ? "tanh" : "σ", g, t));
        }
        lines.push_back(kind == CellKind::gru
                            ? fmt::format("{} = (1 − z_{}) ⊙ n_{} + z_{} ⊙ {}", now, t, t, t, before)
                            : fmt::format("c_{} = f_{} ⊙ c_{{{}−1}} + i_{} ⊙ g_{},   {} = o_{} ⊙ tanh(c_{})", t, t, t, t, t,
                                          now, t, t));
    }
    out.line("  per step (W_ir is the r rows of W_ih, and so on):");
    for (const std::string& line : lines) out.line("    {}", line);
}

// A cell step's gates (from --trace gates on; with full each pre-activation first), its
// new state and, for LSTM, its memory c (`memory_label` names it: the decoder's c_j would
// read as the context). `arrow` ("→", "←" or "") marks a bidirectional encoder's direction
// on every label.
void print_gates(Printer& out, const CellStep& step, std::string_view state_name, int t, std::string_view memory_label = "c_{}",
                 std::string_view arrow = "") {
    if (out.shows(TraceLevel::gates))
        for (const Gate& gate : step.gates()) {
            if (out.shows(TraceLevel::full))
                out.vector(fmt::format("pre {}{}_{}", arrow, gate.name, t), gate.pre_activation.row(0));
            out.vector(fmt::format("{}{}_{}", arrow, gate.name, t), gate.value.row(0));
        }
    if (out.shows(TraceLevel::full) && step.gate_count == 0)
        out.vector(fmt::format("pre {}{}_{}", arrow, state_name, t), step.pre_activation.row(0));
    if (step.state.c.defined())
        out.vector(fmt::format("{}{}", arrow, fmt::format(fmt::runtime(memory_label), t)), step.state.c.row(0));
    out.vector(fmt::format("{}{}_{}", arrow, state_name, t), step.state.h.row(0));
}

// The one line that ends a section below --trace full: which flag shows the rest.
void print_more_hint(Printer& out) {
    if (!out.shows(TraceLevel::full))
        out.line("  (more: --trace full prints every entry and each step's numbers plugged in)");
}

// Row 0's i-th block of width K of a (1, m·K) blocks tensor.
std::vector<double> block(Tensor blocks, int i, int K) {
    const auto row = blocks.row(0);
    return {row.begin() + i * K, row.begin() + (i + 1) * K};
}

// α as a bar of up to 20 columns, in the █ of every other bar.
std::string repeat_bar(std::size_t columns) {
    std::string bar;
    for (std::size_t k = 0; k < columns; ++k) bar += "█";
    return bar;
}

// The score's formula as step j's table heads its column, in the symbols printed above it.
std::string score_formula(ScoreKind score, std::string_view query, int t) {
    switch (score) {
        case ScoreKind::concat: return fmt::format("vᵀtanh(W[h_i; {}])", query);
        case ScoreKind::dot: return fmt::format("{}ᵀh_i", query);
        case ScoreKind::general: return fmt::format("{}ᵀ(W h_i)", query);
        case ScoreKind::qk: return fmt::format("k_iᵀq_{}", t);
        case ScoreKind::qk_scaled: return fmt::format("k_iᵀq_{}/√A", t);
        case ScoreKind::none: break;
    }
    return "";
}

// With --trace full, what step j's score computes between keys and query: concat's W_s s
// and each tanh(W_h h_i + W_s s) (e_{j,i} is v · that), general's sᵀW (e_{j,i} is that · h_i).
// qk's q_j shows from --trace gates on.
void print_score_inside(Printer& out, const ModelConfig& config, const TraceRun& run, std::size_t j,
                        std::string_view query) {
    const AttentionStep& attention = run.forward.decoder[j].attention;
    const int t = static_cast<int>(j + 1), m = run.batch.src_len, A = config.attn;
    switch (config.score) {
        case ScoreKind::qk:
        case ScoreKind::qk_scaled:
            if (out.shows(TraceLevel::gates)) out.vector(fmt::format("q_{} = W_Q {}", t, query), attention.query.row(0));
            return;
        case ScoreKind::general:
            if (out.shows(TraceLevel::full)) out.vector(fmt::format("{}ᵀW", query), attention.query.row(0));
            return;
        case ScoreKind::concat:
            if (!out.shows(TraceLevel::full)) return;
            out.vector(fmt::format("W_s {}", query), attention.query.row(0));
            for (int i = 0; i < m; ++i) {
                const std::vector<double> key = block(run.forward.encoder.attention.keys, i, A);
                std::vector<double> inside(key.size());
                // tanh(W_h h_i + W_s s): the vector v weighs into e_{j,i}
                for (std::size_t k = 0; k < key.size(); ++k) inside[k] = std::tanh(key[k] + attention.query.row(0)[k]);
                out.vector(fmt::format("tanh(W_h h_{} + W_s {})", i + 1, query), inside);
            }
            return;
        case ScoreKind::dot:
        case ScoreKind::none: return;
    }
}

// Step j's attention: what the score computes, a table of every e_{j,i} and α_{j,i}, their
// sum and the context c_j.
void print_attention(Printer& out, const ModelConfig& config, const TraceRun& run, std::size_t j,
                     const Vocab& src_vocab) {
    const DecoderStep& step = run.forward.decoder[j];
    const int t = static_cast<int>(j + 1);
    const int m = run.batch.src_len;
    const std::string query = config.decoder == DecoderKind::bahdanau ? fmt::format("s_{}", t - 1) : fmt::format("s_{}", t);
    print_score_inside(out, config, run, j, query);
    Table table({"i", "x_i", fmt::format("e_{},i = {}", t, score_formula(config.score, query, t)), fmt::format("α_{},i", t), ""});
    table.precision(out.precision());
    const auto scores = step.attention.scores.row(0), alpha = step.attention.alpha.row(0);
    double total = 0;
    for (int i = 0; i < m; ++i) {
        const std::size_t at = static_cast<std::size_t>(i);
        total += alpha[at];
        table.add_row(i + 1, quoted(src_vocab, run.batch.src[at]), scores[at], alpha[at],
                      repeat_bar(static_cast<std::size_t>(std::lround(alpha[at] * 20))));
    }
    table.align(4, Align::left);  // a bar grows from the left
    out.table(table);
    out.line("  Σ_i α_{},i = {:.{}f}", t, total, out.precision());
    out.vector(fmt::format("c_{} = Σ_i α_{},i h_i", t, t), step.attention.context.row(0));
}

// The keys a score computes once per source, before any decoder step: concat's W_h h_i
// (--trace full), qk's k_i = W_K h_i (from --trace gates).
void print_keys(Printer& out, const ModelConfig& config, const TraceRun& run) {
    const bool qk = config.score == ScoreKind::qk || config.score == ScoreKind::qk_scaled;
    const bool concat = config.score == ScoreKind::concat;
    if (!(qk && out.shows(TraceLevel::gates)) && !(concat && out.shows(TraceLevel::full))) return;
    if (qk)
        out.line("  the keys, computed once for the whole source before step 1:");
    else
        out.line("  W_h h_i, once for the whole source (W = [W_h W_s], W_h its first {} columns):", key_size(config));
    for (int i = 0; i < run.batch.src_len; ++i)
        out.vector(qk ? fmt::format("k_{} = W_K h_{}", i + 1, i + 1) : fmt::format("W_h h_{}", i + 1),
                   block(run.forward.encoder.attention.keys, i, config.attn));
}

// With --trace full: logits_j, softmax(logits_j) and the loss term of step j.
void print_logits(Printer& out, const ModelConfig& config, const TraceRun& run, std::size_t j, const Vocab& tgt_vocab) {
    const int t = static_cast<int>(j + 1);
    const std::string features = config.decoder == DecoderKind::plain  ? fmt::format("s_{}", t)
                                 : config.decoder == DecoderKind::luong ? fmt::format("h̃_{}", t)
                                                                         : fmt::format("[s_{}; c_{}]", t, t);
    const auto logits = run.forward.logits.row(static_cast<int>(j));
    const double max = *std::max_element(logits.begin(), logits.end());
    double total = 0;
    for (double l : logits) total += std::exp(l - max);
    std::vector<double> p(logits.size());
    // p_j = softmax(logits_j), shifted by the largest logit so that exp cannot overflow
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = std::exp(logits[k] - max) / total;
    out.vector(fmt::format("logits_{} = W_out {} + b_out", t, features), logits);
    out.vector(fmt::format("p_{} = softmax(logits_{})", t, t), p);
    const int target = run.batch.tgt_out[j];
    out.line("  −log p_{}[{}] = {:.{}f}", t, quoted(tgt_vocab, target),
             run.forward.token_losses.value(static_cast<std::size_t>(j)), out.precision());
}

// The numbers above a compact heatmap's columns: positions 1, 5, 10, …, each starting
// at its column when there is room for it.
std::string position_numbers(std::size_t m) {
    std::string numbers;
    for (std::size_t i = 1; i <= m; ++i) {
        if (i != 1 && i % 5 != 0) continue;
        const std::size_t column = 2 * (i - 1);
        if (numbers.size() > column) continue;
        numbers += std::string(column - numbers.size(), ' ') + std::to_string(i);
    }
    return numbers;
}

// One row of α as shade characters, each doubled so that a position is two columns wide.
std::string doubled_shades(std::span<const double> alpha) {
    std::string cells;
    for (double a : alpha) {
        const std::string_view s = shade(a);
        cells += std::string(s) + std::string(s);
    }
    return cells;
}

// One direction of one encoder layer, in the order it runs: forward t = 1 … m, backward
// t = m … 1. The first layer's forward pass names each x_t.
void print_encoder_direction(Printer& out, const std::vector<CellStep>& steps, bool backward, bool names_inputs,
                             const TraceRun& run, const Vocab& src_vocab, std::string_view arrow) {
    const std::size_t m = steps.size();
    for (std::size_t k = 0; k < m; ++k) {
        const std::size_t t = backward ? m - 1 - k : k;
        const std::string token = quoted(src_vocab, run.batch.src[t]);
        if (out.shows(TraceLevel::gates)) {
            if (names_inputs)
                out.line("  x_{} = {}{}", t + 1, token, out.shows(TraceLevel::full) ? fmt::format(": src_embed[{}]", token) : "");
            print_gates(out, steps[t], "h", static_cast<int>(t + 1), "c_{}", arrow);
        } else {
            out.vector(fmt::format("{}h_{} ({})", arrow, t + 1, token), steps[t].state.h.row(0));
        }
    }
}

// A bidirectional encoder's annotations h_t = [→h_t; ←h_t] of the top layer: what
// attention reads (a plain model has no attention, but its layers are the same).
void print_annotations(Printer& out, const TraceRun& run, bool attention) {
    const EncoderLayer& top = run.forward.encoder.layers.back();
    if (attention) out.line("  the annotations, what attention reads:");
    for (std::size_t t = 0; t < top.forward.size(); ++t) {
        const auto forward = top.forward[t].state.h.row(0), backward = top.backward[t].state.h.row(0);
        std::vector<double> annotation(forward.begin(), forward.end());
        annotation.insert(annotation.end(), backward.begin(), backward.end());
        out.vector(fmt::format("h_{} = [→h_{}; ←h_{}]", t + 1, t + 1, t + 1), annotation);
    }
}

// Where every decoder layer starts: s_0 = h_m (LSTM c_0 = c_m) of its encoder layer, or
// with a bidirectional encoder the bridge's s_0 = tanh(bridge.W ←h_1 + bridge.b), c_0 = 0.
void print_decoder_start(Printer& out, const ModelConfig& config, const TraceRun& run) {
    const std::vector<CellState>& initial = run.forward.encoder.initial;
    const int m = run.batch.src_len;
    for (std::size_t l = 0; l < initial.size(); ++l) {
        const std::string layer = initial.size() > 1 ? fmt::format("layer {}: ", l + 1) : "";
        const std::string bridge = l == 0 ? "bridge" : fmt::format("bridge.l{}", l + 1);
        if (config.bidirectional)
            out.vector(fmt::format("{}s_0 = tanh({}.W ←h_1 + {}.b)", layer, bridge, bridge), initial[l].h.row(0));
        else if (out.shows(TraceLevel::full))
            out.line("  {}from s_0 = h_{}{}", layer, m,
                     config.cell == CellKind::lstm ? fmt::format(" and c_0 = c_{}, the encoder's last memory", m) : "");
    }
}

// Step j's cell in every decoder layer, bottom first, each under "layer ℓ" when there are
// several (the query and the output layer use the top one).
void print_decoder_layers(Printer& out, const DecoderStep& step, int t) {
    const std::string memory = "c_{} (LSTM memory)";
    if (step.layers.size() <= 1) return print_gates(out, step.cell, "s", t, memory);
    for (std::size_t l = 0; l < step.layers.size(); ++l) {
        out.line("  layer {}:", l + 1);
        print_gates(out, step.layers[l], "s", t, memory);
    }
}

}  // namespace

void print_vocabulary(Printer& out, std::string_view side, const Vocab& vocab) {
    const int regular = vocab.size() - Vocab::first_regular;
    out.line("{} vocabulary ({}): {} tokens, {} of them special", side, vocab.name, vocab.size(), Vocab::first_regular);
    out.line("  special (the model adds them; never typed): {} {} {}", vocab.token(Vocab::pad), vocab.token(Vocab::bos),
             vocab.token(Vocab::eos));
    out.line("  regular ({}):", regular);
    std::string line;  // the tokens of one screen line, each after a space
    for (int i = Vocab::first_regular; i < vocab.size(); ++i) {
        const std::string token = quoted(vocab.tokens[static_cast<std::size_t>(i)]);
        if (!line.empty() && 1 + display_width(line) + 1 + display_width(token) > screen_columns) {
            out.write_line(" " + line);
            line.clear();
        }
        line += ' ';
        line += token;
    }
    if (!line.empty()) out.write_line(" " + line);
}

void print_encoder(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& src_vocab) {
    const ModelConfig& config = model.config();
    const std::vector<EncoderLayer>& layers = run.forward.encoder.layers;
    const bool stacked = layers.size() > 1;
    if (out.shows(TraceLevel::full)) {
        print_cell_equations(out, config.cell, "x_t", "h", "t");
        if (config.bidirectional)
            out.write_line("    ←h_t: the same with ←h_{t+1} for h_{t−1}, from ←h_{m+1} = 0 (its own weights, .reverse)");
        if (stacked) out.write_line("    layer ℓ > 1: x_t is layer ℓ−1's output at t (its weights .lℓ)");
    }
    for (std::size_t l = 0; l < layers.size(); ++l) {
        if (stacked)
            out.line("  layer {}: reads {}", l + 1, l == 0 ? "src_embed[x_t]" : config.bidirectional ? fmt::format("layer {}'s [→h_t; ←h_t]", l) : fmt::format("layer {}'s h_t", l));
        print_encoder_direction(out, layers[l].forward, false, l == 0, run, src_vocab, config.bidirectional ? "→" : "");
        if (config.bidirectional) print_encoder_direction(out, layers[l].backward, true, false, run, src_vocab, "←");
    }
    if (config.bidirectional) print_annotations(out, run, config.decoder != DecoderKind::plain);
    const std::size_t m = layers.front().forward.size();
    out.text(fmt::format("x_{} = '{}' ends every source: the task appends it, so that the encoder knows where the "
                         "source stops.", m, src_vocab.token(Vocab::eos)));
    print_keys(out, config, run);
    print_more_hint(out);
}

void print_decoder_steps(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& src_vocab,
                         const Vocab& tgt_vocab) {
    const ModelConfig& config = model.config();
    if (out.shows(TraceLevel::full)) {
        const bool context_in = config.decoder == DecoderKind::bahdanau;
        print_cell_equations(out, config.cell, context_in ? "x_j" : "tgt_embed[y_{j−1}]", "s", "j");
        if (context_in) out.write_line("    x_j = [tgt_embed[y_{j−1}]; c_j], the token read and the context");
        if (config.layers > 1) out.write_line("    layer ℓ > 1: x_j is layer ℓ−1's s_j (its weights .lℓ)");
    }
    print_decoder_start(out, config, run);
    if (out.shows(TraceLevel::steps))
        for (std::size_t j = 0; j < run.forward.decoder.size(); ++j) print_decoder_step(out, model, run, j, src_vocab, tgt_vocab);
    out.blank();
    out.line("loss on this example (the mean of the steps' −log p of their target): {:.{}f}",
             run.forward.loss.value(0), out.precision());
    print_more_hint(out);
}

void print_decoder_step(Printer& out, Seq2Seq& model, const TraceRun& run, std::size_t j, const Vocab& src_vocab,
                        const Vocab& tgt_vocab) {
    const DecoderStep& step = run.forward.decoder[j];
    const int t = static_cast<int>(j + 1);
    const ModelConfig& config = model.config();
    out.blank();
    out.line("{}", out.bold(fmt::format("step j = {}: reads y_{} = {}, must predict y_{} = {}", t, t - 1,
                                        quoted(tgt_vocab, run.batch.tgt_in[j]), t, quoted(tgt_vocab, run.batch.tgt_out[j]))));
    if (config.decoder == DecoderKind::luong) print_decoder_layers(out, step, t);
    if (step.attention.alpha.defined()) print_attention(out, config, run, j, src_vocab);
    if (config.decoder != DecoderKind::luong) {
        if (out.shows(TraceLevel::full) && config.decoder == DecoderKind::bahdanau)
            out.line("  x_{} = [tgt_embed[{}]; c_{}]", t, quoted(tgt_vocab, run.batch.tgt_in[j]), t);
        print_decoder_layers(out, step, t);
    }
    if (step.attentional.defined()) out.vector(fmt::format("h̃_{} = tanh(W_c [s_{}; c_{}])", t, t, t), step.attentional.row(0));
    if (out.shows(TraceLevel::full)) print_logits(out, config, run, j, tgt_vocab);
    const auto logits = run.forward.logits.row(static_cast<int>(j));
    const int target = run.batch.tgt_out[j];
    const bool right = std::max_element(logits.begin(), logits.end()) - logits.begin() == target;
    out.line("  top predictions: {}{}", top_predictions(logits, tgt_vocab, 3),
             right ? "" : fmt::format("  ✗ not {}", quoted(tgt_vocab, target)));
}

Heatmap alignment_heatmap(const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab) {
    Heatmap h;
    const auto& steps = run.forward.decoder;
    if (steps.empty() || !steps.front().attention.alpha.defined()) return h;
    h.rows = steps.size();
    h.cols = static_cast<std::size_t>(run.batch.src_len);
    for (std::size_t j = 0; j < h.rows; ++j) {
        const auto row = steps[j].attention.alpha.row(0);
        h.values.insert(h.values.end(), row.begin(), row.end());
        h.row_labels.push_back(tgt_vocab.token(run.batch.tgt_out[j]));
    }
    for (std::size_t i = 0; i < h.cols; ++i) h.col_labels.push_back(src_vocab.token(run.batch.src[i]));
    return h;
}

void print_alignment(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab) {
    print_fitted_heatmap(out, alignment_heatmap(run, src_vocab, tgt_vocab), "α: target tokens down, source tokens across",
                         "α: target tokens down, source positions across");
}

void print_alignment_compact(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab) {
    print_compact_heatmap(out, alignment_heatmap(run, src_vocab, tgt_vocab), "α: target tokens down, source positions across");
}

void print_fitted_heatmap(Printer& out, const Heatmap& h, std::string_view title, std::string_view compact_title) {
    if (h.values.empty()) return;
    // as Printer::heatmap lays it out: "  label │", a column of at least 4 per token, one
    // space between columns, "│"
    std::size_t label_width = 0;
    for (const std::string& row : h.row_labels) label_width = std::max(label_width, display_width(row));
    std::size_t width = 2 + label_width + 2 + h.col_labels.size();
    for (const std::string& column : h.col_labels) width += std::max<std::size_t>(4, display_width(column));
    if (width > screen_columns) return print_compact_heatmap(out, h, compact_title);
    out.heatmap(title, h.values, h.rows, h.cols, h.row_labels, h.col_labels);
}

void print_compact_heatmap(Printer& out, const Heatmap& h, std::string_view title) {
    if (h.values.empty()) return;
    const std::size_t m = h.cols;
    const std::vector<std::string>& rows = h.row_labels;
    const std::vector<std::string>& cols = h.col_labels;
    std::size_t label_width = 0;
    for (const std::string& row : rows) label_width = std::max(label_width, display_width(row));
    const std::string indent = "  " + std::string(label_width, ' ') + "  ";

    out.write_line(fmt::format("  {} ({} of them)", title, m));
    out.write_line(indent + position_numbers(m));
    // the tokens themselves when they fit their two columns ("·" for a last one that
    // does not, such as <eos>)
    std::string header;
    std::vector<std::size_t> wide;
    for (std::size_t i = 0; i < m; ++i) {
        const bool fits = display_width(cols[i]) <= 2;
        header += fits ? pad(cols[i], i + 1 < m ? 2 : 1) : i + 1 < m ? "· " : "·";
        if (!fits) wide.push_back(i);
    }
    const bool tokens_fit = wide.empty() || (wide.size() == 1 && wide.front() == m - 1);
    if (tokens_fit) out.write_line(indent + header);  // else they are listed underneath
    for (std::size_t j = 0; j < h.rows; ++j) {
        const std::span<const double> alpha(h.values.data() + j * m, m);
        out.write_line("  " + pad(rows[j], label_width) + " │" + doubled_shades(alpha) + "│");
    }
    out.write_line("  shade: ' ' < 0.2 ≤ ░ < 0.4 ≤ ▒ < 0.6 ≤ ▓ < 0.8 ≤ █");
    if (!wide.empty() && tokens_fit) {
        out.line("  the last column, ·, is '{}'", cols.back());
    } else if (!tokens_fit) {
        std::string listed;
        for (std::size_t i = 0; i < m; ++i) listed += fmt::format("{}{}:'{}'", i ? " " : "", i + 1, cols[i]);
        out.text("source: " + listed);
    }
}

std::string expected_alignment(std::string_view task) {
    if (task == "reverse") return "For `reverse` it should be the anti-diagonal: the first output token is the last input token.";
    if (task == "copy") return "For `copy` it should be the diagonal: output token j is input token j.";
    if (task == "sort")
        return "For `sort` there is no fixed shape: row j should peak where the source holds the j-th symbol in "
               "sorted order.";
    if (task == "dates")
        return "For `dates` each digit of the answer should look at the characters of its field (the year's digits "
               "at the year), wherever the format puts them.";
    if (task == "headline")
        return "For `headline` most source columns should stay empty (the day, the articles, a place or a source "
               "at the end); the country's row looks at the official's nationality, a verb's at its past form, a "
               "paraphrase such as `against` at `for combating`.";
    return fmt::format("For `{}` each word should look at the word it translates{}; where the two languages order "
                       "words differently, the peaks leave the diagonal.",
                       task, task == "translate" ? "" : " (one with none, such as 的 or 了, anywhere)");
}

void print_accuracy_by_length(Printer& out, Seq2Seq& model, const TaskGenerator& task, const EvaluateOptions& options) {
    std::map<int, std::vector<Example>> by_length;
    for (const Example& e : task.held_out()) by_length[static_cast<int>(e.src.size()) - 1].push_back(e);
    Table table({"source length", "examples", "token accuracy", "sequence accuracy"});
    table.precision(3);
    for (const auto& [length, examples] : by_length) {
        const Accuracy a = evaluate(model, examples, options);
        table.add_row(length, static_cast<int>(examples.size()), a.token_accuracy, a.sequence_accuracy);
    }
    out.table(table);
}

}  // namespace stepgrad
