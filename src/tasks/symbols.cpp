#include "symbols.hpp"

#include <cmath>

namespace stepgrad {

namespace {

std::vector<std::string> symbol_tokens(int symbols) {
    std::vector<std::string> tokens;
    for (int i = 0; i < symbols; ++i) tokens.emplace_back(1, static_cast<char>('a' + i));
    return tokens;
}

}  // namespace

Vocab SymbolTask::src_vocab(const TaskConfig& config) const {
    return Vocab(config.name + " source", Vocab::Level::character, symbol_tokens(config.symbols));
}

Vocab SymbolTask::tgt_vocab(const TaskConfig& config) const {
    return Vocab(config.name + " target", Vocab::Level::character, symbol_tokens(config.symbols));
}

double SymbolTask::source_count(const TaskConfig& config) const {
    double total = 0;  // saturates: only "more than the held-out set" matters
    for (int length = config.min_len; length <= config.max_len && total < 1e18; ++length)
        total += std::pow(static_cast<double>(config.symbols), length);
    return total;
}

Example SymbolTask::sample(Rng& rng, const TaskConfig& config, const Vocab&, const Vocab&) const {
    const int length = rng.between(config.min_len, config.max_len);
    std::vector<int> symbols;
    for (int i = 0; i < length; ++i) symbols.push_back(Vocab::first_regular + static_cast<int>(rng.below(config.symbols)));
    return example(std::move(symbols));
}

Example SymbolTask::answer(std::span<const int> src, const Vocab&, const Vocab&) const {
    return example(std::vector<int>(src.begin(), src.end()));
}

Example SymbolTask::example(std::vector<int> symbols) const {
    Example e;
    e.alignment = align(symbols);
    for (const std::vector<int>& positions : e.alignment)
        e.tgt.push_back(symbols[static_cast<std::size_t>(positions.front())]);
    e.alignment.push_back({static_cast<int>(symbols.size())});  // <eos> ↔ <eos>
    e.src = std::move(symbols);
    e.src.push_back(Vocab::eos);
    e.tgt.push_back(Vocab::eos);
    return e;
}

}  // namespace stepgrad
