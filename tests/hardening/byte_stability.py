#!/usr/bin/env python3
"""Which outputs are byte-stable where (issue 13, case 16).

Runs one lesson with each kernel set this CPU has (STEPGRAD_KERNELS=reference, baseline,
avx2, avx512) and states, as assertions:
  - stdout is byte-identical across every kernel set (printed numbers are rounded to 4-6
    digits, far above the last-bit differences between sets);
  - stdout and --json are byte-identical across two runs with the same set (same seed,
    same bytes);
and reports, without failing, whether the --json bytes differ between sets: they may,
since --json writes every double in full (shortest round-trip form) and the sets sum in
different orders (FMA, lane count). The README's "Same seed, same bytes" says the same.

    byte_stability.py LESSON_PROGRAM STEPGRAD_BENCH WORK_DIR
"""
import hashlib
import os
import shutil
import subprocess
import sys

ARGS = ["--steps", "25", "--held-out", "40", "--trace", "full", "--seed", "2"]
SETS = ["reference", "baseline", "avx2", "avx512"]


def supported(bench):
    names = []
    for name in SETS:
        done = subprocess.run([bench, "--kernels", name, "--steps", "1", "--warmup", "0", "--batch", "1",
                               "--src-len", "2"], capture_output=True)
        if done.returncode == 0:
            names.append(name)
    return names


def run(program, work, kernel_set, tag):
    path = os.path.join(work, f"{tag}.json")
    env = dict(os.environ, STEPGRAD_KERNELS=kernel_set)
    done = subprocess.run([program] + ARGS + ["--json", path], capture_output=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{program} with STEPGRAD_KERNELS={kernel_set} failed:\n{done.stderr.decode()}")
    return done.stdout, open(path, "rb").read()


def main(program, bench, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    sets = supported(bench)
    failures = []
    outputs = {}
    for name in sets:
        first = run(program, work, name, f"{name}-1")
        second = run(program, work, name, f"{name}-2")
        if first != second:
            failures.append(f"{name}: two runs with the same seed differ")
        outputs[name] = first
    reference_stdout = outputs[sets[0]][0]
    for name in sets[1:]:
        if outputs[name][0] != reference_stdout:
            failures.append(f"stdout differs between the {sets[0]} and {name} kernels")
    digests = {name: hashlib.sha256(json_bytes).hexdigest()[:12] for name, (_, json_bytes) in outputs.items()}
    print(f"kernel sets here: {', '.join(sets)}")
    print("stdout: identical across them" if not failures else "stdout: DIFFERS")
    print("--json: " + ", ".join(f"{name} {digest}" for name, digest in digests.items()) +
          (" (identical)" if len(set(digests.values())) == 1 else " (differs between sets in the last bits: expected)"))
    for failure in failures:
        print("FAIL " + failure)
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    return len(failures)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
