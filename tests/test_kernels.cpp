// The loops under the ops (src/kernels/kernels.hpp), each SIMD instruction set this CPU
// supports held to the plain loops of src/kernels/reference.cpp: tanh and σ within a few
// ulp, the special values bit for bit, dot, axpy and the matrix products at every shape
// class the SIMD kernels treat differently (full tiles, leftover rows and columns, batch
// of 1).
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <limits>
#include <tuple>
#include <vector>

#include "kernels/kernel_table.hpp"  // kernel_table_reference: the plain loops, the oracle
#include "kernels/kernels.hpp"
#include "stepgrad/random.hpp"

namespace kernels = stepgrad::kernels;

namespace {

// the plain loops of src/kernels/reference.cpp, called directly: the oracle
const kernels::KernelTable& reference = kernels::kernel_table_reference;

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

// Runs check once with each SIMD instruction set's kernels (not the reference loops: they
// are the oracle), then restores the default.
template <class Check>
void for_each_simd_set(Check check) {
    for (std::string_view name : kernels::supported_variants()) {
        if (name == "reference") continue;
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

// a and b are the same double, the sign of a zero included, or both NaN
bool same(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
}

}  // namespace

TEST_CASE("tanh kernel: within 3 ulp of the reference (std::tanh) from −40 to 40") {
    const std::vector<double> x = sweep(), expected = apply(reference.tanh, x);
    for_each_simd_set([&] {
        const std::vector<double> y = apply(kernels::tanh, x);
        double worst = 0, worst_x = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double error = ulps_apart(y[i], expected[i]);
            if (error > worst) worst = error, worst_x = x[i];
        }
        INFO("worst ", worst, " ulp at x = ", worst_x);
        CHECK(worst <= 3);
    });
}

// The reference σ is itself up to 2 ulp off (libm's e^x, then a rounded 1 + e^x), so σ is
// measured against the exact value, and the reference is held to the same bound.
TEST_CASE("σ kernel and its reference: within 2 ulp of 1 / (1 + e^−x) in long double from −40 to 40") {
    const std::vector<double> x = sweep();
    auto worst_error = [&](const std::vector<double>& y) {
        double worst = 0, worst_x = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const long double exact = 1.0L / (1.0L + std::exp(-static_cast<long double>(x[i])));
            const double error = ulps_apart(y[i], static_cast<double>(exact));
            if (error > worst) worst = error, worst_x = x[i];
        }
        INFO("worst ", worst, " ulp at x = ", worst_x);
        CHECK(worst <= 2);
    };
    SUBCASE("reference") { worst_error(apply(reference.sigmoid, x)); }
    SUBCASE("SIMD") { for_each_simd_set([&] { worst_error(apply(kernels::sigmoid, x)); }); }
}

TEST_CASE("tanh and σ kernels: NaN stays NaN, infinities and huge inputs saturate exactly") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> x = {std::nan(""), inf, -inf, 1000, -1000, 800, -800, 0.0, -0.0};
    // what the reference gives, and so every SIMD set (below)
    const std::vector<double> t = apply(reference.tanh, x), s = apply(reference.sigmoid, x);
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
    for_each_simd_set([&] {
        const std::vector<double> simd_t = apply(kernels::tanh, x), simd_s = apply(kernels::sigmoid, x);
        for (std::size_t i = 0; i < x.size(); ++i) {
            INFO("x = ", x[i]);
            CHECK(same(simd_t[i], t[i]));
            CHECK(same(simd_s[i], s[i]));
        }
    });
}

