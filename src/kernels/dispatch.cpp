// Which kernels run behind the functions of kernels.hpp that the ops call: the best
// instruction set this CPU has, chosen once at start-up, or one named by use(). The
// loops live elsewhere: src/kernels/reference.cpp (plain, to read), src/kernels/simd.cpp.
#include "kernels.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kernel_table.hpp"

namespace stepgrad::kernels {

namespace {

// The plain loops first (any CPU runs them; never the default), then the SIMD sets, best last.
std::vector<const KernelTable*> supported_tables() {
    std::vector<const KernelTable*> tables{&kernel_table_reference, &kernel_table_baseline};
#if defined(STEPGRAD_KERNELS_X86)
    __builtin_cpu_init();  // the CPU's and the OS's support for AVX registers
    const bool fma = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
    if (fma) tables.push_back(&kernel_table_avx2);
    if (fma && __builtin_cpu_supports("avx512f")) tables.push_back(&kernel_table_avx512);
#endif
    return tables;
}

// The best set, unless the environment names another one this CPU runs
// (STEPGRAD_KERNELS=reference|baseline|avx2|avx512: to compare outputs across sets; an
// unknown or unsupported name is ignored, and variant() says what runs).
const KernelTable* initial_table() {
    const std::vector<const KernelTable*> tables = supported_tables();
    if (const char* wanted = std::getenv("STEPGRAD_KERNELS"))
        for (const KernelTable* table : tables)
            if (std::string_view(wanted) == table->name) return table;
    return tables.back();
}

const KernelTable*& active() {
    static const KernelTable* table = initial_table();
    return table;
}

thread_local double flops = 0;

}  // namespace

double dot(const double* a, const double* b, int n) { return active()->dot(a, b, n); }
void axpy(double factor, const double* x, double* y, int n) { active()->axpy(factor, x, y, n); }

void gemm_nn(const double* A, const double* B, double* C, int r, int k, int c, Store store) {
    flops += 2.0 * r * k * c;
    active()->gemm_nn(A, B, C, r, k, c, store);
}

void gemm_tn(const double* A, const double* B, double* C, int r, int k, int c, Store store) {
    flops += 2.0 * r * k * c;
    active()->gemm_tn(A, B, C, r, k, c, store);
}

namespace {
// Bᵀ (or a panel of it and its sums), reused: no allocation per product. It only grows:
// shrunk by the attention's small products and regrown by the next linear layer's, it was
// zero-filled again each time.
double* gemm_nt_scratch(int r, int k, int c) {
    thread_local std::vector<double> scratch;
    const std::size_t needed = static_cast<std::size_t>(k) * static_cast<std::size_t>(c) + static_cast<std::size_t>(r) * 64;
    if (scratch.size() < needed) scratch.resize(needed);
    return scratch.data();
}
}  // namespace

void gemm_nt(const double* A, const double* B, double* C, int r, int k, int c, Store store) {
    flops += 2.0 * r * k * c;
    active()->gemm_nt(A, B, C, r, k, c, store, gemm_nt_scratch(r, k, c));
}

void gemm_nt_given(const double* A, const double* B, const double* Bt, double* C, int r, int k, int c, Store store) {
    flops += 2.0 * r * k * c;
    active()->gemm_nt_given(A, B, Bt, C, r, k, c, store, gemm_nt_scratch(r, k, c));
}

void tanh(const double* x, double* y, std::size_t n) { active()->tanh(x, y, n); }
void sigmoid(const double* x, double* y, std::size_t n) { active()->sigmoid(x, y, n); }
void exp(const double* x, double* y, std::size_t n) { active()->exp(x, y, n); }
void tanh_from_exponentials(const double* E, const double* Q, int count, int A, double* t) {
    active()->tanh_from_exponentials(E, Q, count, A, t);
}
void adam(const AdamStep& step, double* value, double* m, double* v, const double* grad, std::size_t n) {
    active()->adam(step, value, m, v, grad, n);
}

void layer_norm(const LayerNormRows& rows, const double* beta, double* y) { active()->layer_norm(rows, beta, y); }
void layer_norm_backward(const LayerNormRows& rows, const double* dy, double* dx, Store dx_store, double* dgamma,
                         double* dbeta) {
    active()->layer_norm_backward(rows, dy, dx, dx_store, dgamma, dbeta);
}

void additive_scores_backward(const double* t, const double* v, const double* g, int count, int A, double* dkeys,
                              double* dquery, double* dv) {
    active()->additive_scores_backward(t, v, g, count, A, dkeys, dquery, dv);
}

void weighted_sum_of_blocks(const double* weights, const double* blocks, int examples, int count, int K, double* y) {
    active()->weighted_sum_of_blocks(weights, blocks, examples, count, K, y);
}
void weighted_sum_of_blocks_backward(const double* weights, const double* blocks, const double* dy, int examples, int count,
                                     int K, double* dweights, double* dblocks) {
    active()->weighted_sum_of_blocks_backward(weights, blocks, dy, examples, count, K, dweights, dblocks);
}

void gru_update(const GruRows& rows, double* h_new) { active()->gru_update(rows, h_new); }
void gru_update_backward(const GruRows& rows, const double* dh_new, GradientTarget dfrom_x, GradientTarget dfrom_h,
                         GradientTarget dh) {
    active()->gru_update_backward(rows, dh_new, dfrom_x, dfrom_h, dh);
}

double gemm_flops() { return flops; }

double peak_gflops() {
    const KernelTable& table = *active();
    const long iterations = 20'000'000;
    double best = 0, sink = 0;
    for (int run = 0; run < 3; ++run) {
        const auto start = std::chrono::steady_clock::now();
        sink += table.multiply_add_loop(iterations);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, 2.0 * iterations * table.multiply_add_chains * table.lanes / seconds / 1e9);
    }
    if (sink != sink) throw std::logic_error("peak_gflops: the probe computed NaN");  // keeps the loop
    return best;
}

const char* variant() { return active()->name; }

std::vector<std::string_view> supported_variants() {
    std::vector<std::string_view> names;
    for (const KernelTable* table : supported_tables()) names.emplace_back(table->name);
    return names;
}

void use(std::string_view name) {
    for (const KernelTable* table : supported_tables())
        if (name == table->name) {
            active() = table;
            return;
        }
    throw std::invalid_argument(fmt::format("kernels '{}' are not available here (this CPU runs: {})", name,
                                            fmt::join(supported_variants(), ", ")));
}

}  // namespace stepgrad::kernels
