// Alignment accuracy in a lesson's words (see alignment.hpp).
#include "common/alignment.hpp"

#include <string>

#include <fmt/format.h>

namespace stepgrad {

namespace {

// From this fraction of the tokens up, "mostly" is true; α reads as well aligned from
// `well_aligned` on the gold position up.
constexpr double most = 0.5, well_aligned = 0.8;

// What the two fractions say, in a few words after the figures. "One late" is said only
// when it is the commoner of the two.
std::string alignment_verdict(const AlignmentAccuracy& a, const ModelConfig& config) {
    const bool late_wins = a.shifted_accuracy > a.accuracy;
    if (late_wins && a.shifted_accuracy >= most)
        return config.bidirectional
                   ? " — mostly one position late, even with a bidirectional encoder."
                   : " — mostly one position late: a forward encoder's h_{i+1} still holds x_i; lesson 08's "
                     "bidirectional encoder mends it.";
    if (a.accuracy >= well_aligned) return " — α mostly falls where the gold alignment says.";
    if (a.accuracy + a.shifted_accuracy < most)
        return " — for most tokens on neither: α has not learnt the gold alignment (yet).";
    if (late_wins) return " — more often one position late than on the gold position.";
    return ".";
}

}  // namespace

void print_alignment_accuracy(Printer& out, const ModelConfig& config, const std::optional<AlignmentAccuracy>& accuracy) {
    if (!accuracy) {
        out.text("Alignment accuracy: none — a plain model has no attention, so no α to compare with the gold "
                 "alignment.");
        return;
    }
    const AlignmentAccuracy& a = *accuracy;
    if (a.aligned_tokens == 0) {
        out.text("Alignment accuracy: none — no held-out target token has a gold alignment.");
        return;
    }
    out.text(fmt::format("Alignment accuracy on {} held-out examples ({} aligned target tokens): {:.1f} % on the "
                         "gold position, {:.1f} % one position late (gold + 1){}",
                         a.examples, a.aligned_tokens, 100 * a.accuracy, 100 * a.shifted_accuracy,
                         alignment_verdict(a, config)));
}

}  // namespace stepgrad
