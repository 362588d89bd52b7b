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
