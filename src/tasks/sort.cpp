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
    // ids follow the alphabet, so sorting ids sorts the symbols
    void rearrange(std::vector<int>& symbols) const override { std::sort(symbols.begin(), symbols.end()); }
};

}  // namespace

const Task& sort_task() {
    static const SortTask task;
    return task;
}

}  // namespace stepgrad
