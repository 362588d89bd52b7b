// Lesson 03 — SimpleRNN, GRU and LSTM cells, step by step, and why gates matter.
//
// What you will learn
//   - A recurrent cell reads a sequence one token at a time. At step t it combines the
//     token's embedding x_t with its previous state h_{t−1} into a new state h_t. The
//     three cells of SPEC §3, with PyTorch's equations (x = x_t, h = h_{t−1}, h' = h_t;
//     σ the logistic sigmoid, ⊙ elementwise):
//         SimpleRNN  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
//         GRU        r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
//                    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//                    h' = (1 − z) ⊙ n + z ⊙ h
//         LSTM       i, f, o = σ(W_i* x + b_i* + W_h* h + b_h*)   g = tanh(W_ig x + b_ig + W_hg h + b_hg)
//                    c' = f ⊙ c + i ⊙ g       h' = o ⊙ tanh(c')
//   - Seed 000 writes the SimpleRNN as h' = tanh(A [x; h] + b): the same cell, with
//     A = [W_ih W_hh] side by side and b = b_ih + b_hh. We compute both and compare.
//   - Backprop through time: for L = Σ_k h_T[k] (the sum of the last state), the
//     gradient ∂L/∂h_t shrinks as it travels back through a tanh recurrence. A gate
//     gives it another path, through z ⊙ h or f ⊙ c, that is only scaled by the gate:
//     we measure how much of the gradient each cell keeps over a long sequence.
//
// The cells are in include/stepgrad/cells.hpp (src/cells.cpp); the ops they are made
// of in ops.hpp.
//
// Run:  ./03_rnn_cells                      (--help lists the flags)
//       ./03_rnn_cells --cell lstm          (one cell only)
//       ./03_rnn_cells --keep-bias 3        (open the gates wider before BPTT)
//       ./03_rnn_cells --json trace.json    (the GRU's steps as a stepgrad-trace/1 file)
//       ./03_rnn_cells --csv bptt.csv       (section 4's ‖∂L/∂h_t‖, every t, for plotting)
#include "common/parameters.hpp"  // defines: gate_row_labels
#include "stepgrad/cells.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/ops.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/tensor.hpp"
#include "stepgrad/support/files.hpp"  // defines: write_file_atomically
#include "stepgrad/support/trace.hpp"  // defines: run_encoder, encoder_trace
#include "common/flags.hpp"  // defines: check_output_files
#include "common/run.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/ranges.h>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace stepgrad;

const char* display_name(CellKind kind) {
    switch (kind) {
        case CellKind::rnn: return "SimpleRNN";
        case CellKind::gru: return "GRU";
        case CellKind::lstm: return "LSTM";
    }
    return "?";
}

// The cell's equations in SPEC §3's symbols, one per line.
std::vector<std::string> equations(CellKind kind) {
    switch (kind) {
        case CellKind::rnn:
            return {"h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"};
        case CellKind::gru:
            return {"r  = σ(W_ir x + b_ir + W_hr h + b_hr)", "z  = σ(W_iz x + b_iz + W_hz h + b_hz)",
                    "n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))", "h' = (1 − z) ⊙ n + z ⊙ h"};
        case CellKind::lstm:
            return {"i  = σ(W_ii x + b_ii + W_hi h + b_hi)", "f  = σ(W_if x + b_if + W_hf h + b_hf)",
                    "g  = tanh(W_ig x + b_ig + W_hg h + b_hg)", "o  = σ(W_io x + b_io + W_ho h + b_ho)",
                    "c' = f ⊙ c + i ⊙ g", "h' = o ⊙ tanh(c')"};
    }
    return {};
}

// The gate a gradient can pass through untouched when it is 1: GRU's z (h' = … + z ⊙ h),
// LSTM's f (c' = f ⊙ c + …). Its rows in the stacked parameters are the 2nd block.
const char* keep_gate(CellKind kind) { return kind == CellKind::gru ? "z" : kind == CellKind::lstm ? "f" : ""; }