TEST_CASE("tanh kernel: an entry's result does not depend on where it sits in the array") {
    for_each_simd_set([&] {
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

TEST_CASE("dot and axpy kernels: equal the reference loops for every length around a register's width") {
    for_each_simd_set([&] {
        for (int n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100}) {
            INFO("n = ", n);
            const std::vector<double> a = random_matrix(1, n, 9), b = random_matrix(1, n, 10);
            CHECK(std::fabs(kernels::dot(a.data(), b.data(), n) - reference.dot(a.data(), b.data(), n)) <= 1e-13);

            std::vector<double> y = b, expected = b;  // the kernels add to y
            kernels::axpy(0.75, a.data(), y.data(), n);
            reference.axpy(0.75, a.data(), expected.data(), n);
            check_close(y, expected);
        }
    });
}

TEST_CASE("gemm kernels: equal the reference triple loop at every shape class, and count their flops") {
    for_each_simd_set([&] {
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

                    std::vector<double> C = start, expected = start;
                    const double flops_before = kernels::gemm_flops();
                    kernels::gemm_nn(A.data(), B.data(), C.data(), r, k, c);
                    CHECK(kernels::gemm_flops() - flops_before == 2.0 * r * k * c);
                    reference.gemm_nn(A.data(), B.data(), expected.data(), r, k, c, kernels::Store::add);
                    check_close(C, expected);

                    C = start, expected = start;
                    kernels::gemm_nt(A.data(), Bt.data(), C.data(), r, k, c);
                    reference.gemm_nt(A.data(), Bt.data(), expected.data(), r, k, c, kernels::Store::add, nullptr);  // no scratch needed
                    check_close(C, expected);

                    // C (k, c) += Aᵀ · B' with A (r, k), B' (r, c)
                    const std::vector<double> B_rows = random_matrix(r, c, 8);
                    C = start_tn, expected = start_tn;
                    kernels::gemm_tn(A.data(), B_rows.data(), C.data(), r, k, c);
                    reference.gemm_tn(A.data(), B_rows.data(), expected.data(), r, k, c, kernels::Store::add);
                    check_close(C, expected);
                }
    });
}

TEST_CASE("kernels: the best instruction set is the default, the reference loops are chosen by name, and an unknown one is refused by name") {
    const auto supported = kernels::supported_variants();
    REQUIRE(supported.size() >= 2);
    CHECK(supported[0] == "reference");
    CHECK(supported[1] == "baseline");
    CHECK(kernels::variant() == supported.back());
    CHECK_THROWS_WITH_AS(kernels::use("sse9"),
                         doctest::Contains("kernels 'sse9' are not available here (this CPU runs: reference, baseline"),
                         std::invalid_argument);
    CHECK(kernels::variant() == supported.back());

    kernels::use("reference");  // what `stepgrad-bench --kernels reference` does
    CHECK(std::string_view(kernels::variant()) == "reference");
    const std::vector<double> x = {-1.5, 0.25, 3.0};
    CHECK(apply(kernels::tanh, x) == apply(reference.tanh, x));
    kernels::use(supported.back());
    CHECK(kernels::variant() == supported.back());
}

TEST_CASE("peak_gflops: the register-only multiply-add probe gives a finite positive rate") {
    // what stepgrad-bench divides by; its size depends on the machine, so only its sanity is tested
    const double peak = kernels::peak_gflops();
    CHECK(std::isfinite(peak));
    CHECK(peak > 0);
}

// ---- issue 18: e^x for softmax, and the matrix products of attention's small heads ----

namespace {
// x from −746 to 710 (past both ends of the doubles e^x reaches) in steps of 1/64 plus a
// fine sweep around 0, where e^x − 1 is small: every range reduction and the subnormals.
std::vector<double> exp_sweep() {
    std::vector<double> x;
    for (int i = -746 * 64; i <= 710 * 64; ++i) x.push_back(i / 64.0);
    for (int i = -20000; i <= 20000; ++i) x.push_back(i * 1e-5);
    return x;
}
}  // namespace

TEST_CASE("exp kernel: within 1 ulp of the reference (std::exp) from −746 to 710, subnormals included") {
    const std::vector<double> x = exp_sweep(), expected = apply(reference.exp, x);
    for_each_simd_set([&] {
        const std::vector<double> y = apply(kernels::exp, x);
        double worst = 0, worst_x = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            // below e^−708 the results are subnormal: count their ulp in units of the smallest one
            const double error = std::isinf(expected[i]) ? (std::isinf(y[i]) ? 0.0 : 99.0)
                                 : expected[i] < std::numeric_limits<double>::min()
                                     ? std::fabs(y[i] - expected[i]) / std::numeric_limits<double>::denorm_min()
                                     : ulps_apart(y[i], expected[i]);
            if (error > worst) worst = error, worst_x = x[i];
        }
        INFO("worst ", worst, " ulp at x = ", worst_x);
        CHECK(worst <= 1);
    });
}

