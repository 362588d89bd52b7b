#pragma once
// The kernels one instruction set provides: src/kernels/simd.cpp is compiled once per
// instruction set (see CMakeLists.txt), each copy defining one KernelTable, and
// src/kernels/dispatch.cpp calls through the best table the CPU supports.
// src/kernels/reference.cpp fills the same table with plain loops: the one to read.
//
// Only plain types here: a header shared by code compiled with different instruction
// sets must not make the linker choose between inline functions built for AVX-512 and
// for baseline x86-64.
#include <cstddef>

namespace stepgrad::kernels {

// What a matrix product does with C: adds A·B to it, or replaces it (then C's old entries
// are never read: a gradient written for the first time needs no zeroing pass before it).
// Either way each entry is 0 + Σ or C + Σ exactly as the plain loop rounds it.
enum class Store { add, overwrite };

// gemm_nt transposes a B of fewer entries whole (512 KB); a larger one a panel at a time
constexpr std::size_t large_transpose = 64 * 1024;

// The numbers of one Adam step (include/stepgrad/optim.hpp has the formulas).
struct AdamStep {
    double beta1, beta2, epsilon;
    double correction1, correction2;  // 1 − β₁ᵗ and 1 − β₂ᵗ
    double lr;
};

// The rows a layer norm works on (include/stepgrad/ops.hpp has the formulas): x (rows, d),
// γ (d), and each row's μ and σ² (row_mean and row_variance, computed before).
struct LayerNormRows {
    const double* x;
    const double* gamma;
    const double* mean;
    const double* variance;
    double epsilon;
    int rows, d;
};

struct KernelTable {
    const char* name;  // "reference", "baseline", "avx2", "avx512"
    int lanes;         // doubles per SIMD register (1 for the reference loops)
    double (*dot)(const double* a, const double* b, int n);
    void (*axpy)(double factor, const double* x, double* y, int n);
    // C (r, c) += A (r, k) · B (k, c)   (or =, with Store::overwrite)
    void (*gemm_nn)(const double* A, const double* B, double* C, int r, int k, int c, Store store);
    // C (k, c) += A (r, k)ᵀ · B (r, c)
    void (*gemm_tn)(const double* A, const double* B, double* C, int r, int k, int c, Store store);
    // C (r, c) += A (r, k) · B (c, k)ᵀ; scratch holds k·c + r·64 doubles
    void (*gemm_nt)(const double* A, const double* B, double* C, int r, int k, int c, Store store, double* scratch);
    // The same with Bᵀ (k, c) given: gemm_nt's sums, without its transpose where it would make one
    void (*gemm_nt_given)(const double* A, const double* B, const double* Bt, double* C, int r, int k, int c, Store store,
                          double* scratch);
    void (*tanh)(const double* x, double* y, std::size_t n);
    void (*sigmoid)(const double* x, double* y, std::size_t n);
    void (*exp)(const double* x, double* y, std::size_t n);
    // t_ia = 1 − 2 / (1 + E_ia · Q_a) for `count` rows of A: tanh(k + q) from E = e^{2k}, Q = e^{2q}
    void (*tanh_from_exponentials)(const double* E, const double* Q, int count, int A, double* t);
    // Adam's update of n parameters with their moments, each rounding as the plain loop's
    void (*adam)(const AdamStep& step, double* value, double* m, double* v, const double* grad, std::size_t n);
    // y = x̂ ⊙ γ + β, x̂ = (x − μ) / √(σ² + ε), row by row
    void (*layer_norm)(const LayerNormRows& rows, const double* beta, double* y);
    // dγ += Σ_rows dy ⊙ x̂, dβ += Σ_rows dy, dx (+)= (1/√(σ² + ε)) (g − mean(g) − x̂ mean(g ⊙ x̂)), g = dy ⊙ γ;
    // any of dx, dγ, dβ may be null (not wanted)
    void (*layer_norm_backward)(const LayerNormRows& rows, const double* dy, double* dx, Store dx_store, double* dgamma,
                                double* dbeta);
    // concat attention's backward for `count` keys of one example, t_i = tanh(keys_i + query):
    // d_i = g_i · v ⊙ (1 − t_i ⊙ t_i);  dkeys_i += d_i;  dquery += d_i;  dv += g_i t_i   (i in order)
    void (*additive_scores_backward)(const double* t, const double* v, const double* g, int count, int A, double* dkeys,
                                     double* dquery, double* dv);
    // `iterations` rounds of independent multiply-adds on registers only (the fp64 limit
    // of one core with this instruction set); returns a number that depends on them all.
    double (*multiply_add_loop)(long iterations);
    int multiply_add_chains;  // multiply-adds per round, each `lanes` wide
};

extern const KernelTable kernel_table_reference;  // plain loops: the oracle of the tests
extern const KernelTable kernel_table_baseline;
#if defined(STEPGRAD_KERNELS_X86)
extern const KernelTable kernel_table_avx2;    // AVX2 + FMA: 4 doubles per register
extern const KernelTable kernel_table_avx512;  // AVX-512F + FMA: 8 doubles per register
#endif

}  // namespace stepgrad::kernels
