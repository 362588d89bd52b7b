// The fast kernels, written once for a SIMD register of any width. The same math as plain
// loops, the version to read first: src/kernels/reference.cpp (tests/test_kernels.cpp
// holds this file to it).
//
// CMakeLists.txt compiles this file once per instruction set (baseline x86-64, AVX2,
// AVX-512), defining STEPGRAD_KERNEL_TABLE to the name of the table this copy provides;
// src/kernels/dispatch.cpp picks one when the program starts. Everything but the table
// is file-local, and no standard-library template is used, so the copies cannot mix at
// link time.
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>  // the packed square root: the one operation the vector extension lacks
#endif

#include "kernel_table.hpp"

#ifndef STEPGRAD_KERNEL_TABLE
#error "compile through CMakeLists.txt, which defines STEPGRAD_KERNEL_TABLE and STEPGRAD_KERNEL_NAME"
#endif

namespace stepgrad::kernels {

namespace {

// A SIMD register of doubles: 8 with AVX-512, 4 with AVX (the `native` preset on such a
// machine), 2 with baseline x86-64. GCC's and clang's vector extension makes the
// compiler emit packed arithmetic without intrinsics; memcpy is how a possibly
// unaligned pointer becomes one.
#if defined(__AVX512F__)
constexpr int lanes = 8;
#elif defined(__AVX__)
constexpr int lanes = 4;
#else
constexpr int lanes = 2;
#endif
using simd = double __attribute__((vector_size(lanes * sizeof(double))));
// The same bits read as integers, and the result of comparing two simd: all ones or 0.
using simd_bits = std::int64_t __attribute__((vector_size(lanes * sizeof(double))));

simd load(const double* p) {
    simd v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
void store(double* p, simd v) { std::memcpy(p, &v, sizeof v); }
void add_store(double* p, simd v) { store(p, load(p) + v); }

simd_bits bits_of(simd v) {
    simd_bits bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
}
simd from_bits(simd_bits bits) {
    simd v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}
simd splat(double value) { return simd{} + value; }
// Lanes [0, used) from p, the others 0; and the reverse, into p's first `used` entries only:
// masked instructions where the set has them. Filling a register from an array written a
// number at a time stalled the load on the stores (13 % of an attention product's time).
simd load_first(const double* p, int used) {
#if defined(__AVX512F__)
    return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << used) - 1), p);
#elif defined(__AVX__)
    const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0);
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(used), lane));
#else
    return used >= 2 ? _mm_loadu_pd(p) : used == 1 ? _mm_load_sd(p) : _mm_setzero_pd();
#endif
}
void store_first(double* p, simd v, int used) {
#if defined(__AVX512F__)
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << used) - 1), v);
#elif defined(__AVX__)
    const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0);
    _mm256_maskstore_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(used), lane), v);
#else
    if (used >= 2) _mm_storeu_pd(p, v);
    else if (used == 1) _mm_store_sd(p, v);
#endif
}

// The same register without splat's addition of 0 (which turns −0 into +0): the compiler
// folds it into the multiply-add as a broadcast from memory. gemm_tile's A entries go through
// it: one add and one shuffle fewer per multiply-add row, and sums started from +0 never see
// the difference (+0 + −0 is +0).
simd broadcast(double value) {
#if defined(__AVX512F__)
    return _mm512_set1_pd(value);
#elif defined(__AVX__)
    return _mm256_set1_pd(value);
#else
    return _mm_set1_pd(value);
#endif
}
// mask ? a : b, lane by lane, for a mask made by a comparison.
simd select(simd_bits mask, simd a, simd b) { return from_bits((mask & bits_of(a)) | (~mask & bits_of(b))); }

constexpr std::int64_t sign_bit = std::int64_t{1} << 63;

// a·b + c: rounded once where the instruction set has FMA (AVX2, AVX-512), else twice.
// Always written out, never left to the compiler: CMakeLists.txt builds this file with
// -ffp-contract=off because GCC and clang fuse a·b + c on their own in different places, and
// the lessons then printed different last digits built with one or the other (issue 19).
// Each multiply_add below stands where GCC used to fuse, so GCC's results did not move (but
// for dot's last n mod lanes products, which GCC had left unfused).
simd multiply_add(simd a, simd b, simd c) {
#if defined(__FMA__) && defined(__AVX512F__)
    return _mm512_fmadd_pd(a, b, c);
#elif defined(__FMA__)
    return _mm256_fmadd_pd(a, b, c);
#else
    return a * b + c;
#endif
}
double multiply_add(double a, double b, double c) {
#if defined(__FMA__)
    return __builtin_fma(a, b, c);
#else
    return a * b + c;
#endif
}

std::size_t count_of(int rows, int cols) {
    return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
}

// A register's lanes added in order, from 0: how a dot product ends its partial sums.
double lanes_total(simd partial) {
    double total = 0;
    for (int lane = 0; lane < lanes; ++lane) total += partial[lane];
    return total;
}

// Σ a_i b_i as interleaved partial sums, one per lane, added at the end.
double dot(const double* a, const double* b, int n) {
    simd partial = {};
    int i = 0;
    for (; i + lanes <= n; i += lanes) partial = multiply_add(load(a + i), load(b + i), partial);
    double total = lanes_total(partial);
    for (; i < n; ++i) total = multiply_add(a[i], b[i], total);
    return total;
}

