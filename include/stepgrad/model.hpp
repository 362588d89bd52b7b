#pragma once
// What training, evaluation and beam search ask of a model. The recurrent seq2seq models
// (seq2seq.hpp) and the Transformer (transformer.hpp) are both a Model, so one training
// loop (train.hpp), one evaluate() and one beam search (decode.hpp) serve them all.
//
//   loss       mean over the non-pad target tokens of −log softmax(logits_j)[y_j]
//   decoding   start from the source, then step by step: given y_{j−1} of every row,
//              log p(· | y_<j, x) for that row; beam search keeps, drops or copies rows
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "stepgrad/data.hpp"
#include "stepgrad/tensor.hpp"

namespace stepgrad {

// Where a step-by-step decoder is: one row per prefix being written. Each model keeps what
// it needs (the RNN its s_{j−1} and the encoder's keys; the Transformer the prefixes and
// its memory).
class DecoderState {
public:
    virtual ~DecoderState() = default;
};

class Model {
public:
    virtual ~Model() = default;

    // Every parameter, in the order of the model's SPEC names.
    virtual std::vector<Parameter*> parameters() = 0;
    std::size_t parameter_count();

    // The loss of a pass over the batch, teacher forced (feed_gold empty), or with scheduled
    // sampling (SPEC §13): where feed_gold[b·n + j] is 0, step j + 1 reads the model's own
    // argmax instead of y_j. A model that cannot sample throws std::invalid_argument.
    virtual Tensor loss(const Batch& batch, std::span<const std::uint8_t> feed_gold = {}) = 0;

    // The model's own argmax fed back; per example the ids up to and including <eos> (or
    // max_length ids). Reads only the source side of the batch.
    virtual std::vector<std::vector<int>> greedy_decode(const Batch& batch, int max_length) = 0;

    // ---- step by step, for beam search ----
    // One row per example of the batch, before y_1 (only the source side is read).
    virtual std::unique_ptr<DecoderState> start_decoding(const Batch& batch) = 0;
    // log softmax(logits_j) of every row, (rows, V), given y_{j−1} of each row (<bos> at
    // j = 1); the state moves on to j.
    virtual Tensor next_log_probs(DecoderState& state, std::span<const int> inputs) = 0;
    // Row r of the new state continues row rows[r] of the old one: a row may be copied,
    // dropped or kept; the count may change.
    virtual void select_rows(DecoderState& state, std::span<const int> rows) = 0;
};

inline std::size_t Model::parameter_count() {
    std::size_t total = 0;
    for (Parameter* p : parameters()) total += p->size();
    return total;
}

}  // namespace stepgrad
