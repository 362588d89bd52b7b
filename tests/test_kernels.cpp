// The loops under the ops (src/kernels.hpp): tanh and σ a register at a time against
// libm, and the matrix products against the textbook triple loop, at every shape class
// the kernels treat differently (full tiles, leftover rows and columns, batch of 1);
// each check runs once per instruction set this CPU supports.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <limits>
#include <vector>

#include "kernels/kernels.hpp"
#include "stepgrad/random.hpp"

namespace kernels = stepgrad::kernels;

namespace {

// |a − b| in units in the last place of b
double ulps_apart(double a, double b) {
    if (a == b) return 0;
    const double b_abs = std::fabs(b);
    return std::fabs(a - b) / (std::nextafter(b_abs, std::numeric_limits<double>::infinity()) - b_abs);
}

// x from −40 to 40 in steps of 1e-3, plus ±10^−300 … ±1 geometrically: every branch of
// the range reduction, and the small arguments where e^{2x} − 1 cancels.
std::vector<double> sweep() {
    std::vector<double> x;
    for (int i = -40000; i <= 40000; ++i) x.push_back(i * 1e-3);
    for (double v = 1e-300; v < 1; v *= 1.05) x.insert(x.end(), {v, -v});
    return x;
}

std::vector<double> apply(void (*kernel)(const double*, double*, std::size_t), const std::vector<double>& x) {
    std::vector<double> y(x.size());
    kernel(x.data(), y.data(), x.size());
    return y;
}

std::vector<double> random_matrix(int rows, int cols, std::uint64_t seed) {
    stepgrad::Rng rng(seed);
    std::vector<double> m(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
    for (double& v : m) v = rng.uniform(-1.0, 1.0);
    return m;
}

// C += A·B by the definition, A(i, p) and B(p, j) read through accessors.
template <class GetA, class GetB>
void reference_product(int r, int k, int c, GetA A, GetB B, std::vector<double>& C) {
    for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) {
            double total = 0;
            for (int p = 0; p < k; ++p) total += A(i, p) * B(p, j);
            C[static_cast<std::size_t>(i) * c + j] += total;
        }
}

// Runs check once with each instruction set's kernels, then restores the default.
template <class Check>
void for_each_variant(Check check) {
    for (std::string_view name : kernels::supported_variants()) {
        INFO("kernels: ", std::string(name));
        kernels::use(name);
        check();
    }
    kernels::use(kernels::supported_variants().back());
}

void check_close(const std::vector<double>& actual, const std::vector<double>& expected) {
    REQUIRE(actual.size() == expected.size());
    double worst = 0;
    for (std::size_t i = 0; i < actual.size(); ++i) worst = std::max(worst, std::fabs(actual[i] - expected[i]));
    CHECK(worst <= 1e-13);
}

}  // namespace

TEST_CASE("tanh kernel: within 3 ulp of std::tanh from −40 to 40") {
    for_each_variant([&] {
        const std::vector<double> x = sweep(), y = apply(kernels::tanh, x);
        double worst = 0, worst_x = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double error = ulps_apart(y[i], std::tanh(x[i]));
            if (error > worst) worst = error, worst_x = x[i];
        }
        INFO("worst ", worst, " ulp at x = ", worst_x);
        CHECK(worst <= 3);
    });
}

TEST_CASE("σ kernel: within 2 ulp of 1 / (1 + e^−x) in long double from −40 to 40") {
    for_each_variant([&] {
        const std::vector<double> x = sweep(), y = apply(kernels::sigmoid, x);
        double worst = 0, worst_x = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const long double exact = 1.0L / (1.0L + std::exp(-static_cast<long double>(x[i])));
            const double error = ulps_apart(y[i], static_cast<double>(exact));
            if (error > worst) worst = error, worst_x = x[i];
        }
        INFO("worst ", worst, " ulp at x = ", worst_x);
        CHECK(worst <= 2);
    });
}