// y += factor · x
void axpy(double factor, const double* x, double* y, int n) {
    int i = 0;
    for (; i + lanes <= n; i += lanes) store(y + i, multiply_add(splat(factor), load(x + i), load(y + i)));
    for (; i < n; ++i) y[i] = multiply_add(factor, x[i], y[i]);
}

// ---- matrix products ----

// A matrix read through strides: A(i, p) = data[i·row_stride + p·col_stride], so the
// kernel below reads Aᵀ as cheaply as A.
struct StridedMatrix {
    const double* data;
    std::ptrdiff_t row_stride;
    std::ptrdiff_t col_stride;
    double operator()(int i, int p) const { return data[i * row_stride + p * col_stride]; }
};

// A finished tile of sums into C: added to C's entries, or (overwrite) in their place.
void put(double* p, simd sums, Store into) { into == Store::add ? add_store(p, sums) : store(p, sums); }

// C[i … i+rows, j … j+width·lanes) += A[i … i+rows) · B[:, j … j+width·lanes): the tile is
// summed in registers across all of k and stored once; the plain i-p-j loop (an axpy per
// entry of A) loads and stores each row of C k times, which callgrind showed as half of all
// the instructions of a training step. Per p: `width` loads of B, `rows` of A, rows·width
// multiply-adds.
template <int rows, int width>
void gemm_tile(int i, int j, int k, int c, StridedMatrix A, const double* B, double* C, Store into) {
    simd tile[rows][width];
    // (zeroed register by register: `= {}` became a rep stos of the array on the stack)
    for (int ii = 0; ii < rows; ++ii)
        for (int w = 0; w < width; ++w) tile[ii][w] = simd{};
    for (int p = 0; p < k; ++p) {
        simd b[width];
        for (int w = 0; w < width; ++w) b[w] = load(B + count_of(p, c) + j + w * lanes);
        for (int ii = 0; ii < rows; ++ii) {
            const simd a = broadcast(A(i + ii, p));
            for (int w = 0; w < width; ++w) tile[ii][w] = multiply_add(a, b[w], tile[ii][w]);
        }
    }
    for (int ii = 0; ii < rows; ++ii)
        for (int w = 0; w < width; ++w) put(C + count_of(i + ii, c) + j + w * lanes, tile[ii][w], into);
}

// C[i … i+rows, from … to) += A[i … i+rows) · B[:, from … to) for one band of `rows` rows:
// tiles `wide` registers wide, then 2, then 1 for what is left of the columns.
// When `to` is c, the last c mod lanes columns read B through `tail` (k rows of one register:
// those columns, then zeros) when the caller made one, else an axpy per entry of A.
template <int rows, int wide>
void gemm_band(int i, int from, int to, int k, int c, StridedMatrix A, const double* B, double* C, const double* tail,
               Store into) {
    int j = from;
    for (; j + wide * lanes <= to; j += wide * lanes) gemm_tile<rows, wide>(i, j, k, c, A, B, C, into);
    if constexpr (wide > 2)
        for (; j + 2 * lanes <= to; j += 2 * lanes) gemm_tile<rows, 2>(i, j, k, c, A, B, C, into);
    for (; j + lanes <= to; j += lanes) gemm_tile<rows, 1>(i, j, k, c, A, B, C, into);
    if (to < c) return;
    if (j < c && tail) {  // the last few columns, a padded register at a time
        // Starting from C's own entries (or zeros), the multiply-adds run in the order of the
        // axpy loop below: the same bits, only faster.
        // (C's partial rows move through masked loads and stores: a copy loop to c was a libc
        // memcpy call per row, most of the cost of an attention product of 13 keys)
        const int used = c - j;
        simd tile[rows];
        for (int ii = 0; ii < rows; ++ii)
            tile[ii] = into == Store::add ? load_first(C + count_of(i + ii, c) + j, used) : simd{};
        for (int p = 0; p < k; ++p) {
            const simd right = load(tail + count_of(p, lanes));
            for (int ii = 0; ii < rows; ++ii) tile[ii] = multiply_add(splat(A(i + ii, p)), right, tile[ii]);
        }
        for (int ii = 0; ii < rows; ++ii) store_first(C + count_of(i + ii, c) + j, tile[ii], used);
        return;
    }
    for (int ii = 0; ii < rows && j < c; ++ii) {  // the last few columns
        if (into == Store::overwrite)
            for (int jj = j; jj < c; ++jj) C[count_of(i + ii, c) + jj] = 0.0;
        for (int p = 0; p < k; ++p) axpy(A(i + ii, p), B + count_of(p, c) + j, C + count_of(i + ii, c) + j, c - j);
    }
}

// The one matrix-product kernel: C (r, c) += A (r, k) · B (k, c), B with contiguous rows.
// Bands as tall as the registers allow, then bands of 4 and of 1 for what is left. With
// AVX-512's 32 registers, 8 rows (16 sums + 2 of B + 1 of A); AVX2 has 16: 6 rows; baseline
// x86-64 has 16 of half the width: 4 rows. Measured with stepgrad-bench: 8 rows instead
// of 4 made plain GRU at batch 32 1.13× faster with AVX-512, 6 instead of 4 the concat
// decoder 1.2× with AVX2.
// When c is not a multiple of lanes, B's last c mod lanes columns are copied once into a
// zero-padded strip of k registers, so every band sums them a register at a time too: the
// Transformer's attention products (c = m = 13 keys) took 1.4× as long with an axpy per
// entry of A for those columns (issue 18). The strip lives on the stack: only for k ≤ max_tail_k.
constexpr int max_tail_k = 256;
// Columns of C per block (gemm) and rows of B per transposed panel (gemm_nt): with k = 512, a
// panel of 64 is 256 KB, in cache beside the rows being summed.
constexpr int block_columns = 8 * lanes;

