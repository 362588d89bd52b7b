#!/usr/bin/env python3
"""A lesson's stdout must fit an 80-column terminal.

    screen_width.py [--expect REGEX]... -- <program> [args...]
        run it; fail unless it exits 0, every stdout line fits 80 columns and stdout
        matches each REGEX (Python syntax, searched in the whole of stdout)
    screen_width.py --file <out.txt> ...    measure files instead (prints the widest line)

Width is counted as a terminal shows it: East Asian Wide and Fullwidth characters
(汉字, fullwidth forms) take two columns, combining marks none, the rest one; ANSI
escape sequences take none. stderr (progress) is not measured.
"""
import re
import subprocess
import sys
import unicodedata

COLUMNS = 80
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def width(line: str) -> int:
    total = 0
    for ch in ANSI.sub("", line):
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def too_wide(text: str):
    """(line number, width, line) of every line wider than COLUMNS."""
    return [(n, width(line), line) for n, line in enumerate(text.split("\n"), 1) if width(line) > COLUMNS]


def widest(text: str):
    lines = text.split("\n")
    best = max(range(len(lines)), key=lambda k: width(lines[k]))
    return best + 1, width(lines[best]), lines[best]


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    if argv[1] == "--file":
        for path in argv[2:]:
            n, w, line = widest(open(path, encoding="utf-8").read())
            print(f"{path}: widest line {n}, {w} columns: {line}")
        return 0
    expected = []
    args = argv[1:]
    while args and args[0] == "--expect":
        expected.append(args[1])
        args = args[2:]
    if not args or args[0] != "--":
        sys.exit(__doc__)
    command = args[1:]
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if run.returncode != 0:
        sys.stdout.write(run.stderr.decode("utf-8", "replace"))
        print(f"screen_width.py: {' '.join(command)} exited with {run.returncode}")
        return 1
    text = run.stdout.decode("utf-8")
    failed = False
    for pattern in expected:
        if not re.search(pattern, text, re.MULTILINE):
            print(f"screen_width.py: stdout does not match {pattern!r}")
            failed = True
    wide = too_wide(text)
    for n, w, line in wide[:10]:
        print(f"line {n}: {w} columns (> {COLUMNS}): {line}")
    if wide:
        print(f"screen_width.py: {len(wide)} stdout lines wider than {COLUMNS} columns")
        failed = True
    if failed:
        return 1
    n, w, _ = widest(text)
    print(f"OK: every stdout line fits {COLUMNS} columns (widest: line {n}, {w})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
