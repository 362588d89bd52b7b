// Footnote 4 of Vaswani et al. 2017, measured (see scaling.hpp).
#include "common/scaling.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace stepgrad {

namespace {

constexpr std::array<int, 7> dimensions{4, 8, 16, 32, 64, 128, 256};
constexpr int trials = 1000;  // N queries per d
constexpr int keys = 10;      // m keys per query: one softmax over m scores

// d entries uniform(−√3, √3): mean 0, variance 1
std::vector<double> unit_variance_vector(Rng& rng, int d) {
    const double bound = std::sqrt(3.0);
    std::vector<double> v(static_cast<std::size_t>(d));
    for (double& x : v) x = rng.uniform(-bound, bound);
    return v;
}

// q·k = Σ_u q_u k_u
double dot(const std::vector<double>& q, const std::vector<double>& k) {
    double sum = 0;
    for (std::size_t u = 0; u < q.size(); ++u) sum += q[u] * k[u];
    return sum;
}

// α_i = exp(e_i − max e) / Σ_l exp(e_l − max e): the max keeps exp from overflowing
std::vector<double> softmax_of(const std::vector<double>& scores) {
    const double top = *std::max_element(scores.begin(), scores.end());
    std::vector<double> alpha;
    double total = 0;
    for (double e : scores) total += alpha.emplace_back(std::exp(e - top));
    for (double& a : alpha) a /= total;
    return alpha;
}

// ‖J‖_F = √(Σ_{a,b} J_ab²) with J_ab = δ_ab α_a − α_a α_b, the softmax's Jacobian ∂α_a/∂e_b
double jacobian_norm(const std::vector<double>& alpha) {
    double sum = 0;
    for (std::size_t a = 0; a < alpha.size(); ++a)
        for (std::size_t b = 0; b < alpha.size(); ++b) {
            const double J = (a == b ? alpha[a] : 0.0) - alpha[a] * alpha[b];
            sum += J * J;
        }
    return std::sqrt(sum);
}

// Running sums over every softmax of one kind (unscaled or scaled): its scores' spread,
// its largest α and its Jacobian's norm.
struct SoftmaxTotals {
    double score_sum = 0, score_square_sum = 0;
    long score_count = 0;
    double peak_sum = 0, jacobian_sum = 0;
    int softmax_count = 0;

    void add(const std::vector<double>& scores) {
        for (double e : scores) {
            score_sum += e;
            score_square_sum += e * e;
        }
        score_count += static_cast<long>(scores.size());
        const std::vector<double> alpha = softmax_of(scores);
        peak_sum += *std::max_element(alpha.begin(), alpha.end());
        jacobian_sum += jacobian_norm(alpha);
        ++softmax_count;
    }
    // sd = √(mean(e²) − mean(e)²), over all the scores
    double score_sd() const {
        const double mean = score_sum / static_cast<double>(score_count);
        return std::sqrt(score_square_sum / static_cast<double>(score_count) - mean * mean);
    }
    double mean_peak() const { return peak_sum / softmax_count; }
    double mean_jacobian() const { return jacobian_sum / softmax_count; }
};

// The smallest and largest of one column of the table.
std::pair<double, double> range_of(const std::vector<ScalingMeasurement>& rows, double ScalingMeasurement::*column) {
    const auto [low, high] = std::minmax_element(
        rows.begin(), rows.end(), [column](const auto& a, const auto& b) { return a.*column < b.*column; });
    return {(*low).*column, (*high).*column};
}

}  // namespace

ScalingMeasurement measure_scaling(Rng& rng, int d, int trial_count, int key_count) {
    const double root_d = std::sqrt(static_cast<double>(d));
    SoftmaxTotals raw, scaled;
    for (int t = 0; t < trial_count; ++t) {
        const std::vector<double> q = unit_variance_vector(rng, d);
        std::vector<double> raw_scores, scaled_scores;
        for (int i = 0; i < key_count; ++i) {
            // e_i = q·k_i, and e_i / √d
            raw_scores.push_back(dot(q, unit_variance_vector(rng, d)));
            scaled_scores.push_back(raw_scores.back() / root_d);
        }
        raw.add(raw_scores);
        scaled.add(scaled_scores);
    }
    return {d,
            raw.score_sd(),
            scaled.score_sd(),
            raw.mean_peak(),
            scaled.mean_peak(),
            raw.mean_jacobian(),
            scaled.mean_jacobian()};
}

void print_scaling_measured(Printer& out, std::uint64_t seed) {
    const double uniform_jacobian = std::sqrt(keys - 1.0) / keys;  // ‖J‖_F at α_i = 1/m
    out.text(fmt::format(
        "Vaswani et al. 2017, footnote 4: if the d entries of q and k are independent, with mean 0 and variance 1, "
        "then q·k has mean 0 and variance d. Measured with the project's Rng (seed {}): for each d, N = {} queries q, "
        "each against m = {} keys k_i, every entry uniform(−√3, √3) (mean 0, variance 1). sd(e) = √(mean e² − "
        "(mean e)²) over the N·m = {} scores e = q·k_i; α = softmax(e) over a query's m scores, α_max its largest "
        "entry and ‖J‖_F = √(Σ_ab J_ab²) for its Jacobian J = diag(α) − ααᵀ ({:.3f} for a uniform α, 0 for a one-hot "
        "one), both averaged over the N queries; (e/√d): the same with the scores divided by √d.",
        seed, trials, keys, trials * keys, uniform_jacobian));
    Rng rng(seed);
    std::vector<ScalingMeasurement> rows;
    Table table({"d", "√d", "sd(e)", "sd(e/√d)", "α_max(e)", "α_max(e/√d)", "‖J‖_F(e)", "‖J‖_F(e/√d)"});
    table.precision(3);
    for (int d : dimensions) {
        const ScalingMeasurement& r = rows.emplace_back(measure_scaling(rng, d, trials, keys));
        table.add_row(d, std::sqrt(static_cast<double>(d)), r.sd_raw, r.sd_scaled, r.peak_raw, r.peak_scaled,
                      r.jacobian_raw, r.jacobian_scaled);
    }
    out.table(table);

    const ScalingMeasurement &first = rows.front(), &last = rows.back();
    const auto [sd_low, sd_high] = range_of(rows, &ScalingMeasurement::sd_scaled);
    const auto [peak_low, peak_high] = range_of(rows, &ScalingMeasurement::peak_scaled);
    const auto [jacobian_low, jacobian_high] = range_of(rows, &ScalingMeasurement::jacobian_scaled);
    out.text(fmt::format(
        "Unscaled, the spread of q·k follows √d, from {:.2f} at d = {} to {:.2f} at d = {}, and the softmax "
        "saturates: α_max rises from {:.3f} to {:.3f} while ‖J‖_F falls from {:.3f} to {:.3f} (÷{:.1f}), and the "
        "gradient that reaches the scores, ∂L/∂e = J ∂L/∂α, shrinks with it. Divided by √d, the spread stays "
        "between {:.3f} and {:.3f}, α_max between {:.3f} and {:.3f} and ‖J‖_F between {:.3f} and {:.3f}, whatever d "
        "is: the softmax keeps its gradient.",
        first.sd_raw, first.d, last.sd_raw, last.d, first.peak_raw, last.peak_raw, first.jacobian_raw,
        last.jacobian_raw, first.jacobian_raw / last.jacobian_raw, sd_low, sd_high, peak_low, peak_high,
        jacobian_low, jacobian_high));
}

}  // namespace stepgrad