// `count` tokens drawn from the regular ids of a vocabulary of V (after <pad>, <bos>,
// <eos>).
std::vector<int> random_tokens(Rng& rng, int count, int V) {
    std::vector<int> ids;
    for (int t = 0; t < count; ++t) ids.push_back(rng.between(Vocab::eos + 1, V - 1));
    return ids;
}

double norm(std::span<const double> v) {
    double total = 0;
    for (double x : v) total += x * x;
    return std::sqrt(total);
}

double max_abs_difference(std::span<const double> a, std::span<const double> b) {
    double largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::abs(a[i] - b[i]));
    return largest;
}

// A vector as text, at the printer's precision and cut as --trace says.
using VectorText = std::function<std::string(std::span<const double>)>;

// One step of one cell: every gate's pre-activation and activation (--trace gates), then
// the new state.
void print_step(Printer& out, const VectorText& vec, CellKind kind, std::size_t t, const CellStep& step) {
    if (out.shows(TraceLevel::gates)) {
        Table gates({"", "pre-activation", "", "activation"});
        gates.align(1, Align::left).align(2, Align::left).align(3, Align::left);
        // SimpleRNN's one pre-activation goes through tanh and is h_t itself.
        if (kind == CellKind::rnn)
            gates.add_row("h", vec(step.pre_activation.row(0)), "tanh→", vec(step.state.h.row(0)));
        for (const Gate& gate : step.gates()) {
            const std::string_view name = gate.name;
            gates.add_row(name, vec(gate.pre_activation.row(0)), name == "n" || name == "g" ? "tanh→" : "σ→",
                          vec(gate.value.row(0)));
        }
        out.table(gates);
    } else if (kind == CellKind::rnn) {
        out.line("    h_{} = {}", t, vec(step.state.h.row(0)));
    }
    // the new state, its formulas padded so the values line up
    std::vector<std::pair<std::string, Tensor>> states;
    if (kind == CellKind::gru) states.emplace_back(fmt::format("h_{} = (1 − z) ⊙ n + z ⊙ h_{}", t, t - 1), step.state.h);
    if (kind == CellKind::lstm) {
        states.emplace_back(fmt::format("c_{} = f ⊙ c_{} + i ⊙ g", t, t - 1), step.state.c);
        states.emplace_back(fmt::format("h_{} = o ⊙ tanh(c_{})", t, t), step.state.h);
    }
    std::size_t width = 0;
    for (const auto& [formula, value] : states) width = std::max(width, display_width(formula));
    for (const auto& [formula, value] : states) out.line("    {} = {}", pad(formula, width), vec(value.row(0)));
}

// Section 2's heading of one cell: its equations, the shapes of its weights, how they
// start, and with --trace full the weights themselves.
void print_cell_header(Printer& out, Cell& cell, int E, int H) {
    const CellKind kind = cell.kind();
    const int G = gate_count(kind);  // 1, 3 or 4 blocks of H rows
    for (const std::string& equation : equations(kind)) out.line("    {}", equation);
    out.line("  W_ih ({}×{}), W_hh ({}×{}), b_ih and b_hh ({}){}", G * H, E, G * H, H, G * H,
             G == 1 ? "" : kind == CellKind::gru ? ", rows stacked r, z, n" : ", rows stacked i, f, g, o");
    out.line("  initialised uniform in ±1/√H = ±{:.4f}; h_0 = 0{}.", 1 / std::sqrt(static_cast<double>(H)),
             kind == CellKind::lstm ? ", c_0 = 0" : "");
    if (!out.shows(TraceLevel::full)) return;
    // rows (weights) or entries (biases) named by gate, so that W_ir is the rows r1 … r_H
    const std::vector<std::string> gate_rows = gate_row_labels(kind, H);
    for (Parameter* p : cell.parameters()) {
        const bool bias = p->rows() == 1;
        out.matrix(p->name(), p->value, static_cast<std::size_t>(p->rows()), static_cast<std::size_t>(p->cols()),
                   bias ? std::vector<std::string>{} : gate_rows, bias ? gate_rows : std::vector<std::string>{});
    }
}

// Seed 000's SimpleRNN weights: A = [W_ih W_hh] (H × (E + H)) and b = b_ih + b_hh (H).
struct StackedWeights {
    std::vector<double> A;
    std::vector<double> b;
};

