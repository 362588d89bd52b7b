#!/usr/bin/env bash
# The Transformer (SPEC §14) in stepgrad against eager PyTorch, side by side: stepgrad-bench
# --model transformer and bench/torch_bench.py --model transformer run one after the other,
# RUNS times each (alternating, so a change in the machine's load hits both), and the table
# shows the medians. Defaults are issue 18's configuration: batch 32, d = 64, h = 4, N = 2,
# d_ff = 128, m = 12, vocabulary 32 (<pad> <bos> <eos> included, in both programs), fp64,
# one thread. Any other flag both programs know is passed to both:
#
#   bench/compare_transformer.sh                     # pre-norm, 100 timed steps, 5 runs each
#   RUNS=3 bench/compare_transformer.sh --norm post --steps 50
#
# STEPGRAD_BENCH names the binary (default build/release/stepgrad-bench) and PYTHON the
# interpreter with torch (default /usr/bin/python3: Debian's python3-torch). PyTorch uses
# OpenBLAS with one thread (libopenblas0-pthread, OPENBLAS_NUM_THREADS=1), as SPEC §10 asks.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=${STEPGRAD_BENCH:-$here/../build/release/stepgrad-bench}
python=${PYTHON:-/usr/bin/python3}
runs=${RUNS:-5}
[[ -x $bench ]] || { echo "compare_transformer.sh: no stepgrad-bench at $bench (set STEPGRAD_BENCH)" >&2; exit 2; }
"$python" -c "import torch" 2>/dev/null || { echo "compare_transformer.sh: $python has no torch (apt-get install python3-torch)" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
source "$here/blas.sh"
warn_unless_openblas
use_fastest_openblas_kernels

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }  # name=value from the machine-readable last line

declare -a sg_steps sg_cpu sg_rss sg_gflops sg_peak sg_mflop torch_steps torch_cpu torch_rss
cpu_ms() { sed -n 's/.*(CPU \([0-9.]*\)).*/\1/p'; }  # "… ms/step (CPU 25.1) …": the CPU time the program got
# stepgrad-bench's and torch_bench.py's --threads N: more than one thread is not pinned
THREADS=1
previous=
for argument in "$@"; do
    [[ $previous == --threads ]] && THREADS=$argument
    previous=$argument
done
export THREADS
echo "load before: $(uptime | sed 's/.*load average: //'); BLAS: $(blas_library), kernels: $(openblas_kernels); $(pinning_note)"
for ((i = 1; i <= runs; i++)); do
    out=$(pinned_to_one_core "$bench" --model transformer "$@")
    last=$(tail -n 1 <<<"$out")
    sg_steps+=("$(field steps_per_s <<<"$last")")
    sg_rss+=("$(field peak_rss_mb <<<"$last")")
    sg_cpu+=("$(cpu_ms <<<"$out")")
    # "… ms/step (CPU …), 439.0 MFLOP/step in matrix products: 6.67 GFLOP/s, 27% of this core's fp64 peak of 24.3 GFLOP/s …"
    sg_mflop+=("$(sed -n 's/.* \([0-9.]*\) MFLOP\/step.*/\1/p' <<<"$out")")
    sg_gflops+=("$(sed -n 's/.*products: \([0-9.]*\) GFLOP\/s.*/\1/p' <<<"$out")")
    sg_peak+=("$(sed -n 's/.*peak of \([0-9.]*\) GFLOP\/s.*/\1/p' <<<"$out")")
    out_torch=$(pinned_to_one_core "$python" "$here/torch_bench.py" --model transformer "$@")
    last=$(tail -n 1 <<<"$out_torch")
    torch_steps+=("$(field steps_per_s <<<"$last")")
    torch_cpu+=("$(cpu_ms <<<"$out_torch")")
    torch_rss+=("$(field peak_rss_mb <<<"$last")")
    echo "run $i: stepgrad ${sg_steps[-1]} steps/s, PyTorch ${torch_steps[-1]} steps/s"
done
echo "load after:  $(uptime | sed 's/.*load average: //')"
head -n 1 <<<"$out"

m() { printf '%s\n' "$@" | median; }
sg=$(m "${sg_steps[@]}") torch=$(m "${torch_steps[@]}") mflop=$(m "${sg_mflop[@]}") peak=$(m "${sg_peak[@]}")
sg_g=$(m "${sg_gflops[@]}")
awk -v sg="$sg" -v torch="$torch" -v mflop="$mflop" -v peak="$peak" -v sg_g="$sg_g" -v runs="$runs" \
    -v sg_cpu="$(m "${sg_cpu[@]}")" -v torch_cpu="$(m "${torch_cpu[@]}")" -v sg_rss="$(m "${sg_rss[@]}")" -v torch_rss="$(m "${torch_rss[@]}")" \
    -v sg_all="${sg_steps[*]}" -v torch_all="${torch_steps[*]}" 'BEGIN {
    torch_g = mflop * torch / 1e3  # the same FLOPs per step: the same model
    printf "\nmedians of %d alternating runs; GFLOP/s = %.1f MFLOP/step (counted by stepgrad'"'"'s matrix products) x steps/s,\n", runs, mflop
    printf "against this core'"'"'s fp64 peak as stepgrad-bench probes it (median %.1f GFLOP/s)\n\n", peak
    printf "| | steps/s | ms/step | CPU ms/step | GFLOP/s | %% of peak | peak memory | runs (steps/s) |\n"
    printf "|---|---|---|---|---|---|---|---|\n"
    printf "| stepgrad | %.2f | %.1f | %.1f | %.2f | %.0f%% | %.1f MB | %s |\n", sg, 1e3 / sg, sg_cpu, sg_g, 100 * sg_g / peak, sg_rss, sg_all
    printf "| PyTorch | %.2f | %.1f | %.1f | %.2f | %.0f%% | %.1f MB | %s |\n", torch, 1e3 / torch, torch_cpu, torch_g, 100 * torch_g / peak, torch_rss, torch_all
    printf "\nratio stepgrad / PyTorch: %.2fx in steps/s, %.2fx in CPU time per step (issue 18 target: >= 2x)\n", sg / torch, torch_cpu / sg_cpu
}'
