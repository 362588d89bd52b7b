#pragma once
// Exercise 11, reference solution: held-out accuracy without teacher forcing (lesson 04).
#include <algorithm>
#include <vector>

#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

inline std::vector<std::vector<int>> predict(Seq2Seq& model, const Batch& batch, int max_length) {
    const int B = batch.size;
    const Encoded encoded = model.encode(batch);  // only the source side of the batch is read
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
            // y_j is what the model wrote: at evaluation there is no target to lean on. Feeding the
            // target's token here (teacher forcing) would score every step from a correct prefix.
            inputs[static_cast<std::size_t>(b)] = best;
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
    return written;
}

}  // namespace stepgrad::exercises
