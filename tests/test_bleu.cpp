// Corpus BLEU-4 (SPEC §13): hand-computed corpora with every count, the edge cases, and
// (tests/bleu_oracle.py, CTest "bleu matches NLTK") agreement with NLTK's corpus_bleu.
#include "testing.hpp"

#include <cmath>
#include <sstream>

#include "stepgrad/bleu.hpp"

using namespace stepgrad;

namespace {

Tokens words(const std::string& text) {
    std::istringstream in(text);
    Tokens tokens;
    for (std::string token; in >> token;) tokens.push_back(token);
    return tokens;
}

BleuScore bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
    std::vector<Tokens> h, r;
    for (const auto& s : hypotheses) h.push_back(words(s));
    for (const auto& s : references) r.push_back(words(s));
    return corpus_bleu(h, r);
}

void check_counts(const BleuScore& s, std::array<long, 4> matched, std::array<long, 4> total, long c, long r) {
    CHECK(s.matched == matched);
    CHECK(s.total == total);
    CHECK(s.hypothesis_length == c);
    CHECK(s.reference_length == r);
}

}  // namespace

TEST_CASE("one sentence: p_n = 4/5, 3/4, 2/3, 1/2, BLEU = 100 (1/5)^¼") {
    const BleuScore s = bleu({"a b c d e"}, {"a b c d f"});
    check_counts(s, {4, 3, 2, 1}, {5, 4, 3, 2}, 5, 5);
    CHECK(s.precision(1) == doctest::Approx(0.8));
    CHECK(s.brevity_penalty == 1.0);
    CHECK(s.bleu == doctest::Approx(100 * std::pow(0.2, 0.25)).epsilon(1e-14));
}

TEST_CASE("the counts are clipped per sentence and summed over the corpus before dividing") {
    // "a a a b" vs "a b a c": a occurs 3 times, the reference holds 2 → 2 + 1 of 4 unigrams;
    // bigrams aa, aa, ab → only ab matches. The second pair matches all but its last token.
    const BleuScore s = bleu({"a a a b", "x y z w v"}, {"a b a c", "x y z w"});
    check_counts(s, {3 + 4, 1 + 3, 0 + 2, 0 + 1}, {4 + 5, 3 + 4, 2 + 3, 1 + 2}, 9, 8);
    CHECK(s.brevity_penalty == 1.0);  // c = 9 ≥ r = 8
    // 100 (7/9 · 4/7 · 2/5 · 1/3)^¼ = 100 (8/135)^¼ — not the mean of the sentences' BLEUs
    CHECK(s.bleu == doctest::Approx(100 * std::pow(8.0 / 135.0, 0.25)).epsilon(1e-14));
}

TEST_CASE("a hypothesis shorter than every reference: BP = exp(1 − r/c) over the corpus") {
    const BleuScore s = bleu({"a b c d", "x y z w"}, {"a b c d e", "x y z w v"});
    check_counts(s, {8, 6, 4, 2}, {8, 6, 4, 2}, 8, 10);
    CHECK(s.brevity_penalty == doctest::Approx(std::exp(1 - 10.0 / 8.0)).epsilon(1e-15));
    CHECK(s.bleu == doctest::Approx(100 * std::exp(-0.25)).epsilon(1e-14));
    // half the reference's length: BP = e^−1
    CHECK(bleu({"a b c d"}, {"a b c d e f g h"}).bleu == doctest::Approx(100 / std::exp(1.0)).epsilon(1e-14));
}

TEST_CASE("no 4-gram matches anywhere: p_4 = 0, so BLEU = 0 (no smoothing)") {
    const BleuScore s = bleu({"a b c x d e f"}, {"a b c y d e f"});
    check_counts(s, {6, 4, 2, 0}, {7, 6, 5, 4}, 7, 7);
    CHECK(s.precision(4) == 0.0);
    CHECK(s.bleu == 0.0);
    // Papineni's "the the the …": clipped to the reference's two "the", and no bigram
    const BleuScore the = bleu({"the the the the the the the"}, {"the cat is on the mat"});
    check_counts(the, {2, 0, 0, 0}, {7, 6, 5, 4}, 7, 6);
    CHECK(the.bleu == 0.0);
}

TEST_CASE("hypotheses too short to hold a 4-gram: p_4 = 0/0 counts as 0, BLEU 0") {
    const BleuScore s = bleu({"a b c", "a b"}, {"a b c", "a b"});
    check_counts(s, {5, 3, 1, 0}, {5, 3, 1, 0}, 5, 5);
    CHECK(s.precision(4) == 0.0);
    CHECK(s.bleu == 0.0);
}

TEST_CASE("an empty hypothesis adds to r only, and all empty or an empty corpus give 0") {
    const BleuScore s = bleu({"", "a b c d"}, {"a b c d", "a b c d"});
    check_counts(s, {4, 3, 2, 1}, {4, 3, 2, 1}, 4, 8);
    CHECK(s.bleu == doctest::Approx(100 / std::exp(1.0)).epsilon(1e-14));
    const BleuScore empty = bleu({"", ""}, {"a b", "c"});
    check_counts(empty, {0, 0, 0, 0}, {0, 0, 0, 0}, 0, 3);
    CHECK(empty.bleu == 0.0);
    CHECK(empty.brevity_penalty == 0.0);
    const BleuScore none = bleu({}, {});
    CHECK(none.bleu == 0.0);
    CHECK(none.reference_length == 0);
}

TEST_CASE("a perfect corpus scores 100, and BLEU stays in [0, 100] when c > r") {
    CHECK(bleu({"a b c d e", "f g h i"}, {"a b c d e", "f g h i"}).bleu == doctest::Approx(100).epsilon(1e-15));
    const BleuScore longer = bleu({"a b c d e f"}, {"a b c d"});  // BP = 1, precisions below 1
    CHECK(longer.brevity_penalty == 1.0);
    CHECK(longer.bleu == doctest::Approx(100 * std::pow(4.0 / 6 * 3.0 / 5 * 2.0 / 4 * 1.0 / 3, 0.25)).epsilon(1e-14));
}

TEST_CASE("one reference per hypothesis: lists of different lengths are refused") {
    CHECK_THROWS_AS(bleu({"a"}, {"a", "b"}), std::invalid_argument);
}
