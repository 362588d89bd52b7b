#pragma once
// Helpers shared by the test programs.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "stepgrad/gradcheck.hpp"
#include "stepgrad/ops.hpp"
#include "stepgrad/random.hpp"

// doctest prints a const char* as a pointer (its DOCTEST_CONFIG_TREAT_CHAR_STAR_AS_STRING does
// not compile in Debian's 2.4.9): INFO(cell_kind_name(kind)) said 0x5645043d60e7. As text here.
template <>
struct doctest::StringMaker<const char*> {
    static doctest::String convert(const char* text) { return text ? doctest::String(text) : doctest::String("(null)"); }
};

namespace stepgrad::testing {

// A parameter filled with uniform(lo, hi) values from a fixed seed.
inline std::unique_ptr<Parameter> random_parameter(const char* name, int rows, int cols,
                                                   std::uint64_t seed, double lo = -1.0,
                                                   double hi = 1.0) {
    auto p = std::make_unique<Parameter>(name, rows, cols);
    Rng rng(seed);
    for (double& v : p->value) v = rng.uniform(lo, hi);
    return p;
}

// Σ_i r_i y_i with fixed random r: every output entry gets its own upstream gradient,
// so a backward that mixes up entries cannot pass by symmetry.
inline Tensor weighted_sum(Tensor y, std::uint64_t seed = 99) {
    Rng rng(seed);
    std::vector<double> weights(y.size());
    for (double& w : weights) w = rng.uniform(-1.0, 1.0);
    return sum(mul(y, constant(y.rows(), y.cols(), weights)));
}

// Runs gradcheck and reports the worst entry in the learner's terms when it fails.
inline void require_gradients(const std::function<Tensor()>& loss, std::vector<Parameter*> params,
                              double tolerance, GradcheckOptions options = {}) {
    const GradcheckReport report = gradcheck(loss, params, options);
    REQUIRE_FALSE(report.entries.empty());
    const GradcheckEntry* worst = report.worst();
    INFO("worst entry: ", worst->parameter, "[", worst->row, ", ", worst->col, "] analytic ",
         worst->analytic, " numeric ", worst->numeric, " relative error ", worst->relative_error);
    CHECK(report.max_relative_error() <= tolerance);
}

}  // namespace stepgrad::testing

#include <cmath>
#include <string>

#include "stepgrad/support/json.hpp"

namespace stepgrad::testing {

// Compares two vectors entry by entry (llm.c's check_tensor): on failure it names the
// quantity, the first entries that differ and the largest difference.
inline void check_close(const std::vector<double>& actual, const std::vector<double>& expected,
                        const std::string& what, double tolerance = 1e-11) {
    INFO(what);
    REQUIRE(actual.size() == expected.size());
    double max_diff = 0;
    std::string first;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const double diff = std::abs(actual[i] - expected[i]) / std::max(1.0, std::abs(expected[i]));
        if (diff > tolerance && first.size() < 200)
            first += fmt::format(" [{}] {} vs {};", i, actual[i], expected[i]);
        max_diff = std::max(max_diff, diff);
    }
    INFO("max difference ", max_diff, first);
    CHECK(max_diff <= tolerance);
}

inline std::vector<double> numbers(const Json& array) {
    std::vector<double> out;
    for (const Json& x : array.as_array()) out.push_back(x.as_number());
    return out;
}

inline std::vector<int> ids(const Json& array) {
    std::vector<int> out;
    for (const Json& x : array.as_array()) out.push_back(x.as_int());
    return out;
}

inline std::string golden_path(const std::string& name) {
    return std::string(STEPGRAD_TEST_DATA) + "/golden/" + name + ".json";
}

}  // namespace stepgrad::testing
