#!/usr/bin/env bash
# bench/speed_table.sh — the README's speed table in one command. Builds stepgrad-bench
# (Release) and, when CMake finds libtorch, libtorch-bench; then, row by row, runs
# stepgrad-bench, eager PyTorch (bench/torch_bench.py with /usr/bin/python3) and
# libtorch-bench interleaved (s, p, l, s, p, l, …), N times each, and prints a markdown
# table of the medians: steps/s, the ratios stepgrad/PyTorch and stepgrad/libtorch, peak
# memory, and stepgrad's GFLOP/s against the fp64 peak stepgrad-bench probes. --scaling
# prints issue 19's scaling table instead: GRU + bahdanau + concat with one size varied at a
# time (m 12 → 100 → 400, H 64 → 256 → 512, B 1 → 32 → 128, layers 1 → 2), and under it how
# each series' step time grows next to its matrix-product FLOPs (stepgrad-bench's count).
#
#   bench/speed_table.sh                  # 5 runs of each: ~10 minutes on a 2-core VM
#   bench/speed_table.sh --quick          # 1 short run of each: a smoke test (~1 minute)
#   bench/speed_table.sh --scaling        # the scaling table: ~10–15 minutes, half of it m = 400
#   bench/speed_table.sh --runs 3 --build-dir build/release --jobs 2
#   bench/speed_table.sh --threads 2      # the default rows with 2 threads in all three
#
# All three run one thread (OPENBLAS_NUM_THREADS=1 and torch's set_num_threads(1)) — with
# --threads N, N: stepgrad-bench's data parallel shards, torch's and OpenBLAS's threads — float64,
# the same model and step (SPEC §4, and §11's stack for --layers; forward, backward,
# gradient-norm clip 1, Adam), the same sizes and the same vocabulary (--vocab counts <pad>
# <bos> <eos> in all three). The table goes to stdout; progress, the build log's tail on
# failure and each run's figures to stderr, and every run to <build-dir>/speed_table_runs.tsv
# (--scaling: speed_table_scaling_runs.tsv, with stepgrad's MFLOP/step). The machine should
# be otherwise idle: the load average before and after is printed with the table. One-thread
# runs all go to one CPU, BENCH_CPU (default 0), with taskset (bench/blas.sh says why).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=5
quick=0
scaling=0
threads=0  # 0: stepgrad-bench's one tape per batch, one thread everywhere
jobs=1  # one compile at a time by default: the build is a one-off, the timings are not
build_dir=$root/build/speed-table
python=${PYTHON:-/usr/bin/python3}

usage() {
    cat <<EOF
usage: bench/speed_table.sh [--runs N] [--quick] [--scaling] [--build-dir DIR] [--jobs N]
  --runs N         runs of each program per row, interleaved (default 5); the table shows medians
  --quick          a smoke test: a tenth of the steps, 1 run
  --scaling        the scaling rows instead of the default ones (issue 19): GRU + bahdanau +
                   concat, m 12 → 100 → 400, H 64 → 256 → 512, B 1 → 32 → 128, layers 1 → 2,
                   one size at a time; under the table, how each series' step time grows
                   next to its matrix-product FLOPs
  --build-dir DIR  where to build stepgrad-bench and libtorch-bench (default build/speed-table;
                   an existing build must be Release)
  --jobs N         parallel compile jobs (default 1)
  --threads N      N threads in all three programs: stepgrad-bench --threads N (shards of 16
                   examples on N threads), torch_bench.py and libtorch-bench --threads N
PyTorch is \$PYTHON (default /usr/bin/python3) running bench/torch_bench.py. With one thread,
every program runs on CPU \$BENCH_CPU (default 0) through taskset.
EOF
}

while (($#)); do
    case $1 in
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --quick) quick=1; shift ;;
        --scaling) scaling=1; shift ;;
        --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --threads) threads=${2:?--threads needs a number}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "speed_table.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "speed_table.sh: --runs needs a positive number" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "speed_table.sh: --jobs needs a positive number" >&2; exit 2; }