void gemm(int r, int k, int c, StridedMatrix A, const double* B, double* C, Store into) {
    constexpr int tall = lanes == 8 ? 8 : lanes == 4 ? 6 : 4;
    // Tiles 2 registers wide: 3 and 4 (8 × 3 or 6 × 4 sums with AVX-512) measured the same
    // within noise on the Transformer's products, and slower on attention's 13 × 16 × 13.
    constexpr int wide = 2;
    double strip[max_tail_k * lanes];
    const double* tail = nullptr;
    if (const int first = c - c % lanes; first < c && k <= max_tail_k) {
        for (int p = 0; p < k; ++p) store(strip + count_of(p, lanes), load_first(B + count_of(p, c) + first, c - first));
        tail = strip;
    }
    // Columns a block at a time, every band of rows within a block: the k × block_columns
    // panel of B is read from memory once and then from cache by every band. Band by band over
    // all columns streamed the whole of B once per band: with a GRU of H = 512 (W_hh 1536 × 512,
    // 6 MB) and 32 rows, four times per product (issue 19). Each entry's sum is unchanged.
    for (int from = 0; from < c; from += block_columns) {
        const int to = c - from <= block_columns ? c : from + block_columns;
        int i = 0;
        for (; i + tall <= r; i += tall) gemm_band<tall, wide>(i, from, to, k, c, A, B, C, tail, into);
        for (; i + 4 <= r; i += 4) gemm_band<4, wide>(i, from, to, k, c, A, B, C, tail, into);
        for (; i < r; ++i) gemm_band<1, wide>(i, from, to, k, c, A, B, C, tail, into);
        if (to == c) break;
    }
}

void gemm_nn(const double* A, const double* B, double* C, int r, int k, int c, Store into) {
    gemm(r, k, c, {A, k, 1}, B, C, into);
}

void gemm_tn(const double* A, const double* B, double* C, int r, int k, int c, Store into) {
    gemm(k, r, c, {A, 1, k}, B, C, into);
}

// For a row or three (a batch of 1) every entry is one dot product; otherwise B is
// transposed into scratch memory for the kernel, a copy that costs 1/r of the product.
// A large B (a GRU's W_hh at H = 512: 1536 × 512, 6 MB) is transposed a block of
// block_columns rows at a time into a panel that stays in cache, multiplied into a small
// block of sums and added to C: transposing all of it at once wrote 6 MB and read it back,
// 26 % of the step (issue 19). The sums are those of the whole-matrix path, entry by entry,
// but for the last c mod lanes columns when adding to C (there the whole-matrix path starts
// the multiply-adds from C's entries). Large: large_transpose entries and more (kernel_table.hpp).

// A square block of B transposed in registers (the copies are exact: no arithmetic) from B
// (row stride k) into out (row stride rows): 4 × 4 with AVX, 2 × 2 with baseline x86-64.
#if defined(__AVX__)
constexpr int transpose_block = 4;
void transpose_registers(const double* B, int k, double* out, int rows) {
    const __m256d r0 = _mm256_loadu_pd(B), r1 = _mm256_loadu_pd(B + k);
    const __m256d r2 = _mm256_loadu_pd(B + 2 * k), r3 = _mm256_loadu_pd(B + 3 * k);
    const __m256d even01 = _mm256_unpacklo_pd(r0, r1), odd01 = _mm256_unpackhi_pd(r0, r1);  // r0[0] r1[0] r0[2] r1[2] …
    const __m256d even23 = _mm256_unpacklo_pd(r2, r3), odd23 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(out, _mm256_permute2f128_pd(even01, even23, 0x20));  // column 0: r0[0] r1[0] r2[0] r3[0]
    _mm256_storeu_pd(out + rows, _mm256_permute2f128_pd(odd01, odd23, 0x20));
    _mm256_storeu_pd(out + 2 * rows, _mm256_permute2f128_pd(even01, even23, 0x31));
    _mm256_storeu_pd(out + 3 * rows, _mm256_permute2f128_pd(odd01, odd23, 0x31));
}
#else
constexpr int transpose_block = 2;
void transpose_registers(const double* B, int k, double* out, int rows) {
    const __m128d r0 = _mm_loadu_pd(B), r1 = _mm_loadu_pd(B + k);
    _mm_storeu_pd(out, _mm_unpacklo_pd(r0, r1));
    _mm_storeu_pd(out + rows, _mm_unpackhi_pd(r0, r1));
}
#endif

// Bᵀ (k, rows) into out from B (rows, k), a register block at a time. An entry at a time,
// every write went to its own cache line: the transposes were 3 % of a Transformer step.
void transpose(const double* B, int rows, int k, double* out) {
    constexpr int n = transpose_block;
    const int whole_rows = rows - rows % n, whole_k = k - k % n;
    for (int j = 0; j < whole_rows; j += n) {
        for (int p = 0; p < whole_k; p += n) transpose_registers(B + count_of(j, k) + p, k, out + count_of(p, rows) + j, rows);
        for (int p = whole_k; p < k; ++p)
            for (int jj = 0; jj < n; ++jj) out[count_of(p, rows) + j + jj] = B[count_of(j + jj, k) + p];
    }
    for (int j = whole_rows; j < rows; ++j)
        for (int p = 0; p < k; ++p) out[count_of(p, rows) + j] = B[count_of(j, k) + p];
}

