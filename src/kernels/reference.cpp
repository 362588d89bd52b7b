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

// σ(x) = 1 / (1 + e^−x), as e^x / (1 + e^x) for x < 0 so that e^… ≤ 1 never overflows
double sigmoid_of(double x) {
    if (x < 0) {
        const double e = std::exp(x);
        return e / (1 + e);
    }
    return 1 / (1 + std::exp(-x));
}

// y_i = σ(x_i)
void sigmoid(const double* x, double* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = sigmoid_of(x[i]);
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

// y_b = Σ_i w_bi blocks_bi: from 0, a block at a time (an axpy each)
void weighted_sum_of_blocks(const double* weights, const double* blocks, int examples, int count, int K, double* y) {
    for (int b = 0; b < examples; ++b) {
        double* y_b = y + at(b, 0, K);
        for (int k = 0; k < K; ++k) y_b[k] = 0;
        for (int i = 0; i < count; ++i) axpy(weights[at(b, i, count)], blocks + at(b, i * K, count * K), y_b, K);
    }
}

// dweights_bi += blocks_bi · dy_b;  dblocks_bi += w_bi dy_b
void weighted_sum_of_blocks_backward(const double* weights, const double* blocks, const double* dy, int examples, int count,
                                     int K, double* dweights, double* dblocks) {
    for (int b = 0; b < examples; ++b)
        for (int i = 0; i < count; ++i) {
            const std::size_t block = at(b, i * K, count * K);
            dweights[at(b, i, count)] += dot(blocks + block, dy + at(b, 0, K), K);
            axpy(weights[at(b, i, count)], dy + at(b, 0, K), dblocks + block, K);
        }
}

// A gradient's entry i: the old entry plus `gradient`, or (Store::overwrite) 0 plus it; nothing
// when the input needs no gradient
void put(const GradientTarget& target, std::size_t i, double gradient) {
    if (target.data) put(target.data[i], gradient, target.store);
}

// One GRU step, entry (b, j) of each gate; x_k, h_k: gate k's column H·k + j of from_x and from_h.
// Row b's gate-k block entry in `gates` (six (B, H) blocks: r_pre, r, z_pre, z, n_pre, n).
double& gate_entry(const GruRows& g, int block, int b, int j) {
    return g.gates[static_cast<std::size_t>(block) * at(g.batch, 0, g.hidden) + at(b, j, g.hidden)];
}

// r = σ(x_r + h_r);  z = σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n);  h' = (1 − z) ⊙ n + z ⊙ h, as n + z ⊙ (h − n)
void gru_update(const GruRows& g, double* h_new) {
    const int H = g.hidden;
    for (int b = 0; b < g.batch; ++b)
        for (int j = 0; j < H; ++j) {
            const double *x = g.from_x + at(b, j, 3 * H), *h = g.from_h + at(b, j, 3 * H);
            const double r_pre = x[0] + h[0], r = sigmoid_of(r_pre);
            const double z_pre = x[H] + h[H], z = sigmoid_of(z_pre);
            const double n_pre = x[2 * H] + r * h[2 * H], n = std::tanh(n_pre);
            const double values[6] = {r_pre, r, z_pre, z, n_pre, n};
            for (int block = 0; block < 6; ++block) gate_entry(g, block, b, j) = values[block];
            h_new[at(b, j, H)] = n + z * (g.h[at(b, j, H)] - n);
        }
}

// The backward of gru_update, with the roundings of its composite from add, mul, sub, σ and
// tanh (tests/test_cells.cpp): each "0.0 +" is a composite's first gradient written as 0 + value.
//   ∂h'/∂z = h − n,  ∂h'/∂h = z,  ∂h'/∂n = 1 − z;  tanh' = 1 − n²;  σ' = σ (1 − σ)
//   ∂n_pre/∂r = h_n,  ∂n_pre/∂h_n = r
void gru_update_backward(const GruRows& g, const double* dh_new, GradientTarget dfrom_x, GradientTarget dfrom_h,
                         GradientTarget dh) {
    const int H = g.hidden;
    for (int b = 0; b < g.batch; ++b)
        for (int j = 0; j < H; ++j) {
            const std::size_t i = at(b, j, H), r_at = at(b, j, 3 * H), z_at = r_at + H, n_at = r_at + 2 * H;
            const double r = gate_entry(g, 1, b, j), z = gate_entry(g, 3, b, j), n = gate_entry(g, 5, b, j);
            const double d_sum = 0.0 + dh_new[i];
            const double dz = 0.0 + (g.h[i] - n) * d_sum;
            const double d_difference = 0.0 + z * d_sum;
            put(dh, i, d_difference);
            const double dn = (0.0 + dh_new[i]) - (0.0 + d_difference);
            const double dn_pre = 0.0 + (1 - n * n) * dn;
            const double dr = 0.0 + g.from_h[n_at] * (0.0 + dn_pre);
            const double dh_n = 0.0 + r * (0.0 + dn_pre);
            const double dz_pre = 0.0 + z * (1 - z) * dz;
            const double dr_pre = 0.0 + r * (1 - r) * dr;
            put(dfrom_x, r_at, dr_pre);
            put(dfrom_x, z_at, dz_pre);
            put(dfrom_x, n_at, 0.0 + dn_pre);
            put(dfrom_h, r_at, dr_pre);
            put(dfrom_h, z_at, dz_pre);
            put(dfrom_h, n_at, dh_n);
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
                                                   weighted_sum_of_blocks, weighted_sum_of_blocks_backward,
                                                   gru_update, gru_update_backward, multiply_add_loop, chains};

}  // namespace stepgrad::kernels
