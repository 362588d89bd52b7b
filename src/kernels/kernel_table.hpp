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

// Where a backward writes one input's gradient: added to `data`, or in place of its old
// numbers (Store::overwrite: the first gradient to reach it, so no zeroing pass first); a
// null `data` when the input needs no gradient.
struct GradientTarget {
    double* data;
    Store store;
};

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

// One GRU step's elementwise part for `batch` rows of `hidden` units (SPEC §3; the formulas are
// above src/kernels/reference.cpp's gru_update). from_x = W_i* x + b_i* and from_h = W_h* h + b_h*
// are (batch, 3H) with the gates stacked r, z, n; h is (batch, H); gates holds six (batch, H)
// blocks r_pre, r, z_pre, z, n_pre, n: the forward writes them, the backward reads them.
struct GruRows {
    const double* from_x;
    const double* from_h;
    const double* h;
    double* gates;
    int batch, hidden;
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
    // attention's context: y_b = Σ_i w_bi blocks_bi for `examples` rows of `count` weights and
    // blocks of K; its backward: dweights_bi += blocks_bi · dy_b, dblocks_bi += w_bi dy_b (i in order)
    void (*weighted_sum_of_blocks)(const double* weights, const double* blocks, int examples, int count, int K, double* y);
    void (*weighted_sum_of_blocks_backward)(const double* weights, const double* blocks, const double* dy, int examples,
                                            int count, int K, double* dweights, double* dblocks);
    // the GRU update h' and its gates; its backward into d from_x, d from_h and d h
    void (*gru_update)(const GruRows& rows, double* h_new);
    void (*gru_update_backward)(const GruRows& rows, const double* dh_new, GradientTarget dfrom_x, GradientTarget dfrom_h,
                                GradientTarget dh);
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