void gemm_nt(const double* A, const double* B, double* C, int r, int k, int c, Store into, double* scratch) {
    if (r < 4) {
        for (int i = 0; i < r; ++i)
            for (int j = 0; j < c; ++j) {
                double& entry = C[count_of(i, c) + j];
                entry = (into == Store::add ? entry : 0.0) + dot(A + count_of(i, k), B + count_of(j, k), k);
            }
        return;
    }
    if (count_of(c, k) < large_transpose) {
        transpose(B, c, k, scratch);
        return gemm_nn(A, scratch, C, r, k, c, into);
    }
    const int widest = c < block_columns ? c : block_columns;
    double* panel = scratch;                        // k × width: B's rows from … from + width, transposed
    double* sums = scratch + count_of(k, widest);   // r × width
    for (int from = 0; from < c; from += block_columns) {
        const int width = c - from < block_columns ? c - from : block_columns;
        transpose(B + count_of(from, k), width, k, panel);
        gemm_nn(A, panel, sums, r, k, width, Store::overwrite);
        for (int i = 0; i < r; ++i)
            for (int jj = 0; jj < width; ++jj) {
                double& entry = C[count_of(i, c) + from + jj];
                entry = (into == Store::add ? entry : 0.0) + sums[count_of(i, width) + jj];
            }
    }
}

// gemm_nt's sums given Bᵀ: where gemm_nt transposes all of B (4 rows and more, a small B), the
// product it then runs. A large B still goes panel by panel through gemm_nt: a panel transposed
// into contiguous memory is read faster than the same columns of the whole Bᵀ, whose rows lie
// far apart (GRU, H = 256: 10 % slower a step), and for r < 4 dot products.
void gemm_nt_given(const double* A, const double* B, const double* Bt, double* C, int r, int k, int c, Store into,
                   double* scratch) {
    if (r < 4 || count_of(c, k) >= large_transpose) return gemm_nt(A, B, C, r, k, c, into, scratch);
    gemm_nn(A, Bt, C, r, k, c, into);
}

// ---- tanh and σ, a register at a time ----
//
// libm computes one number per call and was a quarter of a training step's time with
// the concat score (B·m·A tanh per target step). Both functions below rest on one
// split of the exponential that the compiler evaluates on a whole register.

// 1/n! for n = 0 … 13, the Taylor coefficients of e^r (each quotient rounded once)
constexpr double inverse_factorial[14] = {
    1.0,         1.0,          1.0 / 2,       1.0 / 6,        1.0 / 24,         1.0 / 120,          1.0 / 720,
    1.0 / 5040,  1.0 / 40320,  1.0 / 362880,  1.0 / 3628800,  1.0 / 39916800,   1.0 / 479001600,    1.0 / 6227020800};

// e^y = 2^k · (1 + p)  with k = round(y / ln 2), r = y − k ln 2 ∈ [−ln2/2, ln2/2], p = e^r − 1
// = q·r. The last product q·r is left to the caller: exp fuses it into 1 + p.
// two_to_k needs y in [−1022 ln 2, 1023 ln 2] (callers clamp) or NaN (then p is NaN); k itself
// is right for any |y| < 2^50.
struct ExpSplit {
    simd two_to_k;
    simd q;
    simd r;
    simd_bits k;
};

ExpSplit split_exp(simd y) {
    constexpr double inverse_ln2 = 1.4426950408889634;
    // ln 2 = ln2_high + ln2_low, ln2_high with its low 32 bits zero: k · ln2_high is exact for
    // |k| < 2^20, so r keeps every bit when y − k ln 2 cancels.
    constexpr double ln2_high = 0x1.62e42fee00000p-1, ln2_low = 0x1.a39ef35793c76p-33;
    // Adding 1.5 · 2^52 rounds y / ln 2 to an integer that lands in the low mantissa bits.
    constexpr double shifter = 0x1.8p52;
    const simd shifted = multiply_add(y, splat(inverse_ln2), splat(shifter));
    const simd k = shifted - shifter;
    // r = (y − k ln2_high) − k ln2_low
    const simd r = multiply_add(-k, splat(ln2_low), multiply_add(-k, splat(ln2_high), y));
    // e^r − 1 = r + r²/2! + … + r¹³/13!: the next term is below 2^−55 · |e^r − 1| for |r| ≤ ln2/2
    simd q = splat(inverse_factorial[13]);
    for (int n = 12; n >= 1; --n) q = multiply_add(q, r, splat(inverse_factorial[n]));
    // 2^k: k + 1023 in the exponent field. `shifted` holds k in its low bits.
    const simd_bits k_bits = bits_of(shifted) - bits_of(splat(shifter));
    return {from_bits((k_bits + 1023) << 52), q, r, k_bits};
}

simd tanh_register(simd x) {
    const simd a = from_bits(bits_of(x) & ~sign_bit);  // |x|
    // tanh(20) rounds to 1, and the clamp keeps 2^k finite; NaN fails the test and stays.
    const simd y = select(2 * a > 40.0, splat(40.0), 2 * a);
    const auto [two_to_k, q, r, k] = split_exp(y);
    // u = e^{2|x|} − 1 = 2^k p + (2^k − 1): exactly p when k = 0, so small x loses nothing
    const simd u = multiply_add(two_to_k, q * r, two_to_k - 1.0);
    // tanh |x| = (e^{2|x|} − 1) / (e^{2|x|} + 1), then x's sign
    const simd t = u / (u + 2.0);
    return from_bits(bits_of(t) | (bits_of(x) & sign_bit));
}

