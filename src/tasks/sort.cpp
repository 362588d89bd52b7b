// sort: "dbca" → "abcd". Each step's α hunts for the next smallest symbol.
#include <algorithm>

#include "symbols.hpp"

namespace stepgrad {

namespace {

class SortTask final : public SymbolTask {
public:
    std::string_view name() const override { return "sort"; }
    std::string_view description() const override {
        return "random symbols → the symbols sorted (\"dbca\" → \"abcd\"): each step looks for the next "
               "smallest symbol";
    }

private:
    // ids follow the alphabet, so sorting ids sorts the symbols. Equal symbols are
    // interchangeable: y_j aligns to every position holding its symbol.
    Alignment align(std::span<const int> symbols) const override {
        std::vector<int> sorted(symbols.begin(), symbols.end());
        std::sort(sorted.begin(), sorted.end());
        Alignment out;
        for (const int symbol : sorted) {
            std::vector<int> positions;
            for (int i = 0; i < static_cast<int>(symbols.size()); ++i)
                if (symbols[static_cast<std::size_t>(i)] == symbol) positions.push_back(i);
            out.push_back(std::move(positions));
        }
        return out;
    }
};

}  // namespace

const Task& sort_task() {
    static const SortTask task;
    return task;
}

}  // namespace stepgrad