TEST_CASE("exp kernel: −∞ gives 0 (a masked score), +∞ and overflow give +∞, NaN stays NaN, e^0 = 1") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> x = {-inf, inf, std::nan(""), 0.0, -0.0, 710, 1000, -746, -1000};
    const std::vector<double> expected = apply(reference.exp, x);
    for_each_simd_set([&] {
        const std::vector<double> y = apply(kernels::exp, x);
        for (std::size_t i = 0; i < x.size(); ++i) {
            INFO("x = ", x[i]);
            CHECK(same(y[i], expected[i]));
        }
        CHECK(y[0] == 0.0);
        CHECK(y[3] == 1.0);
    });
}

TEST_CASE("exp kernel: an entry's result does not depend on where it sits in the array") {
    for_each_simd_set([&] {
        const std::vector<double> x = random_matrix(1, 37, 11), whole = apply(kernels::exp, x);
        for (std::size_t n = 1; n <= x.size(); ++n) {
            std::vector<double> part(n);
            kernels::exp(x.data() + x.size() - n, part.data(), n);
            for (std::size_t i = 0; i < n; ++i) REQUIRE(part[i] == whole[x.size() - n + i]);
        }
    });
}

TEST_CASE("gemm kernels: attention's shapes (columns that leave a padded register) equal the reference loops") {
    for_each_simd_set([&] {
        // c = 13 keys and d_k = 16 of issue 18's heads, tails of every width, a k too long for
        // the padded strip (the per-entry path), and a single column
        for (int r : {1, 5, 13, 300})
            for (int k : {1, 13, 16, 300})
                for (int c : {1, 2, 3, 7, 9, 13, 15, 19}) {
                    INFO("r = ", r, ", k = ", k, ", c = ", c);
                    const std::vector<double> A = random_matrix(r, k, 21), B = random_matrix(k, c, 22);
                    const std::vector<double> Bt = random_matrix(c, k, 23), B_rows = random_matrix(r, c, 24);
                    std::vector<double> C = random_matrix(r, c, 25), expected = C;
                    kernels::gemm_nn(A.data(), B.data(), C.data(), r, k, c);
                    reference.gemm_nn(A.data(), B.data(), expected.data(), r, k, c, kernels::Store::add);
                    check_close(C, expected);
                    C = expected = random_matrix(r, c, 26);
                    kernels::gemm_nt(A.data(), Bt.data(), C.data(), r, k, c);
                    reference.gemm_nt(A.data(), Bt.data(), expected.data(), r, k, c, kernels::Store::add, nullptr);
                    check_close(C, expected);
                    C = expected = random_matrix(k, c, 27);
                    kernels::gemm_tn(A.data(), B_rows.data(), C.data(), r, k, c);
                    reference.gemm_tn(A.data(), B_rows.data(), expected.data(), r, k, c, kernels::Store::add);
                    check_close(C, expected);
                }
    });
}