simd sigmoid_register(simd x) {
    const simd a = from_bits(bits_of(x) & ~sign_bit);  // |x|
    // e^−|x| ∈ (0, 1]: never overflows; below e^−708 it is taken as 0
    const simd_bits tiny = a > 708.0;
    const auto [two_to_k, q, r, k] = split_exp(select(tiny, splat(0.0), -a));
    // e^−|x| = 2^k (1 + p)
    const simd e = select(tiny, splat(0.0), multiply_add(two_to_k, q * r, two_to_k));
    // σ(x) = 1 / (1 + e^−x) for x ≥ 0 and e^x / (1 + e^x) for x < 0: no cancellation either way.
    // One division for both: the numerator is chosen first.
    return select(x < 0.0, e, splat(1.0)) / (1.0 + e);
}

// e^x = (1 + p) · 2^⌊k/2⌋ · 2^(k−⌊k/2⌋): 2^k in two normal halves, so results down in the
// subnormals (e^−745 is the smallest) and up to the largest double come out rounded once.
// x is clamped to [−746, 710] first, where e^x is 0 and +∞: −∞ gives 0, NaN fails both tests
// and stays NaN.
simd exp_register(simd x) {
    const simd y = select(x < -746.0, splat(-746.0), select(x > 710.0, splat(710.0), x));
    const auto [two_to_k, q, r, k] = split_exp(y);
    const simd_bits half = k >> 1;
    // 1 + p = 1 + q·r
    return multiply_add(q, r, splat(1.0)) * from_bits((half + 1023) << 52) * from_bits((k - half + 1023) << 52);
}

// y = f(x) over n entries; the last n mod lanes go through a padded register, so every
// entry gets exactly the same arithmetic wherever it sits in the array.
template <simd (*f)(simd)>
void apply(const double* x, double* y, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store(y + i, f(load(x + i)));
    if (i == n) return;
    double padded[lanes] = {};
    std::memcpy(padded, x + i, (n - i) * sizeof(double));
    store(padded, f(load(padded)));
    std::memcpy(y + i, padded, (n - i) * sizeof(double));
}

// t_ia = 1 − 2 / (1 + E_ia Q_a): no multiply_add, so every set rounds as the plain loop
void tanh_from_exponentials(const double* E, const double* Q, int count, int A, double* t) {
    for (int i = 0; i < count; ++i) {
        const double* E_i = E + count_of(i, A);
        double* t_i = t + count_of(i, A);
        int a = 0;
        for (; a + lanes <= A; a += lanes) store(t_i + a, 1.0 - 2.0 / (1.0 + load(E_i + a) * load(Q + a)));
        for (; a < A; ++a) t_i[a] = 1 - 2 / (1 + E_i[a] * Q[a]);
    }
}

// ---- Adam ----

simd square_root(simd x) {
#if defined(__AVX512F__)
    return _mm512_mask_sqrt_pd(x, 0xff, x);  // every lane; _mm512_sqrt_pd trips GCC 12's -Wmaybe-uninitialized
#elif defined(__AVX__)
    return _mm256_sqrt_pd(x);
#elif defined(__SSE2__)
    return _mm_sqrt_pd(x);
#else
    for (int lane = 0; lane < lanes; ++lane) x[lane] = __builtin_sqrt(x[lane]);
    return x;
#endif
}

// The same bits as the plain loop (src/kernels/reference.cpp) on every instruction set: no
// multiply_add, each product rounded before it is added.
// m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  θ ← θ − lr · m̂ / (√v̂ + ε)
simd adam_register(const AdamStep& s, simd& value, simd& m, simd& v, simd g) {
    m = s.beta1 * m + (1 - s.beta1) * g;
    v = s.beta2 * v + (1 - s.beta2) * g * g;
    value -= s.lr * (m / s.correction1) / (square_root(v / s.correction2) + s.epsilon);
    return value;
}

void adam(const AdamStep& s, double* value, double* m, double* v, const double* grad, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        simd value_i = load(value + i), m_i = load(m + i), v_i = load(v + i);
        adam_register(s, value_i, m_i, v_i, load(grad + i));
        store(value + i, value_i), store(m + i, m_i), store(v + i, v_i);
    }
    if (i == n) return;  // the last n mod lanes through padded registers: the same arithmetic
    double padded[4][lanes] = {};
    const std::size_t rest = (n - i) * sizeof(double);
    std::memcpy(padded[0], value + i, rest), std::memcpy(padded[1], m + i, rest);
    std::memcpy(padded[2], v + i, rest), std::memcpy(padded[3], grad + i, rest);
    simd value_i = load(padded[0]), m_i = load(padded[1]), v_i = load(padded[2]);
    adam_register(s, value_i, m_i, v_i, load(padded[3]));
    store(padded[0], value_i), store(padded[1], m_i), store(padded[2], v_i);
    std::memcpy(value + i, padded[0], rest), std::memcpy(m + i, padded[1], rest), std::memcpy(v + i, padded[2], rest);
}

// ---- layer norm ----

// Four doubles, whatever the register width: a row's sums run in four interleaved partial sums
// (reference.cpp's four_way_sum), so they are summed four lanes at a time on every set
// (two registers of two with baseline x86-64; with AVX-512 half a register, which on the
// double-pumped units it was measured on costs nothing against a whole one).
using quad = double __attribute__((vector_size(4 * sizeof(double))));
// Without AVX, GCC warns that returning a quad by value has no fixed ABI: these helpers are
// file-local and inlined, never called across compilation units (the pop is after the layer norm).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

