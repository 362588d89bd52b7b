#pragma once
// Exercise 08 — beam search instead of greedy decoding (extends lesson 07's decoding; compare
// Seq2Seq::greedy_decode in src/seq2seq.cpp, used since lesson 04).
//
// Greedy decoding keeps one hypothesis, the argmax at each step; beam search keeps the k best by
//   log P(y) = Σ_j log softmax(logits_j)[y_j].
// Start from <bos> and s_0 = encoded.final; at each step extend every live hypothesis by every
// token (model.decoder_step, model.output_logits), keep the k best extensions; one ending in <eos>
// is finished and leaves the beam. Stop after max_length tokens or when none is live, and return
// the best hypothesis by log P (finished ones, and at max_length the live ones; no length
// normalisation). With k = 1 this must be exactly greedy_decode.
//
// Your tests: ctest --test-dir build/learner -R "exercise 08"   (README, "Exercises")
#include <stdexcept>
#include <vector>

#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

// source: a batch of one example (make_batch of one Example; only its source is read).
// Returns the target ids, ending with <eos> unless max_length ids came first.
inline std::vector<int> beam_search([[maybe_unused]] Seq2Seq& model, [[maybe_unused]] const Batch& source,
                                    [[maybe_unused]] int beam_width, [[maybe_unused]] int max_length) {
    throw std::logic_error("exercise 08: write beam_search in tests/exercises/08_beam_search.hpp");
}

}  // namespace stepgrad::exercises
