#!/usr/bin/env python3
"""Recorded lesson output: a lesson's stdout must stay byte for byte what was recorded.

    recorded.py check  <recorded.txt> -- <program> [args...]   run it and compare stdout
    recorded.py record <recorded.txt> -- <program> [args...]   run it and (re)write the file

tests/CMakeLists.txt registers one `check` per file (ctest -L recorded). When a change of
a lesson's output is intended, re-record every file with the build's own programs:

    STEPGRAD_RECORD=1 ctest --test-dir <build> -L recorded

(the variable turns `check` into `record`), and commit the new files with the change.
The lesson runs with stdout not a terminal, so colour is off; stderr (progress, timing)
is not compared. Record with a build of the release preset: the checks are registered
only in such builds, since another optimisation level, -march or the sanitizers can move
a result by an ulp (lesson 03 prints differences of 1e-16). The kernels' instruction set
(baseline, AVX2, AVX-512: the CPU decides) can too, so record on the kind of machine CI uses.
"""
import os
import shlex
import subprocess
import sys

SHOWN_DIFFERENCES = 5  # how many differing lines a failure prints


def usage():
    sys.exit(__doc__.split("\n\n")[1])


def first_differences(recorded: bytes, actual: bytes):
    """The first differing lines as (line number, recorded line, actual line)."""
    old, new = recorded.split(b"\n"), actual.split(b"\n")
    out = []
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        if a != b:
            out.append((i + 1, a, b))
            if len(out) == SHOWN_DIFFERENCES:
                break
    return out


def shown(line):
    return "(no such line)" if line is None else line.decode("utf-8", "replace")


def main(argv):
    if len(argv) < 5 or argv[1] not in ("check", "record") or argv[3] != "--":
        usage()
    mode, path, command = argv[1], argv[2], argv[4:]
    if mode == "check" and os.environ.get("STEPGRAD_RECORD"):
        mode = "record"
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    name = shlex.join(command)
    if run.returncode != 0:
        print(run.stderr.decode("utf-8", "replace"), end="")
        print(f"recorded.py: {name} exited with {run.returncode}")
        return 1
    if mode == "record":
        with open(path, "wb") as f:
            f.write(run.stdout)
        print(f"recorded.py: recorded {len(run.stdout)} bytes of {name} in {path}")
        return 0

    rerecord = (f"re-record every file with\n"
                f"    STEPGRAD_RECORD=1 ctest --test-dir <build> -L recorded\n"
                f"or this one alone with\n"
                f"    {shlex.join([sys.executable, argv[0], 'record', path, '--', *command])}")
    if not os.path.exists(path):
        print(f"recorded.py: no recorded output {path} yet: {rerecord}")
        return 1
    with open(path, "rb") as f:
        recorded = f.read()
    if recorded == run.stdout:
        print(f"recorded.py: stdout of {name} is the recorded {len(recorded)} bytes")
        return 0
    lines_then, lines_now = recorded.count(b"\n"), run.stdout.count(b"\n")
    print(f"recorded.py: stdout of {name} differs from {path} "
          f"({lines_then} lines recorded, {lines_now} now).")
    for line, old, new in first_differences(recorded, run.stdout):
        print(f"line {line}:\n  recorded: {shown(old)}\n  now:      {shown(new)}")
    print(f"If the change is intended, {rerecord}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