TEST_CASE("gemm kernels: Store::overwrite never reads C and gives the bits of adding to zeros, on every set") {
    // C starts as NaN: one entry read would poison the result. Every shape class of the
    // kernels (tall bands, leftover rows, padded tails, the per-entry tail past a long k,
    // the dot products of a batch of 1), and the plain loops too.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto check = [&](const char* name, auto gemm_nn, auto gemm_nt, auto gemm_tn) {
        for (int r : {1, 3, 5, 13, 32})
            for (int k : {1, 16, 300})
                for (int c : {1, 5, 13, 16, 17}) {
                    INFO("r = ", r, ", k = ", k, ", c = ", c, ", kernels ", name);
                    const std::vector<double> A = random_matrix(r, k, 31), B = random_matrix(k, c, 32);
                    const std::vector<double> Bt = random_matrix(c, k, 33), B_rows = random_matrix(r, c, 34);
                    std::vector<double> written(static_cast<std::size_t>(r) * c, nan), added(written.size(), 0.0);
                    gemm_nn(A.data(), B.data(), written.data(), r, k, c, kernels::Store::overwrite);
                    gemm_nn(A.data(), B.data(), added.data(), r, k, c, kernels::Store::add);
                    CHECK(written == added);
                    std::fill(written.begin(), written.end(), nan), std::fill(added.begin(), added.end(), 0.0);
                    gemm_nt(A.data(), Bt.data(), written.data(), r, k, c, kernels::Store::overwrite);
                    gemm_nt(A.data(), Bt.data(), added.data(), r, k, c, kernels::Store::add);
                    CHECK(written == added);
                    written.assign(static_cast<std::size_t>(k) * c, nan), added.assign(written.size(), 0.0);
                    gemm_tn(A.data(), B_rows.data(), written.data(), r, k, c, kernels::Store::overwrite);
                    gemm_tn(A.data(), B_rows.data(), added.data(), r, k, c, kernels::Store::add);
                    CHECK(written == added);
                }
    };
    auto reference_nt = [](const double* A, const double* B, double* C, int r, int k, int c, kernels::Store store) {
        reference.gemm_nt(A, B, C, r, k, c, store, nullptr);  // the plain loop needs no scratch
    };
    check("reference", reference.gemm_nn, reference_nt, reference.gemm_tn);
    for_each_simd_set([&] { check(kernels::variant(), kernels::gemm_nn, kernels::gemm_nt, kernels::gemm_tn); });
}

TEST_CASE("gemm_nt kernel: a B too large to transpose at once (a panel at a time) equals the reference loops") {
    // B of 64K entries and more goes through the panels: columns that fill blocks and leave a
    // few, a single column block, adding to C and overwriting it (C starts as NaN then)
    for_each_simd_set([&] {
        for (const std::tuple<int, int, int>& shape : {std::tuple{32, 512, 200}, {5, 300, 250}, {40, 2000, 33}, {7, 1100, 61}}) {
            const int r = std::get<0>(shape), k = std::get<1>(shape), c = std::get<2>(shape);
            INFO("r = ", r, ", k = ", k, ", c = ", c);
            const std::vector<double> A = random_matrix(r, k, 51), Bt = random_matrix(c, k, 52);
            std::vector<double> C = random_matrix(r, c, 53), expected = C;
            kernels::gemm_nt(A.data(), Bt.data(), C.data(), r, k, c);
            reference.gemm_nt(A.data(), Bt.data(), expected.data(), r, k, c, kernels::Store::add, nullptr);
            check_close(C, expected);
            std::vector<double> written(C.size(), std::numeric_limits<double>::quiet_NaN()), zeros(C.size(), 0.0);
            kernels::gemm_nt(A.data(), Bt.data(), written.data(), r, k, c, kernels::Store::overwrite);
            kernels::gemm_nt(A.data(), Bt.data(), zeros.data(), r, k, c, kernels::Store::add);
            CHECK(written == zeros);
        }
    });
}

TEST_CASE("gemm_nt_given: gemm_nt's bits with Bᵀ given, adding and overwriting, on every path and set") {
    for_each_simd_set([&] {
        for (const std::tuple<int, int, int>& shape :
             {std::tuple{1, 7, 5}, {3, 16, 13}, {13, 64, 64}, {32, 64, 192}, {12, 16, 13}, {9, 300, 11}, {32, 512, 200}}) {
            const int r = std::get<0>(shape), k = std::get<1>(shape), c = std::get<2>(shape);
            INFO("r = ", r, ", k = ", k, ", c = ", c, ", kernels ", kernels::variant());
            const std::vector<double> A = random_matrix(r, k, 71), B = random_matrix(c, k, 72);
            std::vector<double> Bt(B.size());
            for (int j = 0; j < c; ++j)
                for (int p = 0; p < k; ++p) Bt[static_cast<std::size_t>(p) * c + j] = B[static_cast<std::size_t>(j) * k + p];
            for (kernels::Store store : {kernels::Store::add, kernels::Store::overwrite}) {
                std::vector<double> expected = random_matrix(r, c, 73), actual = expected;
                kernels::gemm_nt(A.data(), B.data(), expected.data(), r, k, c, store);
                kernels::gemm_nt_given(A.data(), B.data(), Bt.data(), actual.data(), r, k, c, store);
                CHECK(actual == expected);
            }
        }
    });
}

