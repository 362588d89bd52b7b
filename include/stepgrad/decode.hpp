#pragma once
// Beam search (SPEC §13), for lesson 09 and evaluate(). Greedy decoding keeps one prefix,
// the argmax at each step (Seq2Seq::greedy_decode); beam search keeps K:
//
//   log p(y_1 … y_n) = Σ_j log softmax(logits_j)[y_j]
//   step j    extend each live prefix by every token; keep the K extensions of highest
//             log p (ties: the earlier prefix, then the lower id — greedy's argmax); a kept
//             one ending in <eos> is finished and leaves the beam, the rest stay live
//   stop      when K are finished, none is live, or after max_length tokens
//   rank      finished ones, and the live ones the length limit cut off, by
//             score = log p / lp(n),  lp(n) = ((5 + n) / 6)^a     (GNMT, Wu et al. 2016)
//             n counts the tokens written, <eos> included; a = 0 gives lp = 1: plain log p
//
// K = 1 is exactly greedy_decode. The source is encoded once; each beam step runs the live
// prefixes as the rows of one decoder step (Model::next_log_probs) and ranks their K·V
// extensions without copying them: only the K kept become hypotheses, unless the tree is
// asked for.
#include <limits>
#include <span>
#include <vector>

#include "stepgrad/model.hpp"

namespace stepgrad {

// lp(n) = ((5 + n) / 6)^a
double length_penalty(int n, double a);

struct BeamHypothesis {
    std::vector<int> ids;   // y_1 … y_j
    int parent = -1;        // index of the prefix it extends in the previous step's `kept`, −1 at j = 1
    double log_prob = 0;    // Σ log p
    double score = 0;       // log_prob / lp(j)
    bool kept = false;      // among the K best of its step (else pruned)
    bool finished = false;  // ends with <eos>
};

struct BeamStep {
    // the best extensions considered, best log p first: the K kept ones and as many pruned
    // ones as `record` asked for
    std::vector<BeamHypothesis> candidates;
    std::vector<int> kept;                   // indices into candidates of the live ones carried on
};

struct BeamResult {
    std::vector<int> ids;                 // the best hypothesis: ends with <eos> unless cut off
    double log_prob = 0;
    double score = 0;
    std::vector<BeamStep> steps;          // j = 1 … the last step run, when `record` > 0
    std::vector<BeamHypothesis> ranked;   // finished (and cut-off) hypotheses, best score first
};

// `source`: x_1 … x_m as an Example's src holds them (<eos> included). `record`: how many
// candidates of each step to keep in result.steps, the tree lesson 09 draws (at least the
// K kept); 0 records no steps, which is what evaluation needs and costs least.
inline constexpr int record_every_candidate = std::numeric_limits<int>::max();
BeamResult beam_search(Model& model, std::span<const int> source, int beam_width, int max_length,
                       double length_penalty = 0, int record = 0);

}  // namespace stepgrad
