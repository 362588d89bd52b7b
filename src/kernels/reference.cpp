// The kernels as plain loops: the version to read. Each function is the formula above
// it, one entry at a time, with no tiling, registers or bit tricks. src/kernels/simd.cpp
// computes the same things fast, and tests/test_kernels.cpp holds every instruction set
// to this table. Never the default: `stepgrad-bench --kernels reference` runs it.
#include <cmath>
#include <cstddef>

#include "kernel_table.hpp"

namespace stepgrad::kernels {

namespace {

// entry (row, col) of a row-major matrix with `cols` columns
std::size_t at(int row, int col, int cols) {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(col);
}

// Σ_i a_i b_i
double dot(const double* a, const double* b, int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += a[i] * b[i];
    return total;
}

// y_i += factor · x_i
void axpy(double factor, const double* x, double* y, int n) {
    for (int i = 0; i < n; ++i) y[i] += factor * x[i];
}

// C's entry plus a product's sum, or (Store::overwrite) 0 plus it: the same rounding as
// zeroing C first, and C's old entry is never read
void put(double& entry, double total, Store store) { entry = (store == Store::add ? entry : 0.0) + total; }

// C (r, c) += A (r, k) · B (k, c):  C_ij += Σ_p A_ip B_pj
void gemm_nn(const double* A, const double* B, double* C, int r, int k, int c, Store store) {
    for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) {
            double total = 0;
            for (int p = 0; p < k; ++p) total += A[at(i, p, k)] * B[at(p, j, c)];
            put(C[at(i, j, c)], total, store);
        }
}

// C (k, c) += A (r, k)ᵀ · B (r, c):  C_pj += Σ_i A_ip B_ij
void gemm_tn(const double* A, const double* B, double* C, int r, int k, int c, Store store) {
    for (int p = 0; p < k; ++p)
        for (int j = 0; j < c; ++j) {
            double total = 0;
            for (int i = 0; i < r; ++i) total += A[at(i, p, k)] * B[at(i, j, c)];
            put(C[at(p, j, c)], total, store);
        }
}

// C (r, c) += A (r, k) · B (c, k)ᵀ:  C_ij += Σ_p A_ip B_jp  (reads Bᵀ in place: no scratch)
void gemm_nt(const double* A, const double* B, double* C, int r, int k, int c, Store store, double* /*scratch*/) {
    for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) {
            double total = 0;
            for (int p = 0; p < k; ++p) total += A[at(i, p, k)] * B[at(j, p, k)];
            put(C[at(i, j, c)], total, store);
        }
}

// the plain loop reads B in place: Bᵀ is not needed
void gemm_nt_given(const double* A, const double* B, const double* /*Bt*/, double* C, int r, int k, int c, Store store,
                   double* scratch) {
    gemm_nt(A, B, C, r, k, c, store, scratch);
}

// y_i = tanh(x_i)
void tanh(const double* x, double* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

// y_i = σ(x_i) = 1 / (1 + e^−x_i), as e^x_i / (1 + e^x_i) for x_i < 0 so that e^… ≤ 1 never overflows
void sigmoid(const double* x, double* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (x[i] < 0) {
            const double e = std::exp(x[i]);
            y[i] = e / (1 + e);
        } else {
            y[i] = 1 / (1 + std::exp(-x[i]));
        }
    }
}

// y_i = e^x_i
void exp(const double* x, double* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

// t_ia = 1 − 2 / (1 + E_ia Q_a) = tanh(k_ia + q_a) for E = e^{2k}, Q = e^{2q}
void tanh_from_exponentials(const double* E, const double* Q, int count, int A, double* t) {
    for (int i = 0; i < count; ++i)
        for (int a = 0; a < A; ++a) t[at(i, a, A)] = 1 - 2 / (1 + E[at(i, a, A)] * Q[a]);
}

// m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  θ ← θ − lr · m̂ / (√v̂ + ε)
void adam(const AdamStep& s, double* value, double* m, double* v, const double* grad, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const double g = grad[i];
        m[i] = s.beta1 * m[i] + (1 - s.beta1) * g;
        v[i] = s.beta2 * v[i] + (1 - s.beta2) * g * g;
        value[i] -= s.lr * (m[i] / s.correction1) / (std::sqrt(v[i] / s.correction2) + s.epsilon);
    }
}

