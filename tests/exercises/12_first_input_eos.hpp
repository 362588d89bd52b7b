#pragma once
// Exercise 12 — fix the bug: the decoder's first input (lesson 04; compare Seq2Seq::greedy_decode in
// src/seq2seq.cpp).
//
// Every target the model trained on was read as <bos>, y_1, …, y_{n−1} (Batch::tgt_in): the decoder's
// first input is always <bos>, "begin", and <eos> only ever appears as something to predict. The
// code below writes a sentence greedily, feeding each argmax back, and stops at <eos>. What is
// wrong: it starts the decoder from <eos> instead of <bos>, an input the trained model never saw in
// that place, so its first step is a guess. Fix that one line.
//
// Your tests: ctest --test-dir build/learner -R "exercise 12"   (README, "Exercises")
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
    int input = Vocab::eos;  // y_0, the decoder's first input
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
