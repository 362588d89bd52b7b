// Seed 000's decoder update recomputed, and the model's α beside seed 004's (see seeds.hpp).
#include "common/seeds.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "common/printing.hpp"  // defines: alignment_heatmap

namespace stepgrad {

// --- seed 000: s_j = tanh(A' [x'_j; s_{j−1}; c_j] + b) ---

namespace {

// Seed 000's decoder weights: A' (H × (E + H + H_k), row-major) and b (H).
struct Seed000Weights {
    std::size_t E, H, H_k;
    std::vector<double> A;
    std::vector<double> b;
};

// W_ih reads [x'; c] and W_hh reads s, so A' = [W_ih's first E columns, W_hh, W_ih's last H_k].
Seed000Weights seed_000_weights(const Cell& cell, int embed) {
    const auto E = static_cast<std::size_t>(embed), H = static_cast<std::size_t>(cell.hidden_size());
    const std::size_t H_k = static_cast<std::size_t>(cell.input_size()) - E;
    Seed000Weights w{E, H, H_k, {}, std::vector<double>(H)};
    for (std::size_t row = 0; row < H; ++row) {
        const auto ih = cell.W_ih.value.begin() + static_cast<std::ptrdiff_t>(row * (E + H_k));
        const auto hh = cell.W_hh.value.begin() + static_cast<std::ptrdiff_t>(row * H);
        w.A.insert(w.A.end(), ih, ih + static_cast<std::ptrdiff_t>(E));
        w.A.insert(w.A.end(), hh, hh + static_cast<std::ptrdiff_t>(H));
        w.A.insert(w.A.end(), ih + static_cast<std::ptrdiff_t>(E), ih + static_cast<std::ptrdiff_t>(E + H_k));
        // b = b_ih + b_hh
        w.b[row] = cell.b_ih.value[row] + cell.b_hh.value[row];
    }
    return w;
}

// s_j = tanh(A' [x'_j; s_{j−1}; c_j] + b), in plain doubles
std::vector<double> seed_000_step(const Seed000Weights& w, std::span<const double> x, std::span<const double> s,
                                  std::span<const double> c) {
    std::vector<double> stacked(x.begin(), x.end());  // [x'_j; s_{j−1}; c_j]
    stacked.insert(stacked.end(), s.begin(), s.end());
    stacked.insert(stacked.end(), c.begin(), c.end());
    std::vector<double> next(w.H);
    for (std::size_t row = 0; row < w.H; ++row) {
        double sum = w.b[row];
        for (std::size_t k = 0; k < stacked.size(); ++k) sum += w.A[row * stacked.size() + k] * stacked[k];
        next[row] = std::tanh(sum);
    }
    return next;
}

double max_abs_difference(std::span<const double> a, std::span<const double> b) {
    double largest = 0;
    for (std::size_t k = 0; k < a.size(); ++k) largest = std::max(largest, std::abs(a[k] - b[k]));
    return largest;
}

// Columns first … first + count − 1 of A' (numbered from 1 in the labels), as a matrix.
void print_columns(Printer& out, const Seed000Weights& w, std::size_t first, std::size_t count,
                   const std::string& source, std::string_view symbol) {
    const std::size_t columns = w.E + w.H + w.H_k;
    std::vector<double> block;
    for (std::size_t row = 0; row < w.H; ++row) {
        const auto start = w.A.begin() + static_cast<std::ptrdiff_t>(row * columns + first);
        block.insert(block.end(), start, start + static_cast<std::ptrdiff_t>(count));
    }
    std::vector<std::string> labels;
    for (std::size_t k = 1; k <= count; ++k) labels.push_back(fmt::format("{}[{}]", symbol, k));
    out.matrix(fmt::format("A'[:, {}–{}] = {}", first + 1, first + count, source), block, w.H, count, {}, labels);
}

void print_seed_000_weights(Printer& out, const Seed000Weights& w) {
    const std::size_t E = w.E, H = w.H, H_k = w.H_k;
    print_columns(out, w, 0, E, fmt::format("W_ih[:, 1–{}]", E), "x'");
    print_columns(out, w, E, H, "W_hh", "s");
    print_columns(out, w, E + H, H_k, fmt::format("W_ih[:, {}–{}]", E + 1, E + H_k), "c");
    out.vector("b = b_ih + b_hh", w.b);
}

}  // namespace

bool has_seed_000_decoder_form(const ModelConfig& config) {
    return config.cell == CellKind::rnn && config.decoder == DecoderKind::bahdanau;
}

std::vector<double> seed_000_decoder_differences(Seq2Seq& model, const TraceRun& run) {
    if (!has_seed_000_decoder_form(model.config())) return {};
    const Seed000Weights w = seed_000_weights(*model.decoder.front(), model.config().embed);
    const std::span<const double> tgt_embed(model.tgt_embed.value);
    std::vector<double> s = run.forward.encoder.initial.front().h.row(0);  // s_0
    std::vector<double> differences;
    for (std::size_t j = 0; j < run.forward.decoder.size(); ++j) {
        const DecoderStep& step = run.forward.decoder[j];
        // x'_j = tgt_embed[y_{j−1}]
        const auto x = tgt_embed.subspan(static_cast<std::size_t>(run.batch.tgt_in[j]) * w.E, w.E);
        s = seed_000_step(w, x, s, step.attention.context.row(0));
        differences.push_back(max_abs_difference(s, step.layers.front().state.h.row(0)));
    }
    return differences;
}

void print_seed_000_decoder_update(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& tgt_vocab) {
    const std::vector<double> differences = seed_000_decoder_differences(model, run);
    if (differences.empty()) return;
    const Seed000Weights w = seed_000_weights(*model.decoder.front(), model.config().embed);
    out.text(fmt::format(
        "Seed 000 writes this update as s_j = tanh(A' [x'_j; s_{{j−1}}; c_j] + b), x'_j = tgt_embed[y_{{j−1}}]. "
        "A', H × (E + H + H_k) = {} × {}, sets W_ih's first E = {} columns (for x'_j), W_hh (for s_{{j−1}}) and "
        "W_ih's last H_k = {} columns (for c_j) side by side; b = b_ih + b_hh. Since A' [x'; s; c] = W_ih [x'; c] + "
        "W_hh s, it is the same cell{}. We run it in plain doubles from s_0, on its own states, with section 3's c_j, "
        "and compare with the cell's s_j.",
        w.H, w.E + w.H + w.H_k, w.E, w.H_k, model.config().layers > 1 ? " (the decoder's layer 1, which reads c_j)" : ""));
    if (out.shows(TraceLevel::steps)) {
        print_seed_000_weights(out, w);
        Table table({"j", "y_{j−1}", "max_k |s_j(seed 000) − s_j(cell)|"});
        table.align(1, Align::left);
        for (std::size_t j = 0; j < differences.size(); ++j)
            table.add_row(j + 1, "'" + tgt_vocab.token(run.batch.tgt_in[j]) + "'", sci(differences[j]));
        out.table(table);
    }
    const double worst = *std::max_element(differences.begin(), differences.end());
    out.line("  largest over the {} steps: {} ({})", differences.size(), sci(worst),
             worst <= 1e-12 ? out.good("the same update, up to rounding") : out.bad("DIFFERENT"));
}

// --- seed 004: α for "Tom chases Jerry", drawn by hand ---

namespace {

constexpr std::array<std::string_view, 3> seed_src{"Tom", "chases", "Jerry"};
constexpr std::array<std::string_view, 3> seed_tgt{"汤姆", "追逐", "杰瑞"};
constexpr std::array<std::array<double, 3>, 3> seed_alpha{{{0.6, 0.2, 0.2}, {0.2, 0.7, 0.1}, {0.3, 0.1, 0.5}}};

using Matrix3 = std::array<std::array<double, 3>, 3>;

std::size_t argmax(const std::array<double, 3>& row) {
    return static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

double mean_largest(const Matrix3& alpha) {
    double total = 0;
    for (const auto& row : alpha) total += row[argmax(row)];
    return total / 3;
}

std::vector<std::string> alpha_table(std::string_view corner, const Matrix3& alpha, int precision) {
    Table table({std::string(corner), std::string(seed_src[0]), std::string(seed_src[1]), std::string(seed_src[2])});
    table.precision(precision);
    for (std::size_t j = 0; j < 3; ++j) table.add_row(seed_tgt[j], alpha[j][0], alpha[j][1], alpha[j][2]);
    return table.lines();
}

// Where the largest α of each row falls, in the model and in the seed.
std::string compare_peaks(const Matrix3& model) {
    std::vector<std::string> same, differ;
    for (std::size_t j = 0; j < 3; ++j) {
        const std::size_t m = argmax(model[j]), s = argmax(seed_alpha[j]);
        if (m == s)
            same.push_back(fmt::format("{} → {}", seed_tgt[j], seed_src[m]));
        else
            differ.push_back(fmt::format("{} → {} in the model, {} in the seed", seed_tgt[j], seed_src[m], seed_src[s]));
    }
    if (differ.empty())
        return fmt::format("In both, the largest α of each row falls on the same word: {}.", fmt::join(same, ", "));
    return fmt::format("The largest α of a row falls on a different word in {} of 3 rows ({}){}.", differ.size(),
                       fmt::join(differ, "; "),
                       same.empty() ? "" : fmt::format("; on the same in the others ({})", fmt::join(same, ", ")));
}

}  // namespace

void compare_with_seed_004(Printer& out, std::string_view task, const TraceRun& run, const Vocab& src_vocab,
                           const Vocab& tgt_vocab) {
    const Heatmap h = alignment_heatmap(run, src_vocab, tgt_vocab);
    if (task != "en-zh" || h.values.empty() || h.rows != 4 || h.cols != 4) return;
    for (std::size_t k = 0; k < 3; ++k)
        if (h.col_labels[k] != seed_src[k] || h.row_labels[k] != seed_tgt[k]) return;
    Matrix3 model{};
    for (std::size_t j = 0; j < 3; ++j)
        for (std::size_t i = 0; i < 3; ++i) model[j][i] = h.values[j * h.cols + i];
    double on_eos = 0;
    for (std::size_t j = 0; j < 3; ++j) on_eos += h.values[j * h.cols + 3] / 3;

    out.blank();
    out.text("Seed 004 draws α for this very sentence by hand. The model's α has one more column (the source "
             "<eos>) and one more row (the target <eos>); here is its 3×3 part, the three words, beside the seed's:");
    const std::vector<std::string> left = alpha_table("model", model, 2), right = alpha_table("seed 004", seed_alpha, 1);
    std::size_t width = 0;
    for (const std::string& line : left) width = std::max(width, display_width(line));
    for (std::size_t k = 0; k < left.size(); ++k) out.write_line(pad(left[k], width + 4) + right[k]);
    const double model_peak = mean_largest(model), seed_peak = mean_largest(seed_alpha);
    out.text(fmt::format("{} The model's rows are {} than the seed's: the largest α of a row averages {:.2f} against "
                         "{:.2f}. Its rows give the source <eos> {:.2f} on average, which the seed has no column for.",
                         compare_peaks(model), model_peak > seed_peak ? "sharper" : "flatter", model_peak, seed_peak,
                         on_eos));
}

}  // namespace stepgrad