StackedWeights stack_weights(const Cell& rnn, int E, int H) {
    StackedWeights stacked{{}, std::vector<double>(static_cast<std::size_t>(H))};
    for (int row = 0; row < H; ++row) {
        const auto r = static_cast<std::size_t>(row);
        stacked.A.insert(stacked.A.end(), rnn.W_ih.value.begin() + r * E, rnn.W_ih.value.begin() + (r + 1) * E);
        stacked.A.insert(stacked.A.end(), rnn.W_hh.value.begin() + r * H, rnn.W_hh.value.begin() + (r + 1) * H);
        stacked.b[r] = rnn.b_ih.value[r] + rnn.b_hh.value[r];
    }
    return stacked;
}

void print_stacked_weights(Printer& out, const StackedWeights& stacked, int E, int H) {
    std::vector<std::string> A_columns;
    for (int k = 1; k <= E; ++k) A_columns.push_back(fmt::format("x[{}]", k));
    for (int k = 1; k <= H; ++k) A_columns.push_back(fmt::format("h[{}]", k));
    out.matrix("A = [W_ih W_hh]", stacked.A, static_cast<std::size_t>(H), static_cast<std::size_t>(E + H), {}, A_columns);
    out.vector("b = b_ih + b_hh", stacked.b);
}

// How the gradient fared in one cell over section 4's long sequence.
struct Flow {
    std::string name;
    std::string gate;           // z, f or nothing
    std::vector<double> norms;  // ‖∂L/∂h_t‖, t = 1 … T
    double mean_keep = 0;       // mean of that gate over every step and unit
    double kept = 0;            // ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: what is left the whole way back
    double per_step = 0;        // its geometric mean per step, kept^(1/(T−1))
    // Over hundreds of steps a double runs out: below about 1e-308 the norm is 0 and
    // ratios of it mean nothing, so the text says "underflowed" instead of inf or nan.
    bool underflowed() const { return !std::isnormal(kept); }
};

// Runs `cell` over `ids` with L = Σ_k h_T[k], backward, and reads every ∂L/∂h_t.
Flow measure_flow(Cell& cell, Parameter& src_embed, const std::vector<int>& ids, std::string name) {
    const EncoderRun run = run_encoder(cell, src_embed, ids);
    const double T = static_cast<double>(ids.size());
    Flow flow{std::move(name), keep_gate(cell.kind()), {}, 0, 0, 0};
    for (const CellStep& step : run.steps) {
        flow.norms.push_back(norm(step.state.h.grads()));
        for (const Gate& gate : step.gates())
            if (gate.name == flow.gate)
                for (double v : gate.value.values()) flow.mean_keep += v / (T * cell.hidden_size());
    }
    flow.kept = flow.norms.front() / flow.norms.back();
    flow.per_step = std::pow(flow.kept, 1.0 / (T - 1));
    return flow;
}

// SimpleRNN, GRU and LSTM cells of H = `hidden`, run over `ids`; then, when keep_bias is
// above 0, GRU and LSTM again (the same weights) with keep_bias added to the bias of
// their keep gate, which starts it more open.
std::vector<Flow> measure_flows(Rng& rng, Parameter& src_embed, const std::vector<int>& ids, int hidden,
                                double keep_bias) {
    std::vector<Flow> flows;
    std::vector<std::unique_ptr<Cell>> cells;
    for (CellKind kind : {CellKind::rnn, CellKind::gru, CellKind::lstm}) {
        cells.push_back(make_cell(kind, "bptt", src_embed.cols(), hidden));
        cells.back()->init(rng);
        flows.push_back(measure_flow(*cells.back(), src_embed, ids, display_name(kind)));
    }
    if (keep_bias <= 0) return flows;
    for (std::size_t k = 1; k < cells.size(); ++k) {
        Cell& cell = *cells[k];
        // z and f are the second block of H rows: b_iz (GRU) and b_if (LSTM)
        for (int j = hidden; j < 2 * hidden; ++j) cell.b_ih.value[static_cast<std::size_t>(j)] += keep_bias;
        const std::string name = fmt::format("{} b_{}+{}", display_name(cell.kind()), keep_gate(cell.kind()), keep_bias);
        flows.push_back(measure_flow(cell, src_embed, ids, name));
    }
    return flows;
}

