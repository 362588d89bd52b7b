// reverse: "abcd" → "dcba". The ideal α is the anti-diagonal: y_j looks at x_{m+1−j}.
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
    // y_j ↔ x_{m+1−j}
    Alignment align(std::span<const int> symbols) const override {
        const int m = static_cast<int>(symbols.size());
        Alignment out;
        for (int j = 0; j < m; ++j) out.push_back({m - 1 - j});
        return out;
    }
};

}  // namespace

const Task& reverse_task() {
    static const ReverseTask task;
    return task;
}

}  // namespace stepgrad