TEST_CASE("adam kernel: the very bits of the plain loop on every instruction set, at every length around a register's width") {
    // Moments of every size (g from 1e-8 to 1e2, some zero) and the step numbers of a run's
    // start and end; bit equality, not closeness: a training run must not depend on the set.
    const kernels::AdamStep first{0.9, 0.999, 1e-8, 1 - 0.9, 1 - 0.999, 1e-3};
    const kernels::AdamStep late{0.9, 0.999, 1e-8, 1 - std::pow(0.9, 5000), 1 - std::pow(0.999, 5000), 3e-4};
    for_each_simd_set([&] {
        for (const kernels::AdamStep& step : {first, late})
            for (int n : {1, 2, 3, 7, 8, 9, 17, 100}) {
                INFO("n = ", n, ", kernels ", kernels::variant());
                std::vector<double> grad = random_matrix(1, n, 11), value = random_matrix(1, n, 12);
                std::vector<double> m = random_matrix(1, n, 13), v = random_matrix(1, n, 14);
                for (int i = 0; i < n; ++i) {
                    grad[i] *= std::pow(10.0, i % 11 - 8);
                    v[i] = v[i] * v[i];
                    if (i % 5 == 4) grad[i] = 0;
                }
                std::vector<double> value_ref = value, m_ref = m, v_ref = v;
                kernels::adam(step, value.data(), m.data(), v.data(), grad.data(), n);
                reference.adam(step, value_ref.data(), m_ref.data(), v_ref.data(), grad.data(), n);
                for (int i = 0; i < n; ++i) {
                    CHECK(value[i] == value_ref[i]);
                    CHECK(m[i] == m_ref[i]);
                    CHECK(v[i] == v_ref[i]);
                }
                CHECK(value != random_matrix(1, n, 12));  // the step moved the parameters
            }
    });
}

TEST_CASE("layer norm kernels: the very bits of the plain loops on every instruction set, at every width around four") {
    // Row sums run in four interleaved partial sums on every set; a width that is not a multiple
    // of four puts its last numbers into the first partial sum, as src/ops.cpp's sum_of does.
    for_each_simd_set([&] {
        for (int d : {1, 2, 3, 4, 5, 7, 8, 9, 16, 18, 64}) {
            INFO("d = ", d);
            const int rows = 3;
            const std::vector<double> x = random_matrix(rows, d, 21), gamma = random_matrix(1, d, 22);
            const std::vector<double> beta = random_matrix(1, d, 23), dy = random_matrix(rows, d, 24);
            std::vector<double> mean(rows), variance(rows);
            for (int r = 0; r < rows; ++r) {
                for (int j = 0; j < d; ++j) mean[r] += x[r * d + j] / d;
                for (int j = 0; j < d; ++j) variance[r] += (x[r * d + j] - mean[r]) * (x[r * d + j] - mean[r]) / d;
            }
            const kernels::LayerNormRows n{x.data(), gamma.data(), mean.data(), variance.data(), 1e-5, rows, d};
            std::vector<double> y(x.size()), y_ref(x.size());
            kernels::layer_norm(n, beta.data(), y.data());
            reference.layer_norm(n, beta.data(), y_ref.data());
            CHECK(y == y_ref);
            CHECK(y != x);
            for (kernels::Store store : {kernels::Store::add, kernels::Store::overwrite}) {
                std::vector<double> dx = random_matrix(rows, d, 25), dgamma = random_matrix(1, d, 26), dbeta = random_matrix(1, d, 27);
                std::vector<double> dx_ref = dx, dgamma_ref = dgamma, dbeta_ref = dbeta;
                kernels::layer_norm_backward(n, dy.data(), dx.data(), store, dgamma.data(), dbeta.data());
                reference.layer_norm_backward(n, dy.data(), dx_ref.data(), store, dgamma_ref.data(), dbeta_ref.data());
                CHECK(dx == dx_ref);
                CHECK(dgamma == dgamma_ref);
                CHECK(dbeta == dbeta_ref);
                if (d > 1) CHECK(dx != random_matrix(rows, d, 25));  // one column: x̂ = 0 whatever x, dx = 0
            }
            std::vector<double> dgamma(d, 0.0), dgamma_ref(d, 0.0);  // dx and dβ not wanted
            kernels::layer_norm_backward(n, dy.data(), nullptr, kernels::Store::add, dgamma.data(), nullptr);
            reference.layer_norm_backward(n, dy.data(), nullptr, kernels::Store::add, dgamma_ref.data(), nullptr);
            CHECK(dgamma == dgamma_ref);
        }
    });
}

