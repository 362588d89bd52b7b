#pragma once
// Exercise 08, reference solution: beam search instead of greedy decoding (lesson 07).
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "stepgrad/ops.hpp"
#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

inline std::vector<int> beam_search(Seq2Seq& model, const Batch& source, int beam_width, int max_length) {
    if (source.size != 1 || beam_width < 1)
        throw std::invalid_argument("beam_search: one example and a beam width of at least 1");
    struct Hypothesis {
        std::vector<int> ids;
        double log_prob;  // log P(ids) = Σ_j log softmax(logits_j)[y_j]
        CellState state;  // s_j after the last id
    };
    const Encoded encoded = model.encode(source);
    std::vector<Hypothesis> live{{{}, 0.0, encoded.final}};  // s_0 = h_m, next input <bos>
    std::vector<Hypothesis> finished;
    const auto by_log_prob = [](const Hypothesis& a, const Hypothesis& b) { return a.log_prob > b.log_prob; };

    for (int j = 0; j < max_length && !live.empty(); ++j) {
        std::vector<Hypothesis> candidates;
        for (const Hypothesis& hypothesis : live) {
            const int input = hypothesis.ids.empty() ? Vocab::bos : hypothesis.ids.back();
            const DecoderStep step = model.decoder_step(encoded, hypothesis.state, {&input, 1});
            // log P(y_j | y_<j, x) for every token y_j
            const Tensor log_probs = log_softmax(model.output_logits(step.features));
            for (int token = 0; token < log_probs.cols(); ++token) {
                Hypothesis next{hypothesis.ids, hypothesis.log_prob + log_probs.at(0, token), step.cell.state};
                next.ids.push_back(token);
                candidates.push_back(std::move(next));
            }
        }
        // The k best extensions; stable, so ties keep the lower token id, as greedy's argmax does.
        std::stable_sort(candidates.begin(), candidates.end(), by_log_prob);
        candidates.resize(std::min(candidates.size(), static_cast<std::size_t>(beam_width)));
        live.clear();
        for (Hypothesis& candidate : candidates)
            (candidate.ids.back() == Vocab::eos ? finished : live).push_back(std::move(candidate));
        // log P only falls as a hypothesis grows: no live one can overtake the best finished one.
        const auto best_finished = std::min_element(finished.begin(), finished.end(), by_log_prob);
        if (best_finished != finished.end() && !live.empty() && best_finished->log_prob >= live.front().log_prob)
            live.clear();
    }
    // Finished hypotheses and, when max_length cut them off, the live ones compete on log P.
    finished.insert(finished.end(), live.begin(), live.end());
    return std::min_element(finished.begin(), finished.end(), by_log_prob)->ids;
}

}  // namespace stepgrad::exercises
