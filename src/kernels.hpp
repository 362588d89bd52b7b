#pragma once
// The loops that decide stepgrad's speed, kept apart from the ops (src/ops.cpp) that
// say what is computed and what its gradient is. Internal: not a public header.
//
// Every kernel takes raw row-major arrays. None allocates except gemm_nt's scratch,
// which is reused across calls.
#include <cstddef>

namespace stepgrad::kernels {

// Σ a_i b_i
double dot(const double* a, const double* b, int n);
// y += factor · x
void axpy(double factor, const double* x, double* y, int n);

// C (r, c) += A (r, k) · B (k, c)
void gemm_nn(const double* A, const double* B, double* C, int r, int k, int c);
// C (k, c) += A (r, k)ᵀ · B (r, c)
void gemm_tn(const double* A, const double* B, double* C, int r, int k, int c);
// C (r, c) += A (r, k) · B (c, k)ᵀ
void gemm_nt(const double* A, const double* B, double* C, int r, int k, int c);

// y_i = tanh(x_i) and y_i = σ(x_i) = 1 / (1 + e^−x_i), a SIMD register at a time.
// Within 2 ulp of the correctly rounded result (tests/test_kernels.cpp measures it
// against std::tanh and std::exp); NaN stays NaN, ±∞ give ±1 and 0 / 1.
void tanh(const double* x, double* y, std::size_t n);
void sigmoid(const double* x, double* y, std::size_t n);

// Multiply-adds done by the three gemm kernels on this thread since it started
// (2·r·k·c each): stepgrad-bench turns them into GFLOP/s.
double gemm_flops();

}  // namespace stepgrad::kernels
