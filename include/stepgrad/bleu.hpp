#pragma once
// Corpus BLEU-4 (Papineni et al. 2002), one reference per hypothesis (SPEC §13):
//
//   p_n   = Σ_s Σ_{g ∈ n-grams(hyp_s)} min(count_hyp_s(g), count_ref_s(g))  /  Σ_s |n-grams(hyp_s)|
//           (clipped n-gram precision, numerator and denominator summed over the corpus)
//   c     = Σ_s |hyp_s|,   r = Σ_s |ref_s|
//   BP    = 1 if c ≥ r, else exp(1 − r/c)
//   BLEU  = 100 · BP · exp(¼ Σ_{n=1..4} log p_n)          in [0, 100]
//
// No smoothing. Edge cases, as NLTK's corpus_bleu with its default (no) smoothing:
//   - any p_n = 0 (no n-gram of that order matches anywhere, or the hypotheses hold none
//     of that order at all) → BLEU = 0: log 0 is −∞, and the geometric mean is 0;
//   - an empty hypothesis adds to r but not to c; if every hypothesis is empty, c = 0 and
//     BLEU = 0 (BP would be exp(−∞));
//   - an empty corpus → BLEU = 0, every count 0.
// NLTK differs in one place: it counts a hypothesis shorter than n tokens as holding one
// n-gram of order n (its denominator is max(1, count) per sentence); we count none, as
// the sums above say. On hypotheses of at least 4 tokens the two agree exactly
// (tests/bleu_oracle.py); NLTK also returns ~1e-75 rather than exactly 0 for a zero p_n.
// Tokens are compared as strings: BLEU is computed on tokens as the task writes them.
#include <array>
#include <span>
#include <string>
#include <vector>

namespace stepgrad {

struct BleuScore {
    static constexpr int max_order = 4;  // BLEU-4
    double bleu = 0;                     // in [0, 100]
    std::array<long, max_order> matched{};  // clipped matches of order n = 1..4, summed over the corpus
    std::array<long, max_order> total{};    // n-grams of order n in the hypotheses
    long hypothesis_length = 0;          // c
    long reference_length = 0;           // r
    double brevity_penalty = 0;          // BP
    double precision(int n) const;       // p_n = matched / total (0 when total is 0), n = 1..4
};

using Tokens = std::vector<std::string>;

// hypotheses[s] is scored against references[s]; throws std::invalid_argument when the
// two lists differ in length.
BleuScore corpus_bleu(std::span<const Tokens> hypotheses, std::span<const Tokens> references);

}  // namespace stepgrad
