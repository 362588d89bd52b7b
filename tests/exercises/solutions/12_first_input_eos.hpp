#pragma once
// Exercise 12, reference solution: the decoder's first input is <bos> (lesson 04).
#include <algorithm>
#include <span>
#include <vector>

#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

// source: x_1 … x_m with its <eos>. Returns the ids written, <eos> included (or max_length ids).
inline std::vector<int> translate(Seq2Seq& model, std::span<const int> source, int max_length) {
    const Example example{{source.begin(), source.end()}, {Vocab::eos}};  // only the source is read
    const Encoded encoded = model.encode(make_batch(std::vector<Example>{example}));
    std::vector<CellState> state = encoded.initial;
    // y_0 = <bos>, as in training (Batch::tgt_in starts with it); <eos> only ends a sentence
    int input = Vocab::bos;
    std::vector<int> written;
    while (static_cast<int>(written.size()) < max_length) {
        const DecoderStep step = model.decoder_step(encoded, state, std::span<const int>(&input, 1));
        for (std::size_t l = 0; l < state.size(); ++l) state[l] = step.layers[l].state;
        const std::vector<double> logits = model.output_logits(step.features).row(0);
        input = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        written.push_back(input);
        if (input == Vocab::eos) break;
    }
    return written;
}

}  // namespace stepgrad::exercises
