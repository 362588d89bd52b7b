#include "stepgrad/gradcheck.hpp"

#include <algorithm>
#include <cmath>

namespace stepgrad {

double relative_error(double analytic, double numeric, double floor) {
    return std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), floor});
}

double GradcheckReport::max_relative_error() const {
    const GradcheckEntry* w = worst();
    return w ? w->relative_error : 0.0;
}

const GradcheckEntry* GradcheckReport::worst() const {
    const auto it = std::max_element(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.relative_error < b.relative_error;
    });
    return it == entries.end() ? nullptr : &*it;
}

namespace {
double evaluate(const std::function<Tensor()>& loss) {
    tape().reset();
    const Tensor value = loss();
    if (value.rows() != 1 || value.cols() != 1)
        throw ShapeError(fmt::format("gradcheck: the loss must be 1×1, got ({}, {})", value.rows(),
                                     value.cols()));
    return value.value(0);
}
}  // namespace

GradcheckReport gradcheck(const std::function<Tensor()>& loss, std::span<Parameter* const> parameters,
                          const GradcheckOptions& options) {
    for (Parameter* p : parameters) p->zero_grad();
    tape().reset();
    tape().backward(loss());

    GradcheckReport report;
    for (Parameter* p : parameters) {
        const std::size_t n = p->size();
        // ⌈n / max_entries⌉, so at most max_entries are checked
        const std::size_t stride = options.max_entries ? (n + options.max_entries - 1) / options.max_entries : 1;
        for (std::size_t i = 0; i < n; i += stride) {
            if (options.skip && options.skip(*p, i)) continue;
            const double saved = p->value[i];
            p->value[i] = saved + options.epsilon;
            const double plus = evaluate(loss);
            p->value[i] = saved - options.epsilon;
            const double minus = evaluate(loss);
            p->value[i] = saved;
            const double numeric = (plus - minus) / (2 * options.epsilon);
            report.entries.push_back({p->name(), i, static_cast<int>(i / p->cols()),
                                      static_cast<int>(i % p->cols()), p->grad[i], numeric,
                                      relative_error(p->grad[i], numeric, options.floor)});
        }
    }
    tape().reset();
    return report;
}

}  // namespace stepgrad
