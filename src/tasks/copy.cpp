// copy: "abcd" → "abcd". The ideal α is the diagonal: y_j looks at x_j.
#include "symbols.hpp"

namespace stepgrad {

namespace {

class CopyTask final : public SymbolTask {
public:
    std::string_view name() const override { return "copy"; }
    std::string_view description() const override {
        return "random symbols → the same symbols (\"abcd\" → \"abcd\"): attention runs along the "
               "diagonal";
    }

private:
    // y_j ↔ x_j
    Alignment align(std::span<const int> symbols) const override {
        Alignment out;
        for (int j = 0; j < static_cast<int>(symbols.size()); ++j) out.push_back({j});
        return out;
    }
};

}  // namespace

const Task& copy_task() {
    static const CopyTask task;
    return task;
}

}  // namespace stepgrad