TEST_CASE("concat attention's backward kernel: the very bits of the plain loop on every instruction set") {
    // A widths around a register's (the last A mod lanes one at a time), keys added in order
    for_each_simd_set([&] {
        for (int A : {1, 3, 4, 8, 9, 17, 64})
            for (int count : {1, 5}) {
                INFO("A = ", A, ", keys ", count);
                std::vector<double> t = random_matrix(count, A, 31);
                for (double& x : t) x = std::tanh(3 * x);
                const std::vector<double> v = random_matrix(1, A, 32), g = random_matrix(1, count, 33);
                std::vector<double> dkeys = random_matrix(count, A, 34), dquery = random_matrix(1, A, 35), dv = random_matrix(1, A, 36);
                std::vector<double> dkeys_ref = dkeys, dquery_ref = dquery, dv_ref = dv;
                kernels::additive_scores_backward(t.data(), v.data(), g.data(), count, A, dkeys.data(), dquery.data(), dv.data());
                reference.additive_scores_backward(t.data(), v.data(), g.data(), count, A, dkeys_ref.data(), dquery_ref.data(),
                                                   dv_ref.data());
                CHECK(dkeys == dkeys_ref);
                CHECK(dquery == dquery_ref);
                CHECK(dv == dv_ref);
                CHECK(dv != random_matrix(1, A, 36));
            }
    });
}

TEST_CASE("attention's context kernels: a set's dot and axpy block by block, bit for bit, and close to the plain loops") {
    // K around a register's width, with the last K mod lanes one at a time
    const auto check = [](const kernels::KernelTable& set) {
        for (int K : {1, 3, 8, 9, 17, 64})
            for (int count : {1, 5}) {
                INFO("K = ", K, ", blocks ", count);
                const int examples = 3;
                const std::vector<double> weights = random_matrix(examples, count, 51), blocks = random_matrix(examples, count * K, 52);
                const std::vector<double> dy = random_matrix(examples, K, 53);
                std::vector<double> y(static_cast<std::size_t>(examples) * K, 7.0), dweights = random_matrix(examples, count, 54);
                std::vector<double> dblocks = random_matrix(examples, count * K, 55);
                std::vector<double> y_calls(y.size()), dweights_calls = dweights, dblocks_calls = dblocks;
                // the same sums as the set's dot and axpy called once a block
                for (int b = 0; b < examples; ++b)
                    for (int i = 0; i < count; ++i) {
                        const std::size_t w = static_cast<std::size_t>(b) * count + i, block = w * K, row = static_cast<std::size_t>(b) * K;
                        set.axpy(weights[w], blocks.data() + block, y_calls.data() + row, K);
                        dweights_calls[w] += set.dot(blocks.data() + block, dy.data() + row, K);
                        set.axpy(weights[w], dy.data() + row, dblocks_calls.data() + block, K);
                    }
                set.weighted_sum_of_blocks(weights.data(), blocks.data(), examples, count, K, y.data());
                set.weighted_sum_of_blocks_backward(weights.data(), blocks.data(), dy.data(), examples, count, K, dweights.data(),
                                                    dblocks.data());
                CHECK(y == y_calls);
                CHECK(dweights == dweights_calls);
                CHECK(dblocks == dblocks_calls);
                CHECK(dweights != random_matrix(examples, count, 54));
                // and each set within rounding of the plain loops
                std::vector<double> y_ref(y.size()), dweights_ref = random_matrix(examples, count, 54);
                reference.weighted_sum_of_blocks(weights.data(), blocks.data(), examples, count, K, y_ref.data());
                reference.weighted_sum_of_blocks_backward(weights.data(), blocks.data(), dy.data(), examples, count, K,
                                                          dweights_ref.data(), random_matrix(examples, count * K, 55).data());
                check_close(y, y_ref);
                check_close(dweights, dweights_ref);
            }
    };
    SUBCASE("reference") { check(reference); }
    SUBCASE("SIMD") {
        for (std::string_view name : kernels::supported_variants())
            if (name != "reference") {
                INFO("kernels: ", std::string(name));
                kernels::use(name);
                kernels::KernelTable dispatched = reference;  // the four kernels checked, through the chosen set
                dispatched.dot = kernels::dot;
                dispatched.axpy = kernels::axpy;
                dispatched.weighted_sum_of_blocks = kernels::weighted_sum_of_blocks;
                dispatched.weighted_sum_of_blocks_backward = kernels::weighted_sum_of_blocks_backward;
                check(dispatched);
            }
        kernels::use(kernels::supported_variants().back());
    }
}

