#pragma once
// reverse, copy and sort: random symbols a, b, c, … and a rearrangement of them. Each of
// the three tasks is this class with its own rearrange().
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
    std::vector<int> target(std::span<const int> src, const Vocab& src_vocab, const Vocab& tgt_vocab) const override;

protected:
    // The target's symbols from the source's (the same ids in both vocabularies).
    virtual void rearrange(std::vector<int>& symbols) const = 0;
};

}  // namespace stepgrad
