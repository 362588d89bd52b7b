// The gradient that reaches each encoder state (see gradient_flow.hpp).
#include "common/gradient_flow.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "stepgrad/ops.hpp"

namespace stepgrad {

namespace {

// Per token row b·n + (j−1) of the batch: 1/n_b at example b's n_b target tokens, 0 at padding.
std::vector<double> per_example_mean_weights(const Batch& batch) {
    std::vector<double> weights(static_cast<std::size_t>(batch.size) * batch.tgt_len, 0.0);
    for (int b = 0; b < batch.size; ++b) {
        const int n_b = batch.tgt_lengths[static_cast<std::size_t>(b)];
        for (int j = 0; j < n_b; ++j) weights[static_cast<std::size_t>(b * batch.tgt_len + j)] = 1.0 / n_b;
    }
    return weights;
}

// (1/B) Σ_b ‖g_b‖, g_b the b-th row of a (B, H) gradient.
double mean_row_norm(const std::vector<double>& gradient, int B) {
    const std::size_t H = gradient.size() / static_cast<std::size_t>(B);
    double total = 0;
    for (std::size_t b = 0; b < static_cast<std::size_t>(B); ++b) {
        double squares = 0;
        for (std::size_t h = 0; h < H; ++h) squares += gradient[b * H + h] * gradient[b * H + h];
        total += std::sqrt(squares);
    }
    return total / B;
}

// i = 1, 2, 5, 10, 20, 50, … below m − 1, then m − 1 and m; every i when m ≤ 12 or asked.
std::vector<int> shown_positions(int m, bool every_position) {
    std::vector<int> positions;
    if (every_position || m <= 12) {
        for (int i = 1; i <= m; ++i) positions.push_back(i);
        return positions;
    }
    for (int decade = 1; decade < m - 1; decade *= 10)
        for (int step : {1, 2, 5})
            if (step * decade < m - 1) positions.push_back(step * decade);
    positions.push_back(m - 1);
    positions.push_back(m);
    return positions;
}

// "280", "3.5", "2.8e+04": how many times, to two significant figures or so.
std::string times(double ratio) {
    if (ratio >= 1e4) return sci(ratio, 1);
    return ratio >= 10 ? fmt::format("{:.0f}", ratio) : fmt::format("{:.1f}", ratio);
}

// A ratio within 10% of 1 is read as "about the same".
constexpr double level_band = 1.1;

// "280 times plain's", "1/3.5 of plain's", "about plain's (1.04 times)"
std::string times_plain(double ratio) {
    if (ratio > level_band) return times(ratio) + " times plain's";
    if (ratio < 1 / level_band) return "1/" + times(1 / ratio) + " of plain's";
    return fmt::format("about plain's ({:.2f} times)", ratio);
}

std::string joined(const std::vector<std::string>& items) {
    if (items.size() <= 1) return items.empty() ? "" : items.front();
    return fmt::format("{} and {}", fmt::join(items.begin(), items.end() - 1, ", "), items.back());
}

// The plain model's index among the contenders, or none.
std::optional<std::size_t> plain_index(const Comparison& c) {
    const auto plain = std::find_if(c.models.begin(), c.models.end(), [](const Contender& m) { return m.plain(); });
    if (plain == c.models.end()) return std::nullopt;
    return static_cast<std::size_t>(plain - c.models.begin());
}

// The models with recurrent encoder states h_i: all but the Transformer.
std::vector<std::size_t> recurrent_models(const Comparison& c) {
    std::vector<std::size_t> models;
    for (std::size_t k = 0; k < c.models.size(); ++k)
        if (!c.models[k].transformer()) models.push_back(k);
    return models;
}

// `first`, then one column per recurrent model.
Table model_columns(const Comparison& c, const std::string& first) {
    std::vector<std::string> headers{first};
    for (std::size_t k : recurrent_models(c)) headers.push_back(c.models[k].name);
    return Table(headers);
}

// One row per source position at length `l`, one column per model: its ‖∂L/∂h_i‖.
Table gradient_table(const Comparison& c, std::size_t l, bool every_position) {
    Table table = model_columns(c, "i");
    const int m = c.lengths[l] + 1;  // the <eos> too
    for (int i : shown_positions(m, every_position)) {
        std::vector<std::string> row{i == m ? fmt::format("{} <eos>", i) : std::to_string(i)};
        for (std::size_t k : recurrent_models(c))
            row.push_back(sci(c.at(l, k).gradient_norms[static_cast<std::size_t>(i - 1)]));
        table.add_row(row);
    }
    return table;
}

// ‖∂L/∂h_1‖ / ‖∂L/∂h_m‖ of one run: how much of the gradient at the source's last position
// is left at its first. The run's loss scales both, so how well it fits cancels out.
double kept_at_first(const LengthRun& run) { return run.gradient_norms.front() / run.gradient_norms.back(); }

// "0.034", "1.270", "2.1e-05"
std::string fraction(double value) { return value >= 1e-3 ? fixed(value, 3) : sci(value, 1); }

// One row per length, one column per model: kept_at_first.
Table kept_table(const Comparison& c) {
    Table table = model_columns(c, "L");
    for (std::size_t l = 0; l < c.lengths.size(); ++l) {
        std::vector<std::string> row{std::to_string(c.lengths[l])};
        for (std::size_t k : recurrent_models(c)) row.push_back(fraction(kept_at_first(c.at(l, k))));
        table.add_row(row);
    }
    return table;
}

// "By this measure plain's goes from 0.124 at L = 5 to 0.034 at L = 30; the attention
// models' lie between 0.727 and 5.110."
std::string kept_sentence(const Comparison& c) {
    const std::optional<std::size_t> p = plain_index(c);
    std::vector<std::string> parts;
    if (p && c.lengths.size() > 1)
        parts.push_back(fmt::format("plain's goes from {} at L = {} to {} at L = {}", fraction(kept_at_first(c.at(0, *p))),
                                    c.lengths.front(), fraction(kept_at_first(c.at(c.lengths.size() - 1, *p))),
                                    c.lengths.back()));
    else if (p)
        parts.push_back(fmt::format("plain's is {}", fraction(kept_at_first(c.at(0, *p)))));
    std::vector<double> attention;
    std::vector<std::string> names;
    for (const LengthRun& run : c.runs)
        if (c.models[run.model].attention()) attention.push_back(kept_at_first(run));
    for (const Contender& model : c.models)
        if (model.attention()) names.push_back(model.name);
    if (!attention.empty()) {
        const auto [low, high] = std::minmax_element(attention.begin(), attention.end());
        const std::size_t models = names.size();
        const std::string whose = models == 1 ? fmt::format("{}'s", names.front()) : "the attention models'";
        parts.push_back(attention.size() == 1 ? fmt::format("{} is {}", whose, fraction(*low))
                                              : fmt::format("{} {} between {} and {}", whose,
                                                            models == 1 ? "lies" : "lie", fraction(*low),
                                                            fraction(*high)));
    }
    return fmt::format("By this measure {}.", fmt::join(parts, "; "));
}

// " (late loss 0.029 and 0.027 against plain's 1.725)" when every attention model's late
// loss at length `l` is under half plain's: it has less gradient to send anywhere.
std::string fits_better(const Comparison& c, std::size_t l, std::size_t p) {
    const double plain = late_loss(c.at(l, p).trained.training);
    std::vector<std::string> losses;
    for (std::size_t k = 0; k < c.models.size(); ++k) {
        if (!c.models[k].attention()) continue;
        const double loss = late_loss(c.at(l, k).trained.training);
        if (loss >= plain / 2) return "";
        losses.push_back(fixed(loss, 3));
    }
    return fmt::format(" (late loss {} against plain's {})", joined(losses), fixed(plain, 3));
}

// What the numbers at length `l` say about h_1: each attention model against plain, and
// whether the path length explains it; empty without plain or without attention.
std::string gradient_verdict(const Comparison& c, std::size_t l) {
    const std::optional<std::size_t> p = plain_index(c);
    if (!p || recurrent_models(c).size() < 2) return "";
    const std::vector<double>& plain = c.at(l, *p).gradient_norms;
    const auto m = plain.size();
    std::vector<std::string> ratios, more, not_more;
    for (std::size_t k = 0; k < c.models.size(); ++k) {
        if (!c.models[k].attention()) continue;
        const double ratio = c.at(l, k).gradient_norms.front() / plain.front();
        ratios.push_back(fmt::format("{}'s is {}", c.models[k].name, times_plain(ratio)));
        (ratio > level_band ? more : not_more).push_back(c.models[k].name);
    }
    // plain: L → s_n … s_1 → s_0 = h_m → h_{m−1} … → h_1;  attention: L → c_j → h_1
    const std::string shrinks = plain.front() < plain.back()
                                    ? fmt::format(", and plain's ‖∂L/∂h_i‖ shrinks {} times from h_{} to h_1",
                                                  times(plain.back() / plain.front()), m)
                                    : "";
    const std::string paths = fmt::format("in the plain model the only path from the loss to h_1 runs through all {} "
                                          "later encoder steps and then the whole decoder{}; with attention every c_j "
                                          "reads h_1 directly, a path of length 1",
                                          m - 1, shrinks);
    const std::string fits = fits_better(c, l, *p);
    std::string verdict = fmt::format("‖∂L/∂h_1‖ at the first source token: {}.", joined(ratios));
    if (not_more.empty()) {
        verdict += " That is the path length at work: " + paths + ".";
        if (!fits.empty())
            verdict += " They send more to h_1 even though they fit their batches far better" + fits +
                       ", and a model that fits has less gradient to send anywhere.";
        return verdict;
    }
    verdict += " The paths differ as seed 002 says (" + paths + "), but here " +
               (more.empty() ? "that does not bring more gradient to h_1"
                             : "more gradient reaches h_1 in " + joined(more) + " than in plain, and not in " +
                                   joined(not_more)) +
               ".";
    if (!fits.empty())
        verdict += " The attention models also fit their batches far better" + fits +
                   ", and a model that fits has less gradient to send anywhere.";
    return verdict;
}

}  // namespace

std::vector<double> gradient_norms_by_position(Seq2Seq& model, std::span<const Example> examples) {
    tape().reset();
    const Batch batch = make_batch(examples);
    if (std::any_of(batch.src_lengths.begin(), batch.src_lengths.end(), [&](int m) { return m != batch.src_len; }))
        throw std::invalid_argument("gradient_norms_by_position: every source must have the same length");
    const Forward forward = model.forward(batch);
    // Σ_b L_b with L_b = (1/n_b) Σ_j ℓ_{b,j}. The rows of a batch never mix, so row b of
    // ∂(Σ_b L_b)/∂h_i is example b's own ∂L_b/∂h_i (the batch's mean loss would scale it).
    const std::vector<double> weights = per_example_mean_weights(batch);
    const Tensor loss = sum(mul(forward.token_losses, constant(forward.token_losses.rows(), 1, weights)));
    tape().backward(loss);
    std::vector<double> norms;
    for (const CellStep& h_i : forward.encoder.steps) norms.push_back(mean_row_norm(h_i.state.h.gradient(), batch.size));
    for (Parameter* parameter : model.parameters()) parameter->zero_grad();
    tape().reset();
    return norms;
}

void print_gradient_flow(Printer& out, const Comparison& c) {
    const std::size_t last = c.lengths.size() - 1;
    const bool every_position = out.shows(TraceLevel::full);
    out.line("  ‖∂L/∂h_i‖ by source position i at L = {}{}:", c.lengths[last],
             every_position || c.lengths[last] + 1 <= 12 ? "" : " (a selection; --trace full: every i)");
    out.table(gradient_table(c, last, every_position));
    if (const std::string verdict = gradient_verdict(c, last); !verdict.empty()) {
        out.text(verdict);
        out.blank();
    }
    out.text("A trained model's gradients also scale with how wrong it still is. Comparing each model with itself "
             "takes that out: ‖∂L/∂h_1‖ / ‖∂L/∂h_m‖, how much of the gradient at the source's last position is left "
             "at its first.");
    out.table(kept_table(c));
    out.text(kept_sentence(c));
}

}  // namespace stepgrad