TEST_CASE("tanh from exponentials: the very bits of the plain loop on every set, within 1.5 ε of tanh(k + q)") {
    // t = 1 − 2 / (1 + e^{2k} e^{2q}): k and q from −350 to 350 (where the exponentials are
    // finite and normal) with sums that cancel, saturate and land near 0
    stepgrad::Rng rng(41);
    std::vector<double> k, q;
    for (const double scale : {1e-3, 1.0, 5.0, 30.0, 350.0})
        for (int i = 0; i < 20000; ++i) {
            const double a = rng.uniform(-scale, scale);
            k.push_back(a);
            q.push_back(i % 2 ? -a + rng.uniform(-1e-3, 1e-3) : rng.uniform(-scale, scale));
        }
    using Exp = void (*)(const double*, double*, std::size_t);
    using FromExponentials = void (*)(const double*, const double*, int, int, double*);
    // the largest |t − tanh(k + q)| with one set's exponentials and t, each pair a row of A = 1
    const auto worst_error = [&](Exp exp, FromExponentials tanh_from_exponentials) {
        std::vector<double> E(k.size()), Q(q.size());
        for (std::size_t i = 0; i < k.size(); ++i) E[i] = 2 * k[i], Q[i] = 2 * q[i];
        exp(E.data(), E.data(), E.size());
        exp(Q.data(), Q.data(), Q.size());
        double worst = 0;
        for (std::size_t i = 0; i < k.size(); ++i) {
            double t = 0;
            tanh_from_exponentials(&E[i], &Q[i], 1, 1, &t);
            worst = std::max(worst, static_cast<double>(std::fabs(t - std::tanh(static_cast<long double>(k[i]) + q[i]))));
        }
        return worst;
    };
    const double epsilon = std::numeric_limits<double>::epsilon();
    CHECK(worst_error(reference.exp, reference.tanh_from_exponentials) <= 1.5 * epsilon);
    for_each_simd_set([&] {
        CHECK(worst_error(kernels::exp, kernels::tanh_from_exponentials) <= 1.5 * epsilon);
        // 3 keys of A = 19 (two registers and a tail): each entry as the plain loop's
        std::vector<double> E = random_matrix(3, 19, 42), Q = random_matrix(1, 19, 43);
        for (double& x : E) x = std::exp(3 * x);
        for (double& x : Q) x = std::exp(3 * x);
        std::vector<double> t(E.size()), t_plain(E.size());
        kernels::tanh_from_exponentials(E.data(), Q.data(), 3, 19, t.data());
        reference.tanh_from_exponentials(E.data(), Q.data(), 3, 19, t_plain.data());
        CHECK(t == t_plain);
    });
}
