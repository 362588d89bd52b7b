// reverse: "abcd" → "dcba". The ideal α is the anti-diagonal: y_j looks at x_{m+1−j}.
#include <algorithm>

#include "symbols.hpp"

namespace stepgrad {

namespace {

class ReverseTask final : public SymbolTask {
public:
    std::string_view name() const override { return "reverse"; }
    std::string_view description() const override {
        return "random symbols a, b, c, … → the same symbols reversed (\"abcd\" → \"dcba\"): attention "
               "runs along the anti-diagonal";
    }

private:
    void rearrange(std::vector<int>& symbols) const override { std::reverse(symbols.begin(), symbols.end()); }
};

}  // namespace

const Task& reverse_task() {
    static const ReverseTask task;
    return task;
}

}  // namespace stepgrad
