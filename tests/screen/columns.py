#!/usr/bin/env python3
"""Columns line up by display width, CJK labels included.

    columns.py [--seed-004] -- <program> [args...]

Runs a lesson that prints α tables and an α heatmap (05 --task en-zh --sentence "Tom
chases Jerry": Chinese row labels) and checks, counting display columns as a terminal
does (screen_width.width: 汉字 are two wide):
  - every α table (header "i  x_i  e_j,i = …  α_j,i"): each row's x_i, e and α end at
    the display column where their header ends (right-aligned), and the rule under the
    header is as wide as the widest line of the table;
  - the α heatmap: every row's two │ at the same display columns, and each column label
    starting at the display column where that column's cells start;
  - with --seed-004, seed 004's side-by-side tables: each number ends where its header
    ends.
"""
import re
import subprocess
import sys

from screen_width import width

failures = []


def fail(message):
    failures.append(message)


def end_column(line, match_end):
    """The display column just after the first match_end characters of line."""
    return width(line[:match_end])


def fields(line):
    """(start column, end column, text) of each run of non-spaces."""
    out = []
    for m in re.finditer(r"\S+", line):
        out.append((width(line[: m.start()]), width(line[: m.end()]), m.group()))
    return out


def check_alpha_tables(lines):
    tables = 0
    for k, line in enumerate(lines):
        header = re.match(r"^  i\s+x_i\s+(e_\d+,i = .+?)\s{2,}(α_\d+,i)", line)
        if not header:
            continue
        tables += 1
        ends = [end_column(line, line.index("x_i") + 3), end_column(line, header.end(1)), end_column(line, header.end(2))]
        rule = lines[k + 1]
        body = []
        for row in lines[k + 2:]:
            if not re.match(r"^\s+\d+\s", row):
                break
            body.append(row)
        if not body:
            fail(f"line {k + 1}: α table without rows")
            continue
        for row in body:
            f = fields(row)
            got = [f[1][1], f[2][1], f[3][1]]  # x_i, e, α
            if got != ends:
                fail(f"α table at line {k + 1}: row {row!r} ends its columns at {got}, the header at {ends}")
        widest = max(width(l) for l in [line] + body)
        if width(rule) != widest:
            fail(f"α table at line {k + 1}: rule {width(rule)} columns, the table {widest}")
    if tables == 0:
        fail("no α table found")


def check_heatmap(lines):
    try:
        k = next(i for i, l in enumerate(lines) if l.strip() == "α: target tokens down, source tokens across")
    except StopIteration:
        fail("no α heatmap found")
        return
    labels = fields(lines[k + 1])
    rows = []
    for row in lines[k + 2:]:
        if "│" not in row:
            break
        rows.append(row)
    bars = {tuple(width(row[: m.start()]) for m in re.finditer("│", row)) for row in rows}
    if len(bars) != 1:
        fail(f"heatmap: the │ of its rows stand at different columns: {sorted(bars)}")
        return
    left = next(iter(bars))[0] + 1  # the first cell starts after the │
    # cells are the label's width (at least 4) apart, separated by one space
    start = left
    for begin, end, text in labels:
        if begin != start:
            fail(f"heatmap: label {text!r} starts at column {begin}, its cells at {start}")
        start += max(4, end - begin) + 1
    if start - 1 != next(iter(bars))[1]:
        fail(f"heatmap: the cells end at column {start - 1}, the closing │ is at {next(iter(bars))[1]}")
    if not any(width(ch) == 2 for ch in "".join([lines[k + 1]] + rows)):
        fail("heatmap: no Chinese label (run it on en-zh or zh-en)")


def check_seed_tables(lines):
    for k, line in enumerate(lines):
        if not re.match(r"^  model\s+Tom\s+chases\s+Jerry\s+seed 004\s+Tom\s+chases\s+Jerry$", line):
            continue
        header_ends = [end for _, end, text in fields(line) if text in ("Tom", "chases", "Jerry")]
        for row in lines[k + 2:k + 5]:
            numbers = [end for _, end, text in fields(row) if re.fullmatch(r"\d\.\d+", text)]
            if numbers != header_ends:
                fail(f"seed 004 tables: row {row!r} ends its numbers at {numbers}, the headers at {header_ends}")
        return
    fail("seed 004's table was not printed")


def main(argv):
    seed_004 = len(argv) > 1 and argv[1] == "--seed-004"
    args = argv[2:] if seed_004 else argv[1:]
    if len(args) < 2 or args[0] != "--":
        sys.exit(__doc__)
    run = subprocess.run(args[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if run.returncode != 0:
        sys.stdout.write(run.stderr.decode("utf-8", "replace"))
        print(f"columns.py: exited with {run.returncode}")
        return 1
    lines = run.stdout.decode("utf-8").split("\n")
    check_alpha_tables(lines)
    check_heatmap(lines)
    if seed_004:
        check_seed_tables(lines)
    for message in failures:
        print("columns.py:", message)
    if not failures:
        print("OK: the α tables and the heatmap line up" + (", and seed 004's tables" if seed_004 else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
