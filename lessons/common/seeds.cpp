// Seed 000's decoder update recomputed, the model's α beside seed 004's, and what its α does
// with seed 004's summarisation sentence (see seeds.hpp).
#include "common/seeds.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "common/printing.hpp"  // defines: alignment_heatmap
#include "stepgrad/support/text.hpp"  // defines: split_words

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
            table.add_row(j + 1, "'" + tgt_vocab.token(run.batch.tgt_in[j]) + "'", rounding_difference(differences[j]));
        out.table(table);
    }
    const double worst = *std::max_element(differences.begin(), differences.end());
    out.line("  largest over the {} steps: {} ({})", differences.size(), rounding_difference(worst),
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

// --- seed 004 §2.5: a summariser's α, "russian defense minister ivanov …" → "russia calls for …" ---

namespace {

constexpr std::string_view seed_news =
    "russian defense minister ivanov called sunday for the creation of a joint front for combating global terrorism";
constexpr std::string_view seed_headline = "russia calls for joint front against terrorism";
// A source word takes part in a merge when it holds at least this share of the headline word's α.
constexpr double merge_share = 0.1;

// The run's α without its <eos> row and column: headline words down, source words across.
struct HeadlineAlpha {
    std::vector<std::string> words, sources;
    std::vector<std::vector<double>> alpha;  // alpha[j][i]
    Alignment gold;                          // gold[j]: the source words headline word j rewrites
};

bool labels_are(const std::vector<std::string>& labels, std::string_view text) {
    const std::vector<std::string_view> words = split_words(text);
    return labels.size() == words.size() + 1 && labels.back() == "<eos>" &&
           std::equal(words.begin(), words.end(), labels.begin());
}

std::optional<HeadlineAlpha> seed_headline_alpha(std::string_view task, const TraceRun& run, const Vocab& src_vocab,
                                                 const Vocab& tgt_vocab) {
    const Heatmap h = alignment_heatmap(run, src_vocab, tgt_vocab);
    if (task != "headline" || h.values.empty() || !labels_are(h.col_labels, seed_news) ||
        !labels_are(h.row_labels, seed_headline) || run.gold.size() != h.rows)
        return std::nullopt;
    HeadlineAlpha a;
    a.words.assign(h.row_labels.begin(), h.row_labels.end() - 1);
    a.sources.assign(h.col_labels.begin(), h.col_labels.end() - 1);
    for (std::size_t j = 0; j < a.words.size(); ++j) {
        const auto row = h.values.begin() + static_cast<std::ptrdiff_t>(j * h.cols);
        a.alpha.emplace_back(row, row + static_cast<std::ptrdiff_t>(a.sources.size()));
        a.gold.push_back(run.gold[j]);
    }
    return a;
}

std::vector<int> all_positions(const HeadlineAlpha& a) {
    std::vector<int> positions(a.sources.size());
    for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int>(i);
    return positions;
}

bool contains(const std::vector<int>& positions, int i) {
    return std::find(positions.begin(), positions.end(), i) != positions.end();
}

std::string words_at(const HeadlineAlpha& a, const std::vector<int>& positions, std::string_view separator = " ") {
    std::vector<std::string> words;
    for (const int i : positions) words.push_back(a.sources[static_cast<std::size_t>(i)]);
    return fmt::format("{}", fmt::join(words, separator));
}

// "ivanov 0.52, minister 0.25": the values at `positions`, in that order.
std::string values_at(const HeadlineAlpha& a, const std::vector<int>& positions, const std::vector<double>& values) {
    std::vector<std::string> parts;
    for (const int i : positions)
        parts.push_back(fmt::format("{} {:.2f}", a.sources[static_cast<std::size_t>(i)],
                                    values[static_cast<std::size_t>(i)]));
    return fmt::format("{}", fmt::join(parts, ", "));
}

// The positions of `among` where headline word j's α is at least merge_share, largest first.
std::vector<int> holders(const HeadlineAlpha& a, std::size_t j, const std::vector<int>& among) {
    std::vector<int> held;
    for (const int i : among)
        if (a.alpha[j][static_cast<std::size_t>(i)] >= merge_share) held.push_back(i);
    std::stable_sort(held.begin(), held.end(), [&](int x, int y) {
        return a.alpha[j][static_cast<std::size_t>(x)] > a.alpha[j][static_cast<std::size_t>(y)];
    });
    return held;
}

// Source words whose α summed over the headline words is below headline_skip_below, beside
// those the rule drops (no headline word comes from them).
std::string describe_skips(const HeadlineAlpha& a) {
    std::vector<double> total(a.sources.size(), 0.0);  // Σ_j α_{j,i}
    for (const auto& row : a.alpha)
        for (std::size_t i = 0; i < row.size(); ++i) total[i] += row[i];
    std::vector<int> skipped, dropped, both, dropped_reached;
    std::vector<std::vector<int>> skipped_kept(a.words.size());  // by the headline word they make
    for (const int i : all_positions(a)) {
        const bool skip = total[static_cast<std::size_t>(i)] < headline_skip_below;
        const auto made = std::find_if(a.gold.begin(), a.gold.end(), [&](const auto& g) { return contains(g, i); });
        const bool drop = made == a.gold.end();
        if (skip) skipped.push_back(i);
        if (drop) dropped.push_back(i);
        if (skip && drop) both.push_back(i);
        if (!skip && drop) dropped_reached.push_back(i);
        if (skip && !drop) skipped_kept[static_cast<std::size_t>(made - a.gold.begin())].push_back(i);
    }
    std::vector<std::string> kept;  // "defense minister ivanov (of "russia")"
    for (std::size_t j = 0; j < a.words.size(); ++j)
        if (!skipped_kept[j].empty())
            kept.push_back(fmt::format("{} (of \"{}\")", words_at(a, skipped_kept[j]), a.words[j]));
    std::string text = fmt::format(
        "Skips: {} of the {} source words get less than {} of α summed over the {} headline words{}. The headline's "
        "rule drops {} words ({}), and the model skips {} of them",
        skipped.size(), a.sources.size(), headline_skip_below, a.words.size(),
        skipped.empty() ? "" : ": " + values_at(a, skipped, total), dropped.size(), words_at(a, dropped, ", "),
        both.size());
    if (!dropped_reached.empty()) text += fmt::format("; α still reaches: {}", values_at(a, dropped_reached, total));
    text += ".";
    if (!kept.empty()) text += fmt::format(" It also skips words the rule keeps: {}.", fmt::join(kept, ", "));
    return text;
}

// Headline words made of several source words: how much of their α falls on those, and
// over how many of them it spreads.
std::string describe_merges(const HeadlineAlpha& a) {
    std::vector<std::string> merges;
    for (std::size_t j = 0; j < a.words.size(); ++j) {
        const std::vector<int>& gold = a.gold[j];
        if (gold.size() < 2) continue;
        double on_gold = 0;
        for (const int i : gold) on_gold += a.alpha[j][static_cast<std::size_t>(i)];
        const std::vector<int> held = holders(a, j, gold);
        const std::string how = held.empty()        ? fmt::format("none of them holds {} of it", merge_share)
                                : held.size() == 1 ? fmt::format("concentrated on {}", values_at(a, held, a.alpha[j]))
                                                   : fmt::format("spread over {} of them ({})", held.size(),
                                                                 values_at(a, held, a.alpha[j]));
        merges.push_back(fmt::format("\"{}\" ← \"{}\": {:.2f} of its α on these {} words, {}", a.words[j],
                                     words_at(a, gold), on_gold, gold.size(), how));
    }
    return fmt::format("Merges, headline words the rule makes of several source words: {}.", fmt::join(merges, "; "));
}

// " 3 places after called": where a row's largest α sits, seen from the nearest word it rewrites.
std::string offset_from_gold(const HeadlineAlpha& a, std::size_t j, int largest) {
    const std::vector<int>& gold = a.gold[j];
    if (gold.empty() || contains(gold, largest)) return "";
    const int nearest = *std::min_element(gold.begin(), gold.end(), [&](int x, int y) {
        return std::abs(x - largest) < std::abs(y - largest);
    });
    const int places = std::abs(largest - nearest);
    return fmt::format(", its largest α {} place{} {} {}", places, places == 1 ? "" : "s",
                       largest > nearest ? "after" : "before", a.sources[static_cast<std::size_t>(nearest)]);
}

// Headline words the source does not contain, and where their α went.
std::string describe_paraphrases(const HeadlineAlpha& a) {
    std::vector<std::string> paraphrases;
    for (std::size_t j = 0; j < a.words.size(); ++j) {
        if (std::find(a.sources.begin(), a.sources.end(), a.words[j]) != a.sources.end()) continue;
        const std::vector<double>& row = a.alpha[j];
        const int largest = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
        std::vector<int> went = holders(a, j, all_positions(a));
        if (went.empty()) went.push_back(largest);
        paraphrases.push_back(fmt::format("\"{}\" (for \"{}\"): {}{}", a.words[j], words_at(a, a.gold[j]),
                                          values_at(a, went, row), offset_from_gold(a, j, largest)));
    }
    return fmt::format("Paraphrases, headline words that are not in the source, and where their α went (each source "
                       "word with at least {} of it): {}.",
                       merge_share, fmt::join(paraphrases, "; "));
}

}  // namespace

void describe_headline_attention(Printer& out, std::string_view task, const TraceRun& run, const Vocab& src_vocab,
                                 const Vocab& tgt_vocab) {
    const std::optional<HeadlineAlpha> a = seed_headline_alpha(task, run, src_vocab, tgt_vocab);
    if (!a) return;
    out.blank();
    out.text(fmt::format("Seed 004 (§2.5) draws this sentence's α as a picture: a summariser that writes {} words "
                         "for {}. What the model's α above does with them, from its numbers (the <eos> row and column "
                         "left out):\n\n{}\n\n{}\n\n{}",
                         a->words.size(), a->sources.size(), describe_skips(*a), describe_merges(*a),
                         describe_paraphrases(*a)));
}

}  // namespace stepgrad