[[ $threads =~ ^[0-9]+$ ]] || { echo "speed_table.sh: --threads needs a number" >&2; exit 2; }
((quick)) && runs=1
[[ $build_dir = /* ]] || build_dir=$PWD/$build_dir

# ---------------------------------------------------------------------------------------
# The rows. Each is: label | flags for all three programs | which programs run it (s =
# stepgrad, p = PyTorch, l = libtorch) | warmup | stepgrad's --steps | PyTorch's and
# libtorch's --steps. Steps are chosen so one run takes ~2 s on an idle 2-core VM (the
# README's figures; 2–7 s when shared); the sizes not named are
# E = 32, H = 64, A = 64 (the three programs' default; stepgrad-bench refuses --attn where no
# score uses it), V = 32, m = 12.
rows=()

# rnn_row LABEL CELL DECODER SCORE B H m WARMUP STEPGRAD_STEPS TORCH_STEPS [LAYERS]
rnn_row() {
    local flags="--cell $2 --decoder $3"
    [[ $3 == plain ]] || flags+=" --score $4"  # stepgrad-bench refuses --score for plain
    flags+=" --embed 32 --hidden $6 --vocab 32 --src-len $7 --batch $5"
    ((${11:-1} == 1)) || flags+=" --layers ${11}"  # 1, every program's default, is left out
    rows+=("$1|$flags|spl|$8|$9|${10}")
}

#       label                                  cell decoder  score     B  H   m   warmup s-steps t-steps
rnn_row "GRU + bahdanau + concat, B = 1"        gru  bahdanau concat    1  64  12  10     1500    200
rnn_row "GRU + bahdanau + concat, B = 32"       gru  bahdanau concat    32 64  12  10     300     60
rnn_row "LSTM + bahdanau + qk-scaled, B = 32"   lstm bahdanau qk-scaled 32 64  12  10     200     60
rnn_row "plain GRU, B = 32"                     gru  plain    -         32 64  12  10     400     120
rnn_row "GRU + luong + general, B = 32"         gru  luong    general   32 64  12  10     300     60
rnn_row "GRU + bahdanau + concat, B = 32, H = 256" gru bahdanau concat  32 256 12  3      20      12
rnn_row "GRU + bahdanau + concat, B = 32, m = 100" gru bahdanau concat  32 64  100 2      15      4

# Transformer (SPEC §14), issue 18's configuration; libtorch-bench has no Transformer, so
# "l" is left out and its cells say "—" (bench/compare_transformer.sh: this pair alone)
transformer_flags="--model transformer --d-model 64 --heads 4 --layers 2 --d-ff 128 --vocab 32 --src-len 12 --batch 32"
rows+=("Transformer pre-norm (d = 64, h = 4, N = 2, d_ff = 128), B = 32|$transformer_flags --norm pre|sp|5|100|30")
rows+=("Transformer post-norm (d = 64, h = 4, N = 2, d_ff = 128), B = 32|$transformer_flags --norm post|sp|5|100|30")

# --scaling (issue 19): these rows instead. GRU + bahdanau + concat, the baseline E = 32,
# H = 64, A = 64, V = 32, m = 12, B = 32, 1 layer, with one size varied at a time. The
# baseline is every series' shared point (m's, H's and layers' first, B's middle): one row,
# labelled so, rather than four copies of one configuration that would differ only by noise.
# - A stays 64 as H grows, as E and V stay: one size at a time, and the H = 256 point is then
#   the default table's H = 256 row. All three programs take --attn with the same meaning and
#   the default 64, so it is left out, as above.
# - --layers 2 is SPEC §11's stack in all three: stepgrad-bench has it; torch_bench.py took
#   --layers only for the Transformer (its RNN model ignored it) and libtorch-bench not at
#   all, so both got it (a few lines each: layer ℓ > 1 reads layer ℓ−1's h, the decoder's
#   layer ℓ starts from the encoder's, keys and query from the top layer, c_j into layer 1).
#   torch_bench.py matches the golden 2-layer traces, and libtorch-bench's loss equals it.
# - Steps: one run of each program takes ~1–3 s where it can. The shared rows keep the default
#   table's counts (the baseline is its B = 32 row). Per step, stepgrad / PyTorch / libtorch,
#   measured on this 2-core VM: m = 400 2.2 s / 13 s / 13 s (and ~0.9 / 8 / 10 GB), H = 512
#   0.59 / 0.44 / 0.39 s, B = 128 34 / 91 / 87 ms, 2 layers 15 / 43 / 39 ms. So m = 400 gets
#   1 warm-up and 1 timed step: still ~30 s a run for PyTorch and for libtorch, and that
#   row's figures are one step's each, noisier than the rest.
declare -A size=()  # size[ROW,m], size[ROW,H], size[ROW,B], size[ROW,L]: a --scaling row's sizes
if ((scaling)); then
    rows=()
    # scaling_row LABEL m H B LAYERS WARMUP STEPGRAD_STEPS TORCH_STEPS
    scaling_row() {
        local row=${#rows[@]}
        size[$row,m]=$2 size[$row,H]=$3 size[$row,B]=$4 size[$row,L]=$5
        rnn_row "$1" gru bahdanau concat "$4" "$3" "$2" "$6" "$7" "$8" "$5"
    }
    # first: the cost block below the table finds each series as the rows that differ from it in one size
    baseline="baseline: m = 12, H = 64, B = 32, 1 layer (shared by every series)"
    #           label       m   H   B   L  warmup s-steps t-steps
    scaling_row "$baseline" 12  64  32  1  10     300     60
    scaling_row "m = 100"   100 64  32  1  2      15      4
    scaling_row "m = 400"   400 64  32  1  1      1       1
    scaling_row "H = 256"   12  256 32  1  3      20      12
    scaling_row "H = 512"   12  512 32  1  1      4       4
    scaling_row "B = 1"     12  64  1   1  10     1500    200
    scaling_row "B = 128"   12  64  128 1  3      60      20
    scaling_row "2 layers"  12  64  32  2  5      150     40
fi

log() { echo "$@" >&2; }

# --- 1. build ---
mkdir -p "$build_dir"
build_log=$build_dir/speed_table_build.log
configure=(-DSTEPGRAD_LIBTORCH_BENCH=ON)
if [[ -f $build_dir/CMakeCache.txt ]]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
    [[ $build_type == Release ]] || {
        log "speed_table.sh: $build_dir is a '$build_type' build; timings need Release (use another --build-dir)"
        exit 2
    }
else  # a fresh directory: only what the table needs
    configure+=(-DCMAKE_BUILD_TYPE=Release -DSTEPGRAD_BUILD_TESTS=OFF -DSTEPGRAD_BUILD_LESSONS=OFF)
fi
# (grep without -q: it reads to the end, so pipefail sees no SIGPIPE from cmake)
has_target() { cmake --build "$build_dir" --target help 2>/dev/null | grep "^\.\.\. $1\$" >/dev/null; }
build() {
    cmake -S "$root" -B "$build_dir" "${configure[@]}" || return
    # CMake did not find libtorch where it looks: try the one $python's torch ships (pip's)
    local torch_cmake
    if ! has_target libtorch-bench &&
        torch_cmake=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) &&
        [[ -d $torch_cmake/Torch ]]; then
        cmake -S "$root" -B "$build_dir" -DTorch_DIR="$torch_cmake/Torch" || return
    fi
    cmake --build "$build_dir" -j "$jobs" --target stepgrad-bench
}
log "building stepgrad-bench (and libtorch-bench if libtorch is found) in $build_dir, log: $build_log"
if ! build >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    log "speed_table.sh: the build failed (log: $build_log)"
    exit 1
fi
stepgrad_bench=$build_dir/stepgrad-bench
libtorch_bench=
if has_target libtorch-bench; then
    if cmake --build "$build_dir" -j "$jobs" --target libtorch-bench >>"$build_log" 2>&1; then
        libtorch_bench=$build_dir/libtorch-bench
    else
        tail -n 30 "$build_log" >&2
        log "speed_table.sh: libtorch-bench did not build (log: $build_log); its column says so"
    fi
fi
torch_version=$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null || true)

# --- 2. run ---
export OPENBLAS_NUM_THREADS=1
source "$root/bench/blas.sh"
warn_unless_openblas
use_fastest_openblas_kernels
runs_tsv=$build_dir/speed_table_runs.tsv
if ((scaling)); then  # its own file, so the default table's runs stay; with the FLOPs per step
    runs_tsv=$build_dir/speed_table_scaling_runs.tsv
    printf 'row\tprogram\trun\tsteps_per_s\tpeak_rss_mb\tgflops\tpercent_of_peak\tmflop_per_step\n' >"$runs_tsv"
else
    printf 'row\tprogram\trun\tsteps_per_s\tpeak_rss_mb\tgflops\tpercent_of_peak\n' >"$runs_tsv"
fi

# run_one PROGRAM FLAGS… → prints "steps_per_s peak_rss_mb [gflops percent peak kernels
# mflop_per_step]", or nothing when the program failed (its output then goes to stderr).
run_one() {
    local program=$1 output
    shift
    case $program in
        s) output=$(THREADS=$threads pinned_to_one_core "$stepgrad_bench" "$@" 2>&1) ;;
        p) output=$(THREADS=$threads pinned_to_one_core "$python" "$root/bench/torch_bench.py" "$@" 2>&1) ;;
        l) output=$(THREADS=$threads pinned_to_one_core "$libtorch_bench" "$@" 2>&1) ;;
    esac || { log "$output"; return 0; }
    local last
    last=$(tail -n 1 <<<"$output")
    [[ $last =~ steps_per_s=([0-9.]+).*peak_rss_mb=([0-9.]+) ]] || { log "$output"; return 0; }
    local figures="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
    # --scaling: below 10 steps/s the last line's two decimals are too few (m = 400 is 0.07,
    # one figure); all three print ms/step on their first line, with more figures there
    if ((scaling)) && [[ $output =~ ([0-9.]+)\ ms/step ]] && awk -v s="${figures%% *}" 'BEGIN { exit !(s < 10) }'; then
        figures="$(awk -v ms="${BASH_REMATCH[1]}" 'BEGIN { printf "%.4g", 1000 / ms }') ${figures#* }"
    fi
    # stepgrad-bench: "… : 20.61 GFLOP/s, 21% of this core's fp64 peak of 94.0 GFLOP/s (avx512 kernels)"
    if [[ $program == s && $output =~ :\ ([0-9.]+)\ GFLOP/s,\ ([0-9]+)%\ of\ this\ core.s\ fp64\ peak\ of\ ([0-9.]+)\ GFLOP/s\ \(([a-z0-9]+)\ kernels\) ]]; then
        figures+=" ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"
        # "… 152.6 MFLOP/step in matrix products: …": what --scaling's cost block compares
        if [[ $output =~ \ ([0-9.]+)\ MFLOP/step\ in\ matrix\ products ]]; then
            figures+=" ${BASH_REMATCH[1]}"
        fi
    fi
    echo "$figures"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# three significant figures, as the README: 823, 135, 82.3, 9.30 (--scaling: 0.465, 0.0748)
sig3() { awk -v x="$1" -v scaling="$scaling" 'BEGIN { if (x == "") print ""; else if (x >= 100) printf "%.0f", x; else if (x >= 10) printf "%.1f", x; else if (x >= 1 || !scaling) printf "%.2f", x; else printf "%.3g", x }'; }
mb() { awk -v x="$1" 'BEGIN { printf (x < 10 ? "%.1f" : "%.0f"), x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "**%.1f×**", a / b }'; }
# how many times a is b, for the cost block: ×41, ×8.0, ×1.9; — when one is missing
growth() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "—"; else printf (a / b >= 10 ? "×%.0f" : "×%.1f"), a / b }'; }

declare -A name=([s]=stepgrad [p]=PyTorch [l]=libtorch)
available() {  # available PROGRAM → why it cannot run, or nothing
    case $1 in
        p) [[ -n $torch_version ]] || echo "not installed" ;;
        l) [[ -n $libtorch_bench ]] || echo "not installed" ;;
    esac
}
uptime_before=$(uptime)
started=$SECONDS
table=()
peaks=()  # this core's fp64 peak as each stepgrad-bench run probed it
kernel_set=
declare -A row_med=() row_mflop=()  # row_med[ROW,PROGRAM]: the medians, for --scaling's cost block
for r in "${!rows[@]}"; do
    IFS='|' read -r label flags programs warmup s_steps t_steps <<<"${rows[r]}"
    if ((quick)); then
        warmup=1 s_steps=$(((s_steps + 9) / 10)) t_steps=$(((t_steps + 9) / 10))
    fi
    declare -A steps_per_s=() peak_mb=()
    gflops=() percent=() mflops=()
    for ((run = 1; run <= runs; ++run)); do
        for program in s p l; do
            [[ $programs == *$program* && -z $(available $program) ]] || continue
            steps=$t_steps
            [[ $program == s ]] && steps=$s_steps
            read -r -a flag_list <<<"$flags"
            ((threads == 0)) || flag_list+=(--threads "$threads")
            log "[$label] run $run/$runs: ${name[$program]} --steps $steps"
            read -r sps mb gf pct peak kernels mflop <<<"$(run_one $program "${flag_list[@]}" --warmup "$warmup" --steps "$steps")" || true
            [[ -n ${sps:-} ]] || { log "  failed"; continue; }
            log "  $sps steps/s, $mb MB${gf:+, $gf GFLOP/s ($pct% of $peak, $kernels kernels)}"
            steps_per_s[$program]+="$sps "
            peak_mb[$program]+="$mb "
            if [[ -n ${gf:-} ]]; then
                gflops+=("$gf") percent+=("$pct")
                peaks+=("$peak") kernel_set=$kernels
            fi
            [[ -z ${mflop:-} ]] || mflops+=("$mflop")
            if ((scaling)); then
                printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$label" "${name[$program]}" "$run" "$sps" "$mb" "${gf:-}" "${pct:-}" "${mflop:-}" >>"$runs_tsv"
            else
                printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\n' "$label" "${name[$program]}" "$run" "$sps" "$mb" "${gf:-}" "${pct:-}" >>"$runs_tsv"
            fi
        done
    done
    declare -A med=() mem=() cell=()
    for program in s p l; do
        med[$program]=$(tr ' ' '\n' <<<"${steps_per_s[$program]:-}" | grep . | median || true)
        mem[$program]=$(tr ' ' '\n' <<<"${peak_mb[$program]:-}" | grep . | median || true)
        row_med[$r,$program]=${med[$program]}
        if [[ $programs != *$program* ]]; then
            cell[$program]="—"
        elif [[ -n $(available $program) ]]; then
            cell[$program]=$(available $program)
        elif [[ -z ${med[$program]} ]]; then
            cell[$program]="failed"
        else
            cell[$program]=$(sig3 "${med[$program]}")
        fi
    done
    memory=""
    for program in s p l; do
        [[ -n ${mem[$program]} ]] && memory+=$(mb "${mem[$program]}") || memory+="—"
        [[ $program == l ]] || memory+=" / "
    done
    gf_cell="—"
    if ((${#gflops[@]})); then
        gf_cell="$(printf '%.1f' "$(printf '%s\n' "${gflops[@]}" | median)") ($(printf '%s\n' "${percent[@]}" | median | xargs printf '%.0f') %)"
    fi
    ((${#mflops[@]} == 0)) || row_mflop[$r]=$(printf '%s\n' "${mflops[@]}" | median)
    sp=$(ratio "${med[s]}" "${med[p]}")
    sl=$(ratio "${med[s]}" "${med[l]}")
    table+=("| $label | ${cell[s]} | ${cell[p]} | ${cell[l]} | ${sp:-—} | ${sl:-—} | $memory MB | $gf_cell |")
    unset steps_per_s peak_mb med mem cell
done
uptime_after=$(uptime)

# --- 3. the table ---
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "Steps/s of the full training step (forward, backward, clip, Adam): the median of $runs interleaved run(s) of each program$( ((quick)) && echo ' (--quick: a tenth of the steps, a smoke test, not a measurement)')."
if ((scaling)); then
    echo "One thread, float64; GRU + bahdanau + concat, E = 32, H = 64, A = 64 (also when H grows), V = 32, m = 12, B = 32, 1 layer unless the row says otherwise. $(nproc) cores, $cpu;"
else
    echo "$( ((threads)) && echo "$threads threads (stepgrad: shards of 16 examples)" || echo "One thread"), float64; E = 32, H = 64, A = 64, V = 32, m = 12 unless the row says otherwise. $(nproc) cores, $cpu;"
fi
if ((${#peaks[@]})); then
    peak_line="fp64 peak probed by stepgrad-bench $(printf '%s\n' "${peaks[@]}" | median | xargs printf '%.1f') GFLOP/s"
    peak_line+=" (median; $(printf '%s\n' "${peaks[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }') over its runs), $kernel_set kernels"
fi
echo "${peak_line:-stepgrad-bench did not run}. PyTorch ${torch_version:-not installed} (eager, $python),"
echo "libtorch $([[ -n $libtorch_bench ]] && echo "$("$libtorch_bench" --steps 1 --warmup 0 --batch 1 --src-len 1 | sed -n '1s/^libtorch \([^ ]*\) .*/\1/p') (C++, libtorch-bench)" || echo "not installed"). Took $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s."
echo "Load before: ${uptime_before#*load average: }; after: ${uptime_after#*load average: } (1, 5, 15 min)."
echo "PyTorch and libtorch's BLAS: $(blas_library), kernels: $(openblas_kernels); $(THREADS=$threads pinning_note)."
echo
echo "| configuration | stepgrad | PyTorch | libtorch | stepgrad / PyTorch | stepgrad / libtorch | peak memory stepgrad / PyTorch / libtorch | stepgrad GFLOP/s (% of peak) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
if ((scaling)); then
    # Each series: the rows with the baseline's (row 0's) sizes but one; its smallest and
    # largest point. Step time is 1 / the median steps/s; the FLOPs are stepgrad-bench's
    # count of the matrix products (forward and backward), the same work in all three.
    echo
    echo "How cost grows from each series' smallest point to its largest (the size's own ratio in parentheses): each program's step time (1 / the median steps/s above) and the FLOPs per step in matrix products (stepgrad-bench's count, forward and backward)."
    echo
    declare -A series_name=([m]=m [H]=H [B]=B [L]=layers)
    for varied in m H B L; do
        lo= hi=
        for r in "${!rows[@]}"; do
            on_series=1
            for other in m H B L; do
                [[ $other == "$varied" || ${size[$r,$other]} == "${size[0,$other]}" ]] || on_series=0
            done
            ((on_series)) || continue
            [[ -n $lo ]] && ((${size[$r,$varied]} >= ${size[$lo,$varied]})) || lo=$r
            [[ -n $hi ]] && ((${size[$r,$varied]} <= ${size[$hi,$varied]})) || hi=$r
        done
        [[ $lo != "$hi" ]] || continue
        line="- ${series_name[$varied]} ${size[$lo,$varied]} → ${size[$hi,$varied]} ($(growth "${size[$hi,$varied]}" "${size[$lo,$varied]}")): step time"
        for program in s p l; do
            line+=" $(growth "${row_med[$lo,$program]:-}" "${row_med[$hi,$program]:-}") ${name[$program]}"
            [[ $program == l ]] || line+=","
        done
        echo "$line; matrix-product FLOPs $(growth "${row_mflop[$hi]:-}" "${row_mflop[$lo]:-}")"
    done
fi
echo
echo "Every run: $runs_tsv"
