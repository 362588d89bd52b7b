#include "stepgrad/decode.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "stepgrad/ops.hpp"

namespace stepgrad {

double length_penalty(int n, double a) { return std::pow((5.0 + n) / 6.0, a); }

BeamResult beam_search(Seq2Seq& model, std::span<const int> source, int beam_width, int max_length, double a) {
    if (beam_width < 1 || max_length < 1 || source.empty())
        throw std::invalid_argument(fmt::format("beam_search: needs a source, a beam width ≥ 1 and max_length ≥ 1 (got {}, {})",
                                                beam_width, max_length));
    const int K = beam_width;
    // K copies of the source: row k of every decoder step is the k-th live prefix
    const std::vector<Example> copies(static_cast<std::size_t>(K), Example{{source.begin(), source.end()}, {Vocab::eos}});
    const Encoded encoded = model.encode(make_batch(copies));
    std::vector<CellState> state = encoded.initial;  // s_0 per layer, K rows
    std::vector<BeamHypothesis> live{BeamHypothesis{}};  // the empty prefix; next input <bos>
    BeamResult result;
    std::vector<BeamHypothesis> finished;
    const auto by_log_prob = [](const BeamHypothesis& x, const BeamHypothesis& y) { return x.log_prob > y.log_prob; };

    // Done when K have finished and no live prefix can still beat the best of them: log p only falls
    // as a prefix grows and lp(n) ≤ lp(max_length), so a live one scores at most log p / lp(max_length).
    const auto done = [&] {
        if (static_cast<int>(finished.size()) < K) return false;
        double best = finished.front().score;
        for (const BeamHypothesis& f : finished) best = std::max(best, f.score);
        return live.empty() || live.front().log_prob / length_penalty(max_length, a) <= best;
    };
    for (int j = 1; j <= max_length && !live.empty() && !done(); ++j) {
        std::vector<int> inputs(static_cast<std::size_t>(K), Vocab::bos);
        for (std::size_t k = 0; k < live.size(); ++k)
            if (!live[k].ids.empty()) inputs[k] = live[k].ids.back();
        const DecoderStep step = model.decoder_step(encoded, state, inputs);
        const Tensor log_p = log_softmax(model.output_logits(step.features));  // (K, V)
        BeamStep beam;
        for (std::size_t k = 0; k < live.size(); ++k)
            for (int token = 0; token < log_p.cols(); ++token) {
                BeamHypothesis next{live[k].ids, static_cast<int>(k), live[k].log_prob + log_p.at(static_cast<int>(k), token)};
                next.ids.push_back(token);
                next.score = next.log_prob / length_penalty(j, a);
                next.finished = token == Vocab::eos;
                beam.candidates.push_back(std::move(next));
            }
        // stable: among equal log p the earlier prefix and the lower id win, as greedy's argmax
        std::stable_sort(beam.candidates.begin(), beam.candidates.end(), by_log_prob);
        live.clear();
        std::vector<int> parents;
        for (std::size_t c = 0; c < beam.candidates.size() && c < static_cast<std::size_t>(K); ++c) {
            BeamHypothesis& candidate = beam.candidates[c];
            candidate.kept = true;
            if (candidate.finished) {
                finished.push_back(candidate);
                continue;
            }
            beam.kept.push_back(static_cast<int>(c));
            parents.push_back(candidate.parent);
            live.push_back(candidate);
        }
        // each live prefix carries its parent's s_j; idle rows copy row 0
        parents.resize(static_cast<std::size_t>(K), parents.empty() ? 0 : parents.front());
        for (std::size_t l = 0; l < state.size(); ++l) {
            const CellState& s = step.layers[l].state;
            state[l] = {gather_rows(s.h, parents), s.c.defined() ? gather_rows(s.c, parents) : Tensor{}};
        }
        result.steps.push_back(std::move(beam));
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
