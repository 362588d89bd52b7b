// The model's α beside seed 004's (see seeds.hpp).
#include "common/seeds.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "common/printing.hpp"  // defines: alignment_heatmap

namespace stepgrad {

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
