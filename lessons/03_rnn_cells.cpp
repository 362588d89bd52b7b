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
#include "stepgrad/cells.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/ops.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/tensor.hpp"
#include "stepgrad/support/files.hpp"
#include "stepgrad/support/trace.hpp"

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

// One pass over a sequence, every step kept; L = Σ_k h_T[k], and backward.
struct Run {
    std::vector<CellStep> steps;
    Tensor loss;
};

Run run_sequence(Cell& cell, Parameter& src_embed, const std::vector<int>& ids) {
    tape().reset();
    for (Parameter* p : cell.parameters()) p->zero_grad();
    src_embed.zero_grad();
    // x_1 … x_m: rows of the embedding table, (m, E)
    const Tensor embedded = gather_rows(src_embed.use(), ids);
    Run run;
    CellState state = cell.initial_state(1);  // h_0 = 0 (and c_0 = 0)
    for (int t = 0; t < static_cast<int>(ids.size()); ++t) {
        run.steps.push_back(cell.step(slice_rows(embedded, t, 1), state));
        state = run.steps.back().state;
    }
    // L = Σ_k h_T[k]  ("sum_last_h" in the trace)
    run.loss = sum(state.h);
    tape().backward(run.loss);
    return run;
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
            gates.add_row(fmt::format("h_{}", t), vec(step.pre_activation.row(0)), "tanh →", vec(step.state.h.row(0)));
        for (const Gate& gate : step.gates()) {
            const std::string_view name = gate.name;
            gates.add_row(name, vec(gate.pre_activation.row(0)), name == "n" || name == "g" ? "tanh →" : "σ →",
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
    cli.parse(argc, argv);
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
    // tokens drawn from the regular ids (after <pad>, <bos>, <eos>)
    const auto random_tokens = [&](int count) {
        std::vector<int> ids;
        for (int t = 0; t < count; ++t) ids.push_back(rng.between(Vocab::eos + 1, V - 1));
        return ids;
    };
    const std::vector<int> ids = random_tokens(4);
    Parameter src_embed("src_embed", V, E);
    // uniform(−1, 1): a bounded stand-in for PyTorch's N(0, 1) embedding init
    src_embed.init_uniform(rng, 1.0);
    std::vector<std::string> tokens;
    for (int id : ids) tokens.push_back(vocab.token(id));
    out.line("  tokens {}  →  ids {}   (vocabulary of V = {}: {})", fmt::join(tokens, " "), fmt::join(ids, " "),
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
        const CellKind kind = cell->kind();
        const int G = gate_count(kind);  // 1, 3 or 4 blocks of H rows
        out.section(fmt::format("2.{} {}, step by step", ++shown, display_name(kind)));
        for (const std::string& equation : equations(kind)) out.line("    {}", equation);
        out.line("  W_ih ({}×{}), W_hh ({}×{}), b_ih and b_hh ({}){}", G * H, E, G * H, H, G * H,
                 G == 1 ? "" : kind == CellKind::gru ? ", rows stacked r, z, n" : ", rows stacked i, f, g, o");
        out.line("  initialised uniform in ±1/√H = ±{:.4f}; h_0 = 0{}.", 1 / std::sqrt(static_cast<double>(H)),
                 kind == CellKind::lstm ? ", c_0 = 0" : "");
        if (out.shows(TraceLevel::full))
            for (Parameter* p : cell->parameters())
                out.matrix(p->name(), p->value, static_cast<std::size_t>(p->rows()), static_cast<std::size_t>(p->cols()));

        const Run run = run_sequence(*cell, src_embed, ids);
        if (out.shows(TraceLevel::steps))
            for (std::size_t t = 1; t <= run.steps.size(); ++t) {
                const int id = ids[t - 1];
                out.line("  t = {}   x_{} = src_embed[{}] = {}", t, t, vocab.token(id), vec(x_of(id)));
                print_step(out, vec, kind, t, run.steps[t - 1]);
            }
        out.line("  after {} tokens: h_{} = {}", ids.size(), ids.size(), vec(run.steps.back().state.h.row(0)));
    }

    // --- 3. seed 000's form of the SimpleRNN: h_t = tanh(A [x_t; h_{t−1}] + b) ---
    out.section("3. the same SimpleRNN as seed 000 writes it");
    out.text("Seed 000 stacks x and h into one column [x; h] and the two weight matrices "
             "side by side, A = [W_ih W_hh], with one bias b = b_ih + b_hh. Since "
             "A [x; h] = W_ih x + W_hh h, it is the same cell. We run that form on its own "
             "states and compare with the cell's.");
    // A = [W_ih W_hh]  (H × (E + H)), b = b_ih + b_hh  (H)
    std::vector<double> A, b(static_cast<std::size_t>(H));
    for (int row = 0; row < H; ++row) {
        const auto r = static_cast<std::size_t>(row);
        A.insert(A.end(), rnn.W_ih.value.begin() + r * E, rnn.W_ih.value.begin() + (r + 1) * E);
        A.insert(A.end(), rnn.W_hh.value.begin() + r * H, rnn.W_hh.value.begin() + (r + 1) * H);
        b[r] = rnn.b_ih.value[r] + rnn.b_hh.value[r];
    }
    std::vector<std::string> A_columns;
    for (int k = 1; k <= E; ++k) A_columns.push_back(fmt::format("x[{}]", k));
    for (int k = 1; k <= H; ++k) A_columns.push_back(fmt::format("h[{}]", k));
    out.matrix("A = [W_ih W_hh]", A, static_cast<std::size_t>(H), static_cast<std::size_t>(E + H), {}, A_columns);
    out.vector("b = b_ih + b_hh", b);

    const Run cell_run = run_sequence(rnn, src_embed, ids);
    const Tensor A_tensor = constant(H, E + H, A), b_tensor = constant(1, H, b);
    Tensor h_seed = zeros(1, H);  // h_0 = 0
    Table compare({"t", "h_t from the cell", "tanh(A [x_t; h_{t−1}] + b)", "max |diff.|"});
    compare.align(1, Align::left).align(2, Align::left);
    double worst = 0;
    for (std::size_t t = 1; t <= ids.size(); ++t) {
        const Tensor x = constant(1, E, x_of(ids[t - 1]));
        // h_t = tanh(A [x_t; h_{t−1}] + b)
        h_seed = stepgrad::tanh(linear(concat_cols({x, h_seed}), A_tensor, b_tensor));
        const std::vector<double> h_cell = cell_run.steps[t - 1].state.h.row(0);
        const double difference = max_abs_difference(h_cell, h_seed.row(0));
        worst = std::max(worst, difference);
        compare.add_row(t, vec(h_cell), vec(h_seed.row(0)), sci(difference));
    }
    out.table(compare);
    out.line("  largest difference over the {} steps: {} ({})", ids.size(), sci(worst),
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
    const std::vector<int> long_ids = random_tokens(T);

    struct Flow {
        std::string name;
        std::string gate;           // z, f or nothing
        std::vector<double> norms;  // ‖∂L/∂h_t‖, t = 1 … T
        double mean_keep = 0;       // mean of that gate over every step and unit
    };
    std::vector<Flow> flows;
    const auto measure = [&](Cell& cell, std::string name) {
        const Run run = run_sequence(cell, src_embed, long_ids);
        Flow flow{std::move(name), keep_gate(cell.kind()), {}, 0};
        for (const CellStep& step : run.steps) {
            flow.norms.push_back(norm(step.state.h.grads()));
            for (const Gate& gate : step.gates())
                if (gate.name == flow.gate)
                    for (double v : gate.value.values()) flow.mean_keep += v / (static_cast<double>(T) * Hb);
        }
        flows.push_back(std::move(flow));
    };
    std::vector<std::unique_ptr<Cell>> long_cells;
    for (CellKind kind : {CellKind::rnn, CellKind::gru, CellKind::lstm}) {
        long_cells.push_back(make_cell(kind, "bptt", E, Hb));
        long_cells.back()->init(rng);
        measure(*long_cells.back(), display_name(kind));
    }
    if (keep_bias > 0)
        for (std::size_t k = 1; k < long_cells.size(); ++k) {
            Cell& cell = *long_cells[k];
            // z and f are the second block of H rows: b_iz (GRU) and b_if (LSTM)
            for (int j = Hb; j < 2 * Hb; ++j) cell.b_ih.value[static_cast<std::size_t>(j)] += keep_bias;
            measure(cell, fmt::format("{} b_{}+{}", display_name(cell.kind()), keep_gate(cell.kind()), keep_bias));
        }

    std::vector<std::string> headers{"t", "steps back"};
    for (const Flow& flow : flows) headers.push_back(flow.name);
    Table gradients(headers);
    for (int t = T; t >= 1; --t) {
        if ((T - t) % 5 != 0 && t != 1 && !out.shows(TraceLevel::full)) continue;
        std::vector<std::string> row{fmt::format("{}", t), fmt::format("{}", T - t)};
        for (const Flow& flow : flows) row.push_back(sci(flow.norms[static_cast<std::size_t>(t - 1)]));
        gradients.add_row(row);
    }
    out.line("  ‖∂L/∂h_t‖, from the last step back to the first{}:",
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

    // What a step back does on average: (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖)^(1/(T−1)).
    Table summary({"cell", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖", "× per step back", "mean keep gate"});
    std::vector<double> kept, per_step;
    for (const Flow& flow : flows) {
        kept.push_back(flow.norms.front() / flow.norms.back());
        per_step.push_back(std::pow(kept.back(), 1.0 / (T - 1)));
        summary.add_row(flow.name, sci(kept.back()), fixed(per_step.back(), 3),
                        flow.gate.empty() ? "—" : fmt::format("{} = {:.3f}", flow.gate, flow.mean_keep));
    }
    out.line("  the whole way back, and the geometric mean of one step:");
    out.table(summary);
    out.blank();

    // The conclusions are worded from the measured numbers, so they hold for any flags.
    // "8.8e+05 times as much as SimpleRNN" or "1/3.2 as much as SimpleRNN"
    const auto versus_rnn = [&](std::size_t k) {
        const double ratio = kept[k] >= kept[0] ? kept[k] / kept[0] : kept[0] / kept[k];
        const std::string number = ratio < 100 ? fmt::format("{:.1f}", ratio) : sci(ratio, 1);
        return kept[k] >= kept[0] ? number + " times as much as SimpleRNN" : "1/" + number + " as much as SimpleRNN";
    };
    const bool half_open = std::abs(flows[1].mean_keep - 0.5) < 0.1 && std::abs(flows[2].mean_keep - 0.5) < 0.1;
    std::string verdict = fmt::format(
        "Measured: going back {} steps, the gradient shrinks to {} of its size for SimpleRNN, "
        "{} for GRU and {} for LSTM; on average each step back multiplies it by {:.3f}, {:.3f} "
        "and {:.3f}. At PyTorch's initialisation GRU keeps {}, LSTM {}.",
        T - 1, sci(kept[0]), sci(kept[1]), sci(kept[2]), per_step[0], per_step[1], per_step[2],
        versus_rnn(1), versus_rnn(2));
    verdict += fmt::format(
        " {}he path through z ⊙ h or f ⊙ c is scaled at every step by its gate, and the gates "
        "start {} (mean z {:.2f}, mean f {:.2f}).",
        kept[1] >= 1e-2 || kept[2] >= 1e-2 ? "T"
        : kept[1] > kept[0] && kept[2] > kept[0] ? "Still, both lose nearly all of it: t"
                                                 : "Both lose nearly all of it: t",
        half_open ? "near σ(0) = 0.5, half open" : "well short of 1", flows[1].mean_keep, flows[2].mean_keep);
    if (flows.size() == 5) {
        verdict += fmt::format(
            " With {} added to the biases of z and f the gates open wider (mean z {:.2f}, mean f "
            "{:.2f}), a step back multiplies the gradient by {:.3f} and {:.3f}, and after {} steps "
            "GRU keeps {}, LSTM {}.",
            keep_bias, flows[3].mean_keep, flows[4].mean_keep, per_step[3], per_step[4], T - 1,
            versus_rnn(3), versus_rnn(4));
        if (per_step[3] > per_step[1] && per_step[4] > per_step[2])
            verdict += " Opening the gates let more of the gradient reach the early steps; a "
                       "SimpleRNN has no gate to open.";
    }
    out.text(verdict);
    if (!csv.empty()) {
        // every t, not only every 5th: one row per cell (as named in the table) and step
        std::string text = "cell,t,steps_back,grad_norm\n";
        for (const Flow& flow : flows)
            for (int t = 1; t <= T; ++t)
                text += fmt::format("{},{},{},{}\n", flow.name, t, T - t, flow.norms[static_cast<std::size_t>(t - 1)]);
        try {
            write_file_atomically(csv, text);
        } catch (const std::exception& error) {
            cli.fail(fmt::format("--csv: {}", error.what()));
        }
        out.line("  wrote ‖∂L/∂h_t‖ for every t and cell to {}", csv);
    }

    // --- 5. the trace of section 2's sequence, for notebooks and other implementations ---
    if (!json.empty()) {
        const CellKind kind = parse_cell_kind(cell_name == "all" ? "gru" : cell_name);
        Cell& traced = **std::find_if(cells.begin(), cells.end(), [&](const auto& c) { return c->kind() == kind; });
        const EncoderRun run = run_encoder(traced, src_embed, ids);
        try {
            write_file_atomically(json, encoder_trace("03", traced, src_embed, vocab, run));
        } catch (const std::exception& error) {
            cli.fail(fmt::format("--json: {}", error.what()));
        }
        out.section("5. trace");
        out.line("  wrote {}'s {} steps over \"{}\" (stepgrad-trace/1, loss L = Σ h_{} = {:.6f}) to {}",
                 display_name(traced.kind()), ids.size(), fmt::join(tokens, " "), ids.size(), run.loss.value(0), json);
    }
    return 0;
}