quad load_quad(const double* p) {
    quad v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
void store_quad(double* p, const quad& v) { std::memcpy(p, &v, sizeof v); }
double total_of(const quad& s) { return (s[0] + s[1]) + (s[2] + s[3]); }

// y_rj = x̂_rj γ_j + β_j, x̂_rj = (x_rj − μ_r) / √(σ²_r + ε)
void layer_norm(const LayerNormRows& n, const double* beta, double* y) {
    const int d = n.d, whole = d - d % 4;
    for (int r = 0; r < n.rows; ++r) {
        const double* x = n.x + count_of(r, d);
        double* out = y + count_of(r, d);
        const double mu = n.mean[r], inverse = 1 / __builtin_sqrt(n.variance[r] + n.epsilon);
        int j = 0;
        for (; j < whole; j += 4)
            store_quad(out + j, (load_quad(x + j) - mu) * inverse * load_quad(n.gamma + j) + load_quad(beta + j));
        for (; j < d; ++j) out[j] = (x[j] - mu) * inverse * n.gamma[j] + beta[j];
    }
}

// g = dy ⊙ γ;  dx = (1/√(σ² + ε)) (g − mean(g) − x̂ mean(g ⊙ x̂));  dγ += dy ⊙ x̂;  dβ += dy.
// One pass for dγ, dβ and the two sums, a second for dx: x̂ is rebuilt in each, as the forward made it.
void layer_norm_backward(const LayerNormRows& n, const double* dy, double* dx, Store dx_store, double* dgamma, double* dbeta) {
    const int d = n.d, whole = d - d % 4;
    for (int r = 0; r < n.rows; ++r) {
        const double *x = n.x + count_of(r, d), *dy_r = dy + count_of(r, d);
        const double mu = n.mean[r], inverse = 1 / __builtin_sqrt(n.variance[r] + n.epsilon);
        quad g_sum = {}, g_xhat_sum = {};
        int j = 0;
        for (; j < whole; j += 4) {
            const quad xhat = (load_quad(x + j) - mu) * inverse, grad = load_quad(dy_r + j);
            if (dbeta) store_quad(dbeta + j, load_quad(dbeta + j) + grad);
            if (dgamma) store_quad(dgamma + j, load_quad(dgamma + j) + grad * xhat);
            const quad g = grad * load_quad(n.gamma + j);
            g_sum += g;
            g_xhat_sum += g * xhat;
        }
        for (; j < d; ++j) {
            const double xhat = (x[j] - mu) * inverse, g = dy_r[j] * n.gamma[j];
            if (dbeta) dbeta[j] += dy_r[j];
            if (dgamma) dgamma[j] += dy_r[j] * xhat;
            g_sum[0] += g;
            g_xhat_sum[0] += g * xhat;
        }
        if (!dx) continue;
        const double g_mean = total_of(g_sum) / d, g_xhat_mean = total_of(g_xhat_sum) / d;
        double* dx_r = dx + count_of(r, d);
        const bool add = dx_store == Store::add;
        for (j = 0; j < whole; j += 4) {
            const quad xhat = (load_quad(x + j) - mu) * inverse;
            const quad share = inverse * (load_quad(dy_r + j) * load_quad(n.gamma + j) - g_mean - xhat * g_xhat_mean);
            store_quad(dx_r + j, (add ? load_quad(dx_r + j) : quad{}) + share);
        }
        for (; j < d; ++j) {
            const double xhat = (x[j] - mu) * inverse;
            dx_r[j] = (add ? dx_r[j] : 0.0) + inverse * (dy_r[j] * n.gamma[j] - g_mean - xhat * g_xhat_mean);
        }
    }
}

#pragma GCC diagnostic pop

// ---- concat attention's backward ----

// Registers of sums kept across a loop of keys or blocks (below): 4 of each, with their
// operands, fit baseline x86-64's 16.
constexpr int held = 4;

// d_i = g_i · v ⊙ (1 − t_i ⊙ t_i);  dkeys_i += d_i;  dquery += d_i;  dv += g_i t_i — the keys i
// in order, each product rounded as the plain loop rounds it (no fused multiply-add). One
// number at a time in src/ops.cpp it was most of the concat score's backward, which rebuilds t
// rather than keep m·n·A numbers (issue 19). dquery's and dv's sums stay in registers across
// the keys, `held` registers of columns at a time: added to in memory, every key waited on the
// store of the one before (this kernel went from 3.1 to 1.9 % of a GRU + concat step). The
// caller hands over one chunk of t (512 / A keys), so the passes over the columns meet rows of
// dkeys still in cache; one register's pass over all m = 400 keys walked dkeys (6.5 MB) down
// its columns, and the step took 1.3 times as long.
template <int n>
void additive_scores_backward_columns(int k, const double* t, const double* v, const double* g, int count, int A,
                                      double* dkeys, double* dquery, double* dv) {
    simd dquery_k[n], dv_k[n], v_k[n];
    for (int w = 0; w < n; ++w) {
        dquery_k[w] = load(dquery + k + w * lanes);
        dv_k[w] = load(dv + k + w * lanes);
        v_k[w] = load(v + k + w * lanes);
    }
    for (int i = 0; i < count; ++i) {
        const double* t_i = t + count_of(i, A) + k;
        double* dkeys_i = dkeys + count_of(i, A) + k;
        const simd g_i = broadcast(g[i]);
        for (int w = 0; w < n; ++w) {
            const simd t_ik = load(t_i + w * lanes);
            const simd d = g_i * v_k[w] * (1 - t_ik * t_ik);
            add_store(dkeys_i + w * lanes, d);
            dquery_k[w] += d;
            dv_k[w] += g_i * t_ik;
        }
    }
    for (int w = 0; w < n; ++w) {
        store(dquery + k + w * lanes, dquery_k[w]);
        store(dv + k + w * lanes, dv_k[w]);
    }
}

void additive_scores_backward(const double* t, const double* v, const double* g, int count, int A, double* dkeys,
                              double* dquery, double* dv) {
    int k = 0;
    for (; k + held * lanes <= A; k += held * lanes)
        additive_scores_backward_columns<held>(k, t, v, g, count, A, dkeys, dquery, dv);
    for (; k + lanes <= A; k += lanes) additive_scores_backward_columns<1>(k, t, v, g, count, A, dkeys, dquery, dv);
    for (int i = 0; i < count; ++i)
        for (int last = k; last < A; ++last) {
            const double t_ik = t[count_of(i, A) + last];
            const double d = g[i] * v[last] * (1 - t_ik * t_ik);
            dkeys[count_of(i, A) + last] += d;
            dquery[last] += d;
            dv[last] += g[i] * t_ik;
        }
}

// ---- attention's context ----

// The plain loop's dot and axpy, block by block, here where they inline: one call per block
// through the dispatch table was most of their cost (B·m blocks of H a decoder step). Each
// entry's sum as the axpys and dots make it, but with several in flight (issue 19): y's
// registers stay in registers across the blocks, `held` of them at a time (an axpy per block
// waited on the store of the one before), and the dots of `held` blocks share one pass over dy
// (one dot's multiply-adds are a chain). With the concat score's backward above: 8.1 → 6.1 %
// of a GRU + concat step at B = 32, and m = 400 4 % faster.

// y's columns k … k + n·lanes, summed in registers down the blocks
template <int n>
void weighted_sum_columns(int k, const double* w, const double* blocks, int count, int K, double* y) {
    simd sums[n];
    for (int r = 0; r < n; ++r) sums[r] = simd{};
    for (int i = 0; i < count; ++i) {
        const simd w_i = splat(w[i]);
        for (int r = 0; r < n; ++r) sums[r] = multiply_add(w_i, load(blocks + count_of(i, K) + k + r * lanes), sums[r]);
    }
    for (int r = 0; r < n; ++r) store(y + k + r * lanes, sums[r]);
}

void weighted_sum_of_blocks(const double* weights, const double* blocks, int examples, int count, int K, double* y) {
    for (int b = 0; b < examples; ++b) {
        const double *w_b = weights + count_of(b, count), *blocks_b = blocks + count_of(b, count * K);
        double* y_b = y + count_of(b, K);
        int k = 0;
        for (; k + held * lanes <= K; k += held * lanes) weighted_sum_columns<held>(k, w_b, blocks_b, count, K, y_b);
        for (; k + lanes <= K; k += lanes) weighted_sum_columns<1>(k, w_b, blocks_b, count, K, y_b);
        for (int last = k; last < K; ++last) {
            y_b[last] = 0;
            for (int i = 0; i < count; ++i) y_b[last] = multiply_add(w_b[i], blocks_b[count_of(i, K) + last], y_b[last]);
        }
    }
}

// For n blocks at once: dw_i += blocks_i · dy (summed as dot sums it) and dblocks_i += w_i dy
// (as axpy does), in one pass over dy
template <int n>
void blocks_backward(const double* w, const double* blocks, const double* dy, int K, double* dw, double* dblocks) {
    simd partial[n], weight[n];
    for (int i = 0; i < n; ++i) {
        partial[i] = simd{};
        weight[i] = splat(w[i]);
    }
    int k = 0;
    for (; k + lanes <= K; k += lanes) {
        const simd dy_k = load(dy + k);
        for (int i = 0; i < n; ++i) {
            partial[i] = multiply_add(load(blocks + count_of(i, K) + k), dy_k, partial[i]);
            double* dblock = dblocks + count_of(i, K) + k;
            store(dblock, multiply_add(weight[i], dy_k, load(dblock)));
        }
    }
    for (int i = 0; i < n; ++i) {
        double total = lanes_total(partial[i]);
        for (int last = k; last < K; ++last) {
            total = multiply_add(blocks[count_of(i, K) + last], dy[last], total);
            double& dblock = dblocks[count_of(i, K) + last];
            dblock = multiply_add(w[i], dy[last], dblock);
        }
        dw[i] += total;
    }
}

void weighted_sum_of_blocks_backward(const double* weights, const double* blocks, const double* dy, int examples, int count,
                                     int K, double* dweights, double* dblocks) {
    for (int b = 0; b < examples; ++b) {
        const std::size_t first = count_of(b, count), first_block = count_of(b, count * K);
        const double* dy_b = dy + count_of(b, K);
        int i = 0;
        for (; i + held <= count; i += held)
            blocks_backward<held>(weights + first + i, blocks + first_block + count_of(i, K), dy_b, K, dweights + first + i,
                                  dblocks + first_block + count_of(i, K));
        for (; i < count; ++i)
            blocks_backward<1>(weights + first + i, blocks + first_block + count_of(i, K), dy_b, K, dweights + first + i,
                               dblocks + first_block + count_of(i, K));
    }
}

// ---- the GRU update ----

// The first `used` entries of a row as a register (the others 0), and back: a whole register
// when used = lanes, so a row of any width gets one arithmetic wherever an entry sits.
simd load_part(const double* p, int used) { return used == lanes ? load(p) : load_first(p, used); }
void store_part(double* p, simd v, int used) { used == lanes ? store(p, v) : store_first(p, v, used); }
// A gradient's entries at … at + used: the old ones plus v, or (Store::overwrite) 0 plus v, as
// the plain loop's put rounds them; nothing when the input needs no gradient.
void put_part(const GradientTarget& target, std::size_t at, simd v, int used) {
    if (!target.data) return;
    double* p = target.data + at;
    store_part(p, (target.store == Store::add ? load_part(p, used) : splat(0.0)) + v, used);
}

// The plain loop's formulas a register of units at a time, each gate with the same σ and tanh
// as the tanh and sigmoid kernels of this set (so the fused update equals its composite).
void gru_update(const GruRows& g, double* h_new) {
    const int H = g.hidden;
    const std::size_t block = count_of(g.batch, H);
    for (int b = 0; b < g.batch; ++b)
        for (int j = 0; j < H; j += lanes) {
            const int used = H - j < lanes ? H - j : lanes;
            const double *x = g.from_x + count_of(b, 3 * H) + j, *h = g.from_h + count_of(b, 3 * H) + j;
            const std::size_t i = count_of(b, H) + j;
            // r = σ(x_r + h_r);  z = σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n)
            const simd r_pre = load_part(x, used) + load_part(h, used), r = sigmoid_register(r_pre);
            const simd z_pre = load_part(x + H, used) + load_part(h + H, used), z = sigmoid_register(z_pre);
            const simd n_pre = load_part(x + 2 * H, used) + r * load_part(h + 2 * H, used), n = tanh_register(n_pre);
            const simd values[6] = {r_pre, r, z_pre, z, n_pre, n};
            for (int k = 0; k < 6; ++k) store_part(g.gates + k * block + i, values[k], used);
            // h' = n + z ⊙ (h − n)
            store_part(h_new + i, n + z * (load_part(g.h + i, used) - n), used);
        }
}

void gru_update_backward(const GruRows& g, const double* dh_new, GradientTarget dfrom_x, GradientTarget dfrom_h,
                         GradientTarget dh) {
    const int H = g.hidden;
    const std::size_t block = count_of(g.batch, H);
    const simd zero = splat(0.0), one = splat(1.0);
    for (int b = 0; b < g.batch; ++b)
        for (int j = 0; j < H; j += lanes) {
            const int used = H - j < lanes ? H - j : lanes;
            const std::size_t i = count_of(b, H) + j, r_at = count_of(b, 3 * H) + j, z_at = r_at + H, n_at = r_at + 2 * H;
            const simd r = load_part(g.gates + block + i, used), z = load_part(g.gates + 3 * block + i, used);
            const simd n = load_part(g.gates + 5 * block + i, used), dh_new_i = load_part(dh_new + i, used);
            const simd d_sum = zero + dh_new_i;
            const simd dz = zero + (load_part(g.h + i, used) - n) * d_sum;
            const simd d_difference = zero + z * d_sum;
            put_part(dh, i, d_difference, used);
            const simd dn = (zero + dh_new_i) - (zero + d_difference);
            const simd dn_pre = zero + (one - n * n) * dn;
            const simd dr = zero + load_part(g.from_h + n_at, used) * (zero + dn_pre);
            const simd dh_n = zero + r * (zero + dn_pre);
            const simd dz_pre = zero + z * (one - z) * dz;
            const simd dr_pre = zero + r * (one - r) * dr;
            put_part(dfrom_x, r_at, dr_pre, used);
            put_part(dfrom_x, z_at, dz_pre, used);
            put_part(dfrom_x, n_at, zero + dn_pre, used);
            put_part(dfrom_h, r_at, dr_pre, used);
            put_part(dfrom_h, z_at, dz_pre, used);
            put_part(dfrom_h, n_at, dh_n, used);
        }
}

// ---- the hardware's limit ----

// 12 chains of a ← a·x + y: more independent multiply-adds in flight than two FMA units
// with a latency of 4 need, and few enough to stay in registers (16 with baseline and AVX2).
constexpr int chains = 12;

double multiply_add_loop(long iterations) {
    simd a[chains];
    for (int c = 0; c < chains; ++c) a[c] = splat(c);
    const simd x = splat(0.5), y = splat(1.0);  // a converges to 2: no overflow, no denormals
    for (long i = 0; i < iterations; ++i)
        for (int c = 0; c < chains; ++c) a[c] = multiply_add(a[c], x, y);
    simd total = {};
    for (int c = 0; c < chains; ++c) total += a[c];
    double sum = 0;
    for (int lane = 0; lane < lanes; ++lane) sum += total[lane];
    return sum;
}

}  // namespace

extern const KernelTable STEPGRAD_KERNEL_TABLE = {STEPGRAD_KERNEL_NAME, lanes, dot, axpy, gemm_nn, gemm_tn, gemm_nt, gemm_nt_given,
                                                  apply<tanh_register>, apply<sigmoid_register>, apply<exp_register>,
                                                  tanh_from_exponentials, adam,
                                                  layer_norm, layer_norm_backward, additive_scores_backward,
                                                  weighted_sum_of_blocks, weighted_sum_of_blocks_backward,
                                                  gru_update, gru_update_backward, multiply_add_loop, chains};

}  // namespace stepgrad::kernels
