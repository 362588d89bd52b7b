# Sourced by bench/compare_transformer.sh and bench/speed_table.sh.
# Debian's PyTorch and libtorch call whichever BLAS the libblas.so.3 alternative points to. On
# a fresh machine that is the reference BLAS (libblas3, plain loops), which made PyTorch's
# Transformer step 3.5× slower than with OpenBLAS (10 against 35 steps/s, the same machine):
# a comparison against it would flatter stepgrad. Say so loudly unless it is OpenBLAS.
blas_library() { readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo "none"; }
warn_unless_openblas() {
    local library
    library=$(blas_library)
    case $library in
        *openblas*) ;;
        *) echo "WARNING: PyTorch/libtorch would use the BLAS at $library, not OpenBLAS: their figures are" \
                "not a fair baseline (apt-get install libopenblas0-pthread)" >&2 ;;
    esac
}
# OpenBLAS 0.3.21 (Debian 12) runs an AMD EPYC with AVX-512 on its Haswell (AVX2) kernels, and
# machines here set OPENBLAS_CORETYPE=Haswell for every program; its SkylakeX kernels made
# PyTorch's steps 1.1–1.2× faster there (a 64 × 64 product 40 → 87 GFLOP/s). The baselines get
# the fastest kernels the CPU runs: SkylakeX where it has AVX-512, else OpenBLAS's own choice;
# BASELINE_OPENBLAS_CORETYPE picks others.
use_fastest_openblas_kernels() {
    if [[ -n ${BASELINE_OPENBLAS_CORETYPE:-} ]]; then
        export OPENBLAS_CORETYPE=$BASELINE_OPENBLAS_CORETYPE
    elif grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
        export OPENBLAS_CORETYPE=SkylakeX
    else
        unset OPENBLAS_CORETYPE
    fi
}
openblas_kernels() { echo "${OPENBLAS_CORETYPE:-chosen by OpenBLAS}"; }

# One core for every program of a comparison: on a 2-vCPU VM the two cores ran the same
# binary at different speeds (stepgrad's Transformer step 8.0 ms on CPU 0 and 10.2 ms on CPU 1;
# forty minutes later 10.8 and 9.7: which one is slow moves with the host's load), and unpinned
# runs landed on either: one table's Transformer row paired stepgrad's fast core with PyTorch's
# slow one in two runs (4.5×) and the reverse in three (2.0×). Sharing one core, interleaved
# runs see the same machine. pinned_to_one_core PROGRAM ARGS… runs it on BENCH_CPU (default 0)
# with taskset when there is one; with more than one thread wanted (THREADS > 1), unpinned.
pinning_wanted() { ((${THREADS:-1} <= 1)) && command -v taskset >/dev/null; }
pinned_to_one_core() {
    if pinning_wanted; then taskset -c "${BENCH_CPU:-0}" "$@"; else "$@"; fi
}
pinning_note() {
    if pinning_wanted; then echo "every program on CPU ${BENCH_CPU:-0} (taskset)"; else echo "programs not pinned"; fi
}
