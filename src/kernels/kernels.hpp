#pragma once
// The loops that decide stepgrad's speed, kept apart from the ops (src/ops.cpp) that
// say what is computed and what its gradient is. Internal: not a public header.
//
// Every kernel takes raw row-major arrays and exists once per instruction set
// (src/kernels/simd.cpp, compiled for baseline x86-64, AVX2 and AVX-512); the best set
// the CPU supports is chosen when the program starts, so the default build runs on any
// x86-64 and still uses the wide registers where they exist. Each one is also written as
// a plain loop in src/kernels/reference.cpp: read that one first.
#include <cstddef>
#include <string_view>
#include <vector>

#include "kernel_table.hpp"  // Store, GradientTarget, AdamStep, LayerNormRows, GruRows

namespace stepgrad::kernels {

// Σ a_i b_i
double dot(const double* a, const double* b, int n);
// y += factor · x
void axpy(double factor, const double* x, double* y, int n);

// C (r, c) += A (r, k) · B (k, c)   (C = A·B with Store::overwrite: C's entries are not read)
void gemm_nn(const double* A, const double* B, double* C, int r, int k, int c, Store store = Store::add);
// C (k, c) += A (r, k)ᵀ · B (r, c)
void gemm_tn(const double* A, const double* B, double* C, int r, int k, int c, Store store = Store::add);
// C (r, c) += A (r, k) · B (c, k)ᵀ
void gemm_nt(const double* A, const double* B, double* C, int r, int k, int c, Store store = Store::add);
// gemm_nt given Bt = Bᵀ (k, c) as well, for a B read many times (a recurrent cell's W_hh at
// every step): the same sums, bit for bit, without transposing B again where gemm_nt would
void gemm_nt_given(const double* A, const double* B, const double* Bt, double* C, int r, int k, int c,
                   Store store = Store::add);

// y_i = tanh(x_i) and y_i = σ(x_i) = 1 / (1 + e^−x_i), a SIMD register at a time:
// tanh within 3 ulp of std::tanh and σ within 2 ulp of the correctly rounded result
// (tests/test_kernels.cpp measures it); NaN stays NaN, ±∞ give ±1 and 0 / 1.
void tanh(const double* x, double* y, std::size_t n);
void sigmoid(const double* x, double* y, std::size_t n);
// y_i = e^x_i, a register at a time: within 1 ulp of std::exp, subnormal results included
// (tests/test_kernels.cpp); −∞ gives 0, +∞ and x > 709.78 give +∞, NaN stays NaN. softmax's
// exponentials: libm's exp, one number a call, was 40% of a masked softmax (issue 18).
void exp(const double* x, double* y, std::size_t n);
// t_ia = tanh(k_ia + q_a) = 1 − 2 / (1 + E_ia Q_a) from E = e^{2k} (count rows of A) and
// Q = e^{2q} (one row): a multiply and a division an entry where tanh takes an exponential.
// Only basic operations, each rounded once: the same bits on every instruction set. Within
// 1.5 ε of tanh(k + q) (absolute) for |k|, |q| ≤ 350, where E and Q are finite and normal.
void tanh_from_exponentials(const double* E, const double* Q, int count, int A, double* t);

// One Adam step over n parameters (θ, m, v updated in place from g; include/stepgrad/optim.hpp
// has the formulas), a register at a time with exactly the plain loop's roundings — no fused
// multiply-add — so every instruction set moves the parameters to the same bits. It was the
// largest cost of a Transformer step outside the products (issue 18): libm's sqrt is not
// vectorised when it may set errno.
void adam(const AdamStep& step, double* value, double* m, double* v, const double* grad, std::size_t n);

// A layer norm's rows, forward and backward (kernel_table.hpp has the formulas), with the
// plain loop's roundings on every set: each row's two sums in the four partial sums of
// src/ops.cpp's sum_of, four lanes at a time. One number at a time in the ops they were
// 5.5 % of a Transformer step (issue 18).
void layer_norm(const LayerNormRows& rows, const double* beta, double* y);
void layer_norm_backward(const LayerNormRows& rows, const double* dy, double* dx, Store dx_store, double* dgamma,
                         double* dbeta);

// Concat attention's backward for `count` keys of one example (kernel_table.hpp has the
// formulas), the keys in order so the sums into dquery and dv round as the plain loop's.
void additive_scores_backward(const double* t, const double* v, const double* g, int count, int A, double* dkeys,
                              double* dquery, double* dv);

// Attention's context c_b = Σ_i α_bi h_bi for `examples` rows (kernel_table.hpp has the
// formulas), and its backward: dot and axpy block by block, the same bits as calling them.
void weighted_sum_of_blocks(const double* weights, const double* blocks, int examples, int count, int K, double* y);
void weighted_sum_of_blocks_backward(const double* weights, const double* blocks, const double* dy, int examples, int count,
                                     int K, double* dweights, double* dblocks);

// A GRU step's gates and h' (kernel_table.hpp's GruRows has the layout), and its backward, with
// the roundings of the composite from add, mul, sub, σ and tanh: the same bits as that
// composite on every set. As ops of their own, outside this file, their loops ran two doubles
// at a time (the library is built for baseline x86-64): 12 % of a GRU + concat training step.
void gru_update(const GruRows& rows, double* h_new);
void gru_update_backward(const GruRows& rows, const double* dh_new, GradientTarget dfrom_x, GradientTarget dfrom_h,
                         GradientTarget dh);

// FLOPs (2·r·k·c per product) done by the three gemm kernels on this thread since it
// started: stepgrad-bench turns them into GFLOP/s.
double gemm_flops();
// The fp64 GFLOP/s one core reaches with the kernels' instruction set when nothing but
// multiply-adds on registers runs (best of 3 runs of ~0.1 s): the limit the benchmark's
// figures are measured against.
double peak_gflops();

// The kernels in use ("reference", "baseline", "avx2" or "avx512"), the ones this CPU
// can run — the plain loops first, then the instruction sets, best last (the default) —
// and a way to choose one (for tests and benchmarks; not while another thread is
// computing). use() throws std::invalid_argument naming the allowed ones.
const char* variant();
std::vector<std::string_view> supported_variants();
void use(std::string_view name);

}  // namespace stepgrad::kernels
