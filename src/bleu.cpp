#include "stepgrad/bleu.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

namespace stepgrad {

double BleuScore::precision(int n) const {
    const auto k = static_cast<std::size_t>(n - 1);
    return total.at(k) ? static_cast<double>(matched.at(k)) / static_cast<double>(total.at(k)) : 0.0;
}

namespace {

// How often each n-gram of order n occurs in `tokens`.
std::map<Tokens, long> ngram_counts(const Tokens& tokens, int n) {
    std::map<Tokens, long> counts;
    for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= tokens.size(); ++i)
        ++counts[Tokens(tokens.begin() + static_cast<std::ptrdiff_t>(i), tokens.begin() + static_cast<std::ptrdiff_t>(i) + n)];
    return counts;
}

}  // namespace

BleuScore corpus_bleu(std::span<const Tokens> hypotheses, std::span<const Tokens> references) {
    if (hypotheses.size() != references.size())
        throw std::invalid_argument(fmt::format("corpus_bleu: {} hypotheses but {} references (one reference each)",
                                                hypotheses.size(), references.size()));
    BleuScore score;
    for (std::size_t s = 0; s < hypotheses.size(); ++s) {
        score.hypothesis_length += static_cast<long>(hypotheses[s].size());
        score.reference_length += static_cast<long>(references[s].size());
        for (int n = 1; n <= BleuScore::max_order; ++n) {
            const auto in_reference = ngram_counts(references[s], n);
            // clipped: an n-gram counts at most as often as the reference holds it
            for (const auto& [gram, count] : ngram_counts(hypotheses[s], n)) {
                const auto found = in_reference.find(gram);
                score.matched[static_cast<std::size_t>(n - 1)] += found == in_reference.end() ? 0 : std::min(count, found->second);
                score.total[static_cast<std::size_t>(n - 1)] += count;
            }
        }
    }
    const double c = static_cast<double>(score.hypothesis_length), r = static_cast<double>(score.reference_length);
    if (c == 0) return score;  // nothing written: BP = exp(−∞) = 0, BLEU 0
    score.brevity_penalty = c >= r ? 1.0 : std::exp(1 - r / c);
    double log_mean = 0;  // ¼ Σ log p_n
    for (int n = 1; n <= BleuScore::max_order; ++n) {
        const double p = score.precision(n);
        if (p == 0) return score;  // log 0 = −∞: the geometric mean is 0
        log_mean += std::log(p) / BleuScore::max_order;
    }
    score.bleu = 100 * score.brevity_penalty * std::exp(log_mean);
    return score;
}

}  // namespace stepgrad