// ‖∂L/∂h_t‖ of every flow, from the last step back to the first: every 5th as a table
// (all with --trace full), and five points of each as log-scale bars.
void print_gradient_norms(Printer& out, const std::vector<Flow>& flows, int T) {
    std::vector<std::string> headers{"t", "steps back"};
    for (const Flow& flow : flows) headers.push_back(flow.name);
    Table gradients(headers);
    for (int t = T; t >= 1; --t) {
        if ((T - t) % 5 != 0 && t != 1 && !out.shows(TraceLevel::full)) continue;
        std::vector<std::string> row{fmt::format("{}", t), fmt::format("{}", T - t)};
        for (const Flow& flow : flows) row.push_back(sci(flow.norms[static_cast<std::size_t>(t - 1)]));
        gradients.add_row(row);
    }
    out.line("  ‖∂L/∂h_t‖ from the last step back to the first{}:",
             out.shows(TraceLevel::full) ? "" : " (every 5th; --trace full: all)");
    out.table(gradients);
    out.blank();

    std::vector<Bar> bars;
    for (const Flow& flow : flows)
        for (int k = 4, previous = 0; k >= 0; --k) {
            const int t = 1 + (T - 1) * k / 4;  // T, ¾ of the way, …, 1
            if (t == std::exchange(previous, t)) continue;
            bars.push_back({fmt::format("{:<12} t={}", flow.name, t), flow.norms[static_cast<std::size_t>(t - 1)]});
        }
    out.bars("‖∂L/∂h_t‖", bars, BarOptions{.log_scale = true});
    out.blank();
}

