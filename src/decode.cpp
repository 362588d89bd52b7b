#include "stepgrad/decode.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "stepgrad/ops.hpp"

namespace stepgrad {

double length_penalty(int n, double a) { return std::pow((5.0 + n) / 6.0, a); }

namespace {

// The extension of live prefix `parent` by `token`: three numbers, so that ranking all K·V of
// them copies no prefix.
struct Extension {
    double log_prob;
    int parent;
    int token;
};

// Best log p first; among equal ones the earlier prefix, then the lower id (greedy's argmax).
bool ranks_before(const Extension& x, const Extension& y) {
    if (x.log_prob != y.log_prob) return x.log_prob > y.log_prob;
    return x.parent != y.parent ? x.parent < y.parent : x.token < y.token;
}

BeamHypothesis extend(const BeamHypothesis& prefix, const Extension& e, int j, double a) {
    BeamHypothesis next{prefix.ids, e.parent, e.log_prob};
    next.ids.push_back(e.token);
    // score = log p / lp(n)
    next.score = next.log_prob / length_penalty(j, a);
    next.finished = e.token == Vocab::eos;
    return next;
}

}  // namespace

BeamResult beam_search(Model& model, std::span<const int> source, int beam_width, int max_length, double a, int record) {
    if (beam_width < 1 || max_length < 1 || source.empty() || record < 0)
        throw std::invalid_argument(fmt::format("beam_search: needs a source, a beam width ≥ 1, max_length ≥ 1 and "
                                                "record ≥ 0 (got {}, {}, {})",
                                                beam_width, max_length, record));
    const int K = beam_width;
    const Example example{{source.begin(), source.end()}, {Vocab::eos}};
    const std::unique_ptr<DecoderState> state = model.start_decoding(make_batch(std::span(&example, 1)));
    std::vector<BeamHypothesis> live{BeamHypothesis{}};  // the empty prefix; next input <bos>; row r is live[r]
    BeamResult result;
    std::vector<BeamHypothesis> finished;

    // Done when K have finished and no live prefix can still beat the best of them: log p only falls
    // as a prefix grows and lp(n) ≤ lp(max_length), so a live one scores at most log p / lp(max_length).
    const auto done = [&] {
        if (static_cast<int>(finished.size()) < K) return false;
        double best = finished.front().score;
        for (const BeamHypothesis& f : finished) best = std::max(best, f.score);
        return live.empty() || live.front().log_prob / length_penalty(max_length, a) <= best;
    };
    std::vector<Extension> extensions;
    for (int j = 1; j <= max_length && !live.empty() && !done(); ++j) {
        std::vector<int> inputs;
        for (const BeamHypothesis& prefix : live) inputs.push_back(prefix.ids.empty() ? Vocab::bos : prefix.ids.back());
        const Tensor log_p = model.next_log_probs(*state, inputs);  // (live, V)
        extensions.clear();
        for (int k = 0; k < log_p.rows(); ++k)
            for (int token = 0; token < log_p.cols(); ++token)
                extensions.push_back({live[static_cast<std::size_t>(k)].log_prob + log_p.at(k, token), k, token});
        const auto ranked = std::min(extensions.size(), static_cast<std::size_t>(std::max(K, record)));
        std::partial_sort(extensions.begin(), extensions.begin() + static_cast<std::ptrdiff_t>(ranked), extensions.end(),
                          ranks_before);
        BeamStep beam;
        std::vector<BeamHypothesis> next_live;
        std::vector<int> rows;  // the row each live prefix continues
        for (std::size_t c = 0; c < ranked; ++c) {
            const bool kept = c < static_cast<std::size_t>(K);
            if (!kept && record == 0) break;
            BeamHypothesis candidate = extend(live[static_cast<std::size_t>(extensions[c].parent)], extensions[c], j, a);
            candidate.kept = kept;
            if (kept && candidate.finished) finished.push_back(candidate);
            if (kept && !candidate.finished) {
                beam.kept.push_back(static_cast<int>(c));
                rows.push_back(candidate.parent);
                next_live.push_back(candidate);
            }
            if (record > 0) beam.candidates.push_back(std::move(candidate));
        }
        live = std::move(next_live);
        if (!live.empty()) model.select_rows(*state, rows);
        if (record > 0) result.steps.push_back(std::move(beam));
    }
    // Only when the length limit cut them off do the live prefixes compete with the finished ones:
    // after a stop by `done`, their log p so far would overrate them.
    const bool cut_off = !live.empty() && !done();
    result.ranked = std::move(finished);
    if (cut_off) result.ranked.insert(result.ranked.end(), live.begin(), live.end());
    std::stable_sort(result.ranked.begin(), result.ranked.end(),
                     [](const BeamHypothesis& x, const BeamHypothesis& y) { return x.score > y.score; });
    const BeamHypothesis& best = result.ranked.front();
    result.ids = best.ids;
    result.log_prob = best.log_prob;
    result.score = best.score;
    return result;
}

}  // namespace stepgrad
