#pragma once
// Exercise 11 — fix the bug: held-out accuracy that is too good to be true (lesson 04; compare
// Seq2Seq::greedy_decode in src/seq2seq.cpp, which evaluate() uses).
//
// To measure a model, decode each held-out source on its own: step j reads y_{j−1}, the token the
// model itself wrote at step j − 1 (y_0 = <bos>), never the target's. The code below writes the
// argmax of each step, but it feeds the next step the TARGET's token whenever the batch has one:
// teacher forcing left on at evaluation. Every step then starts from a correct prefix: after a
// first mistake the later tokens are still judged as if it had not happened, so the token accuracy
// it reports is above what the model does on its own. What is wrong: the next input. Fix that one
// line.
//
// Your tests: ctest --test-dir build/learner -R "exercise 11"   (README, "Exercises")
#include <algorithm>
#include <vector>

#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

// Per example, the ids written up to and including <eos> (or max_length ids).
inline std::vector<std::vector<int>> predict(Seq2Seq& model, const Batch& batch, int max_length) {
    const int B = batch.size, n = batch.tgt_len;
    const Encoded encoded = model.encode(batch);
    std::vector<CellState> state = encoded.initial;
    std::vector<int> inputs(static_cast<std::size_t>(B), Vocab::bos);
    std::vector<std::vector<int>> written(static_cast<std::size_t>(B));
    std::vector<bool> done(static_cast<std::size_t>(B), false);
    for (int j = 0; j < max_length; ++j) {
        const DecoderStep step = model.decoder_step(encoded, state, inputs);
        for (std::size_t l = 0; l < state.size(); ++l) state[l] = step.layers[l].state;
        const Tensor logits = model.output_logits(step.features);
        for (int b = 0; b < B; ++b) {
            const std::vector<double> row = logits.row(b);
            const int best = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
            if (!done[static_cast<std::size_t>(b)]) written[static_cast<std::size_t>(b)].push_back(best);
            done[static_cast<std::size_t>(b)] = done[static_cast<std::size_t>(b)] || best == Vocab::eos;
            // y_j, the next step's input
            inputs[static_cast<std::size_t>(b)] = j + 1 < n ? batch.tgt_in[static_cast<std::size_t>(b * n + j + 1)] : best;
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
    return written;
}

}  // namespace stepgrad::exercises