// What a step back does on average: (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖)^(1/(T−1)), cell by cell.
void print_flow_summary(Printer& out, const std::vector<Flow>& flows) {
    Table summary({"cell", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖", "× per step back", "mean keep gate"});
    for (const Flow& flow : flows)
        summary.add_row(flow.name, flow.underflowed() ? "< 1e-308" : sci(flow.kept), fixed(flow.per_step, 3),
                        flow.gate.empty() ? "—" : fmt::format("{} = {:.3f}", flow.gate, flow.mean_keep));
    out.line("  the whole way back, and the geometric mean of one step:");
    out.table(summary);
    out.blank();
}

// "8.8e+05 times as much as SimpleRNN" or "1/3.2 as much as SimpleRNN"
std::string versus_rnn(const Flow& flow, const Flow& rnn) {
    if (flow.underflowed() && rnn.underflowed()) return "as little as SimpleRNN (both underflowed to 0)";
    if (flow.underflowed()) return "less than SimpleRNN (its gradient underflowed to 0, below 1e-308)";
    if (rnn.underflowed()) return "more than SimpleRNN, whose gradient underflowed to 0 (below 1e-308)";
    const bool more = flow.kept >= rnn.kept;
    const double ratio = more ? flow.kept / rnn.kept : rnn.kept / flow.kept;
    const std::string number = ratio < 100 ? fmt::format("{:.1f}", ratio) : sci(ratio, 1);
    return more ? number + " times as much as SimpleRNN" : "1/" + number + " as much as SimpleRNN";
}

// "7.29e-148", or "0 (it underflowed: below 1e-308)"
std::string kept_text(const Flow& flow) {
    return flow.underflowed() ? "0 (it underflowed: below 1e-308)" : sci(flow.kept);
}

// The verdict's sentence on the gated paths opens with whether GRU and LSTM kept much.
std::string gated_path_opening(const Flow& rnn, const Flow& gru, const Flow& lstm) {
    if (gru.kept >= 1e-2 || lstm.kept >= 1e-2) return "The path";
    if (gru.kept > rnn.kept && lstm.kept > rnn.kept) return "Still, both lose nearly all of it: the path";
    return "Both lose nearly all of it: the path";
}

// Section 4's conclusions, worded from the measured numbers so they hold for any flags.
// `flows` is SimpleRNN, GRU, LSTM, then GRU and LSTM with their keep-gate bias raised
// when --keep-bias is above 0.
std::string bptt_verdict(const std::vector<Flow>& flows, int T, double keep_bias) {
    const Flow &rnn = flows[0], &gru = flows[1], &lstm = flows[2];
    const bool half_open = std::abs(gru.mean_keep - 0.5) < 0.1 && std::abs(lstm.mean_keep - 0.5) < 0.1;
    std::string verdict = fmt::format(
        "Measured: going back {} steps, the gradient shrinks to {} of its size for SimpleRNN, "
        "{} for GRU and {} for LSTM; on average each step back multiplies it by {:.3f}, {:.3f} "
        "and {:.3f}. At PyTorch's initialisation GRU keeps {}, LSTM {}.",
        T - 1, kept_text(rnn), kept_text(gru), kept_text(lstm), rnn.per_step, gru.per_step, lstm.per_step,
        versus_rnn(gru, rnn), versus_rnn(lstm, rnn));
    verdict += fmt::format(
        " {} through z ⊙ h or f ⊙ c is scaled at every step by its gate, and the gates "
        "start {} (mean z {:.2f}, mean f {:.2f}).",
        gated_path_opening(rnn, gru, lstm), half_open ? "near σ(0) = 0.5, half open" : "well short of 1",
        gru.mean_keep, lstm.mean_keep);
    if (flows.size() < 5) return verdict;
    const Flow &gru_open = flows[3], &lstm_open = flows[4];
    verdict += fmt::format(
        " With {} added to the biases of z and f the gates open wider (mean z {:.2f}, mean f "
        "{:.2f}), a step back multiplies the gradient by {:.3f} and {:.3f}, and after {} steps "
        "GRU keeps {}, LSTM {}.",
        keep_bias, gru_open.mean_keep, lstm_open.mean_keep, gru_open.per_step, lstm_open.per_step, T - 1,
        versus_rnn(gru_open, rnn), versus_rnn(lstm_open, rnn));
    if (gru_open.per_step > gru.per_step && lstm_open.per_step > lstm.per_step)
        verdict += " Opening the gates let more of the gradient reach the early steps; a "
                   "SimpleRNN has no gate to open.";
    return verdict;
}

// --csv: every t, not only every 5th: one row per cell (as named in the table) and step.
std::string gradient_csv(const std::vector<Flow>& flows, int T) {
    std::string text = "cell,t,steps_back,grad_norm\n";
    for (const Flow& flow : flows)
        for (int t = 1; t <= T; ++t)
            text += fmt::format("{},{},{},{}\n", flow.name, t, T - t, flow.norms[static_cast<std::size_t>(t - 1)]);
    return text;
}

// Writes an output file; one that cannot be written is a bad command line (exit code 2).
void write_output(std::string_view flag, const std::string& path, const std::string& text) {
    try {
        write_file_atomically(path, text);
    } catch (const std::exception& error) {
        throw std::runtime_error(fmt::format("{}: {}", flag, error.what()));
    }
}

int main(int argc, char** argv) {
    Cli cli("03_rnn_cells", "SimpleRNN, GRU and LSTM step by step; gradients through time.");
    std::string cell_name = "all";
    cli.choice("--cell", cell_name, {"all", "rnn", "gru", "lstm"},
               "the cell to step through (--json: all means gru)");
    std::uint64_t seed = 1;   cli.option("--seed", seed, "seed of the tokens and the weights");
    int hidden = 4;           cli.option("--hidden", hidden, "hidden size H of the step-by-step cells", 1, 64);
    int embed = 3;            cli.option("--embed", embed, "embedding size E", 1, 64);
    int bptt_steps = 60;      cli.option("--bptt-steps", bptt_steps, "length T of the BPTT sequence", 2, 10000);
    int bptt_hidden = 16;     cli.option("--bptt-hidden", bptt_hidden, "hidden size of the BPTT cells", 1, 256);
    double keep_bias = 1.0;   cli.option("--keep-bias", keep_bias, "added to GRU's b_z and LSTM's b_f for BPTT", 0.0, 10.0);
    std::string json;         cli.option("--json", json, "write the stepped cell's trace (stepgrad-trace/1) here", "PATH");
    std::string csv;          cli.option("--csv", csv, "write section 4's gradient norms here (cell,t,steps_back,grad_norm)", "PATH");
    PrintOptions print;       cli.add_print_flags(print);
    cli.check([&] { check_output_files(cli, {{"--json", json}, {"--csv", csv}}); });
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    return run_lesson("03_rnn_cells", [&] {
        Printer out(print);
        const std::size_t cut = out.shows(TraceLevel::full) ? 0 : print.max_entries;
        const VectorText vec = [&](std::span<const double> v) { return format_values(v, out.precision(), cut); };

        out.title("Lesson 03 · recurrent cells step by step");
        out.text("A recurrent cell folds a sequence into a state, one token at a time: h_t = "
                 "cell(x_t, h_{t−1}), from h_0 = 0. We step each cell over the same four tokens "
                 "and print every gate, then measure how far a gradient travels back through "
                 "SimpleRNN, GRU and LSTM over a long sequence.");

        // --- 1. the sequence and its embeddings ---
        out.section("1. the sequence");
        Rng rng(seed);
        const Vocab vocab("lesson 03", Vocab::Level::character, {"a", "b", "c", "d", "e"});
        const int V = vocab.size(), E = embed, H = hidden;
        const std::vector<int> ids = random_tokens(rng, 4, V);
        Parameter src_embed("src_embed", V, E);
        // uniform(−1, 1): a bounded stand-in for PyTorch's N(0, 1) embedding init
        src_embed.init_uniform(rng, 1.0);
        std::vector<std::string> tokens;
        for (int id : ids) tokens.push_back(vocab.token(id));
        out.line("  tokens {} → ids {}  (vocabulary, V = {}: {})", fmt::join(tokens, " "), fmt::join(ids, " "),
                 V, fmt::join(vocab.tokens, " "));
        out.matrix("src_embed", src_embed.value, static_cast<std::size_t>(V), static_cast<std::size_t>(E),
                   vocab.tokens);
        const auto x_of = [&](int id) {
            return std::span<const double>(src_embed.value).subspan(static_cast<std::size_t>(id * E), static_cast<std::size_t>(E));
        };

        // All three cells are built and initialised whatever --cell says, in one order, so
        // a cell's numbers do not depend on which others are shown.
        std::vector<std::unique_ptr<Cell>> cells;
        for (CellKind kind : {CellKind::rnn, CellKind::gru, CellKind::lstm}) {
            cells.push_back(make_cell(kind, "encoder", E, H));
            cells.back()->init(rng);  // uniform(−1/√H, 1/√H), as PyTorch
        }
        Cell& rnn = *cells[0];

        // --- 2. each cell, step by step ---
        int shown = 0;
        for (const auto& cell : cells) {
            if (cell_name != "all" && cell_name != cell_kind_name(cell->kind())) continue;
            out.section(fmt::format("2.{} {}, step by step", ++shown, display_name(cell->kind())));
            print_cell_header(out, *cell, E, H);

            const EncoderRun run = run_encoder(*cell, src_embed, ids);
            if (out.shows(TraceLevel::steps))
                for (std::size_t t = 1; t <= run.steps.size(); ++t) {
                    const int id = ids[t - 1];
                    out.line("  t = {}   x_{} = src_embed[{}] = {}", t, t, vocab.token(id), vec(x_of(id)));
                    print_step(out, vec, cell->kind(), t, run.steps[t - 1]);
                }
            out.line("  after {} tokens: h_{} = {}", ids.size(), ids.size(), vec(run.steps.back().state.h.row(0)));
        }

        // --- 3. seed 000's form of the SimpleRNN: h_t = tanh(A [x_t; h_{t−1}] + b) ---
        out.section("3. the same SimpleRNN as seed 000 writes it");
        out.text("Seed 000 stacks x and h into one column [x; h] and the two weight matrices "
                 "side by side, A = [W_ih W_hh], with one bias b = b_ih + b_hh. Since "
                 "A [x; h] = W_ih x + W_hh h, it is the same cell. We run that form on its own "
                 "states and compare with the cell's.");
        const StackedWeights stacked = stack_weights(rnn, E, H);
        print_stacked_weights(out, stacked, E, H);

        const EncoderRun cell_run = run_encoder(rnn, src_embed, ids);
        const Tensor A = constant(H, E + H, stacked.A), b = constant(1, H, stacked.b);
        Tensor h_seed = zeros(1, H);  // h_0 = 0
        Table compare({"t", "h_t from the cell", "tanh(A [x_t; h_{t−1}] + b)"});
        compare.align(1, Align::left).align(2, Align::left);
        double worst = 0;
        for (std::size_t t = 1; t <= ids.size(); ++t) {
            const Tensor x = constant(1, E, x_of(ids[t - 1]));
            // h_t = tanh(A [x_t; h_{t−1}] + b)
            h_seed = stepgrad::tanh(linear(concat_cols({x, h_seed}), A, b));
            const std::vector<double> h_cell = cell_run.steps[t - 1].state.h.row(0);
            const double difference = max_abs_difference(h_cell, h_seed.row(0));
            worst = std::max(worst, difference);
            compare.add_row(t, vec(h_cell), vec(h_seed.row(0)));
        }
        out.table(compare);
        out.line("  largest difference over the {} steps: {} ({})", ids.size(), rounding_difference(worst),
                 worst <= 1e-12 ? out.good("the same cell, up to rounding") : out.bad("DIFFERENT"));

        // --- 4. why gates matter, measured: ∂L/∂h_t over a long sequence ---
        const int T = bptt_steps, Hb = bptt_hidden;
        out.section("4. why gates matter, measured");
        out.text(fmt::format(
            "A sequence of T = {} random tokens, cells of H = {}, L = Σ_k h_T[k]. After backward, "
            "the gradient of each state h_t is the total ∂L/∂h_t: for t < T, h_t reaches L only "
            "through step t + 1, so that step's backward has summed every path into it. Going "
            "back one step multiplies the gradient by (∂h_{{t+1}}/∂h_t)ᵀ: for SimpleRNN by "
            "W_hhᵀ diag(1 − h_{{t+1}}²), and as every 1 − h² ≤ 1 the tanh can only shrink what "
            "W_hhᵀ passes back. GRU's ∂h'/∂h has a term diag(z), and LSTM's cell state is "
            "carried by ∂c'/∂c = diag(f): paths that a gate near 1 leaves almost untouched and a "
            "gate near 0 cuts.",
            T, Hb));
        out.blank();
        out.text(keep_bias > 0
                     ? fmt::format("First every cell at PyTorch's initialisation, then GRU and LSTM "
                                   "again with {} added to the bias of z and f (the same weights "
                                   "otherwise): the forget-gate bias of Jozefowicz et al. 2015 (and "
                                   "the same idea for GRU's z), which starts those gates open.",
                                   keep_bias)
                     : "Every cell at PyTorch's initialisation.");
        const std::vector<int> long_ids = random_tokens(rng, T, V);
        const std::vector<Flow> flows = measure_flows(rng, src_embed, long_ids, Hb, keep_bias);
        print_gradient_norms(out, flows, T);
        print_flow_summary(out, flows);
        out.text(bptt_verdict(flows, T, keep_bias));
        if (!csv.empty()) {
            write_output("--csv", csv, gradient_csv(flows, T));
            out.line("  wrote ‖∂L/∂h_t‖ for every t and cell to {}", csv);
        }

        // --- 5. the trace of section 2's sequence, for notebooks and other implementations ---
        if (!json.empty()) {
            const CellKind kind = parse_cell_kind(cell_name == "all" ? "gru" : cell_name);
            Cell& traced = **std::find_if(cells.begin(), cells.end(), [&](const auto& c) { return c->kind() == kind; });
            const EncoderRun run = run_encoder(traced, src_embed, ids);
            write_output("--json", json, encoder_trace("03", traced, src_embed, vocab, run));
            out.section("5. trace");
            out.line("  wrote {}'s {} steps over \"{}\" (stepgrad-trace/1, loss L = Σ h_{} = {:.6f}) to {}",
                     display_name(traced.kind()), ids.size(), fmt::join(tokens, " "), ids.size(), run.loss.value(0), json);
        }
        return 0;
    });
}