TEST_CASE("tanh and σ kernels: NaN stays NaN, infinities and huge inputs saturate exactly") {
    for_each_variant([&] {
        constexpr double inf = std::numeric_limits<double>::infinity();
        const std::vector<double> x = {std::nan(""), inf, -inf, 1000, -1000, 800, -800, 0.0, -0.0};
        const std::vector<double> t = apply(kernels::tanh, x), s = apply(kernels::sigmoid, x);
        CHECK(std::isnan(t[0]));
        CHECK(std::isnan(s[0]));
        CHECK(t[1] == 1.0);
        CHECK(t[2] == -1.0);
        CHECK(t[3] == 1.0);
        CHECK(t[4] == -1.0);
        CHECK(s[1] == 1.0);
        CHECK(s[2] == 0.0);
        CHECK(s[5] == 1.0);
        CHECK(s[6] == 0.0);
        CHECK(t[7] == 0.0);
        CHECK(std::signbit(t[8]));  // tanh(−0) = −0, as libm gives
        CHECK(s[7] == 0.5);
        CHECK(s[8] == 0.5);
    });
}

TEST_CASE("tanh kernel: an entry's result does not depend on where it sits in the array") {
    for_each_variant([&] {
        // The tail that does not fill a register goes through a padded one: same arithmetic,
        // so a batch of B rows gives each row exactly what the row alone would get.
        const std::vector<double> x = random_matrix(1, 37, 5), whole = apply(kernels::tanh, x);
        for (std::size_t n = 1; n <= x.size(); ++n) {
            std::vector<double> part(n);
            kernels::tanh(x.data() + x.size() - n, part.data(), n);
            for (std::size_t i = 0; i < n; ++i) REQUIRE(part[i] == whole[x.size() - n + i]);
        }
    });
}

TEST_CASE("gemm kernels: equal the triple loop at every shape class, and count their flops") {
    for_each_variant([&] {
        // rows that fill the tall bands (8, 6 or 4 rows), then bands of 4 and 1; columns that
        // leave a pair of registers, one register (6, 12, 40 for 2, 4, 8 lanes) and a few entries
        for (int r : {1, 3, 4, 5, 9, 13, 32})
            for (int k : {1, 7, 32})
                for (int c : {1, 5, 6, 12, 16, 17, 40}) {
                    INFO("r = ", r, ", k = ", k, ", c = ", c);
                    const std::vector<double> A = random_matrix(r, k, 1), B = random_matrix(k, c, 2);
                    const std::vector<double> Bt = random_matrix(c, k, 3);
                    const std::vector<double> start = random_matrix(r, c, 6);  // the kernels add to C
                    const std::vector<double> start_tn = random_matrix(k, c, 7);
                    auto at = [](const std::vector<double>& m, int cols) {
                        return [&m, cols](int i, int j) { return m[static_cast<std::size_t>(i) * cols + j]; };
                    };

                    std::vector<double> C = start, expected = start;
                    const double flops_before = kernels::gemm_flops();
                    kernels::gemm_nn(A.data(), B.data(), C.data(), r, k, c);
                    CHECK(kernels::gemm_flops() - flops_before == 2.0 * r * k * c);
                    reference_product(r, k, c, at(A, k), at(B, c), expected);
                    check_close(C, expected);

                    C = start, expected = start;
                    kernels::gemm_nt(A.data(), Bt.data(), C.data(), r, k, c);
                    reference_product(r, k, c, at(A, k), [&](int p, int j) { return at(Bt, k)(j, p); }, expected);
                    check_close(C, expected);

                    // C (k, c) += Aᵀ · B' with A (r, k), B' (r, c)
                    const std::vector<double> B_rows = random_matrix(r, c, 8);
                    C = start_tn, expected = start_tn;
                    kernels::gemm_tn(A.data(), B_rows.data(), C.data(), r, k, c);
                    reference_product(k, r, c, [&](int p, int i) { return at(A, k)(i, p); }, at(B_rows, c), expected);
                    check_close(C, expected);
                }
    });
}

TEST_CASE("kernels: the best instruction set is the default, and an unknown one is refused by name") {
    const auto supported = kernels::supported_variants();
    REQUIRE_FALSE(supported.empty());
    CHECK(supported.front() == "baseline");
    CHECK(kernels::variant() == supported.back());
    CHECK_THROWS_WITH_AS(kernels::use("sse9"), doctest::Contains("kernels 'sse9' are not available here (this CPU runs: baseline"),
                         std::invalid_argument);
    CHECK(kernels::variant() == supported.back());
}

TEST_CASE("peak_gflops: the register-only multiply-add probe gives a finite positive rate") {
    // what stepgrad-bench divides by; its size depends on the machine, so only its sanity is tested
    const double peak = kernels::peak_gflops();
    CHECK(std::isfinite(peak));
    CHECK(peak > 0);
}