// Σ_j value(j) for j < n in four interleaved partial sums added as (s0 + s1) + (s2 + s3):
// the order every row sum of the Transformer's ops uses (src/ops.cpp's sum_of), so that
// the instruction sets can sum four numbers a register at a time and give the same bits.
template <class Value>
double four_way_sum(int n, Value value) {
    double s[4] = {0, 0, 0, 0};
    for (int j = 0; j < n; ++j) s[j < n - n % 4 ? j % 4 : 0] += value(j);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

double inverse_std(const LayerNormRows& n, int row) { return 1 / std::sqrt(n.variance[row] + n.epsilon); }
// x̂_rj = (x_rj − μ_r) / √(σ²_r + ε)
double normalized(const LayerNormRows& n, int row, int j, double inverse) {
    return (n.x[at(row, j, n.d)] - n.mean[row]) * inverse;
}

// y_rj = x̂_rj γ_j + β_j
void layer_norm(const LayerNormRows& n, const double* beta, double* y) {
    for (int r = 0; r < n.rows; ++r) {
        const double inverse = inverse_std(n, r);
        for (int j = 0; j < n.d; ++j) y[at(r, j, n.d)] = normalized(n, r, j, inverse) * n.gamma[j] + beta[j];
    }
}

// g_j = dy_j γ_j;  dx_j = (1/√(σ² + ε)) (g_j − mean(g) − x̂_j mean(g ⊙ x̂));  dγ_j += dy_j x̂_j;  dβ_j += dy_j
void layer_norm_backward(const LayerNormRows& n, const double* dy, double* dx, Store dx_store, double* dgamma, double* dbeta) {
    const int d = n.d;
    for (int r = 0; r < n.rows; ++r) {
        const double inverse = inverse_std(n, r);
        const double* dy_r = dy + at(r, 0, d);
        for (int j = 0; j < d; ++j) {
            if (dbeta) dbeta[j] += dy_r[j];
            if (dgamma) dgamma[j] += dy_r[j] * normalized(n, r, j, inverse);
        }
        if (!dx) continue;
        const double g_mean = four_way_sum(d, [&](int j) { return dy_r[j] * n.gamma[j]; }) / d;
        const double g_xhat_mean =
            four_way_sum(d, [&](int j) { return dy_r[j] * n.gamma[j] * normalized(n, r, j, inverse); }) / d;
        for (int j = 0; j < d; ++j) {
            const double share = inverse * (dy_r[j] * n.gamma[j] - g_mean - normalized(n, r, j, inverse) * g_xhat_mean);
            double& entry = dx[at(r, j, d)];
            entry = (dx_store == Store::add ? entry : 0.0) + share;
        }
    }
}

// d_ik = g_i v_k (1 − t_ik²);  dkeys_ik += d_ik;  dquery_k += d_ik;  dv_k += g_i t_ik
void additive_scores_backward(const double* t, const double* v, const double* g, int count, int A, double* dkeys,
                              double* dquery, double* dv) {
    for (int i = 0; i < count; ++i)
        for (int k = 0; k < A; ++k) {
            const double t_ik = t[at(i, k, A)];
            const double d = g[i] * v[k] * (1 - t_ik * t_ik);
            dkeys[at(i, k, A)] += d;
            dquery[k] += d;
            dv[k] += g[i] * t_ik;
        }
}

// The peak probe one double at a time: `iterations` rounds of a_c ← a_c · ½ + 1 for
// c = 0 … chains−1 (independent, so they can overlap; a_c tends to 2, never overflows).
constexpr int chains = 12;

double multiply_add_loop(long iterations) {
    double a[chains];
    for (int c = 0; c < chains; ++c) a[c] = c;
    for (long round = 0; round < iterations; ++round)
        for (int c = 0; c < chains; ++c) a[c] = a[c] * 0.5 + 1.0;
    double sum = 0;
    for (int c = 0; c < chains; ++c) sum += a[c];
    return sum;
}

}  // namespace

// one double per "register": lanes = 1
extern const KernelTable kernel_table_reference = {"reference", 1, dot, axpy, gemm_nn, gemm_tn, gemm_nt, gemm_nt_given,
                                                   tanh, sigmoid, exp, tanh_from_exponentials, adam, layer_norm,
                                                   layer_norm_backward, additive_scores_backward,
                                                   multiply_add_loop, chains};

}  // namespace stepgrad::kernels
