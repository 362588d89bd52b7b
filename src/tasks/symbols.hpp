#pragma once
// reverse, copy and sort: random symbols a, b, c, … and a rearrangement of them. Each of
// the three tasks is this class with its own align(), which says where each target
// symbol comes from.
#include <span>
#include <string>
#include <vector>

#include "stepgrad/tasks.hpp"

namespace stepgrad {

class SymbolTask : public Task {
public:
    Vocab src_vocab(const TaskConfig& config) const override;
    Vocab tgt_vocab(const TaskConfig& config) const override;
    // Σ_{L=min}^{max} symbols^L
    double source_count(const TaskConfig& config) const override;
    Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const override;
    Example answer(std::span<const int> src, const Vocab& src_vocab, const Vocab& tgt_vocab) const override;

protected:
    // The gold alignment of the target (without <eos>): for each y_j, the 0-based source
    // positions holding its symbol that produced it. y_j is the symbol found there (the
    // same ids in both vocabularies).
    virtual Alignment align(std::span<const int> symbols) const = 0;

private:
    Example example(std::vector<int> symbols) const;
};

}  // namespace stepgrad
