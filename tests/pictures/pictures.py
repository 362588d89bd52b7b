#!/usr/bin/env python3
"""The pictures the lessons draw (--svg, --dot), checked against the numbers they show;
and lesson 07's Ctrl-C, which keeps the models that finished.

    pictures.py svg PROGRAM WORK          05/06: α of the traced example as SVG
    pictures.py svg07 PROGRAM WORK        07: one heatmap per attention model
    pictures.py dot PROGRAM WORK          01/02: Graphviz DOT that `dot -Tsvg` renders
    pictures.py bad PROGRAM WORK FLAG     a picture flag given a bad path: exit 2, nothing written
    pictures.py interrupt PROGRAM WORK    07: SIGINT once the short models finished

An SVG must be well-formed XML (xml.etree parses it) with one <rect class="cell"> per α,
whose tooltip gives that α (as the --json of the same run has it) and its two tokens. A
DOT file must render with graphviz's `dot` (exit 77, a skip, when it is not installed:
bash .ci/deps installs it); lesson 01's arrows carry ∂node/∂input, from which every
printed gradient is recomputed. Adding a picture flag must not change stdout. Nothing
here measures time: a slow machine passes as a fast one does.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
TOOLTIP = re.compile(r"^α = (\S+) · row (\d+) '(.*)' · column (\d+) '(.*)'$")
SKIP = 77


class Failed(Exception):
    pass


def run(args, expect=0):
    done = subprocess.run(args, capture_output=True, timeout=600)
    if done.returncode != expect:
        raise Failed(f"{' '.join(args)}: exit {done.returncode}, expected {expect}\n"
                     f"stderr: {done.stderr.decode('utf-8', 'replace')[-1500:]}")
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def same_stdout(program, args, extra):
    """stdout with the picture flag is stdout without it (lesson 07 adds its section 5)."""
    plain, _ = run([program] + args)
    drawn, _ = run([program] + args + extra)
    if drawn != plain and not drawn.startswith(plain):
        raise Failed(f"{' '.join(extra)} changed stdout")
    return drawn


def shown(token):
    return "␣" if token == " " else token


def check_heatmap(panel, alpha, src, tgt, where):
    """One <g class="heatmap">: a cell per α in row-major order, each tooltip holding α
    to 6 decimals and its tokens; every token a label."""
    cells = [e for e in panel.iter(SVG + "rect") if e.get("class") == "cell"]
    expected = sum(len(row) for row in alpha)
    if len(cells) != expected:
        raise Failed(f"{where}: {len(cells)} cells for {expected} α values")
    for cell, (j, i) in zip(cells, [(j, i) for j in range(len(alpha)) for i in range(len(alpha[j]))]):
        title = cell.find(SVG + "title")
        match = TOOLTIP.match(title.text if title is not None else "")
        if not match:
            raise Failed(f"{where}: cell ({j + 1}, {i + 1}) has no tooltip 'α = … · row … · column …'")
        value, row, row_token, column, column_token = match.groups()
        if (int(row), int(column), row_token, column_token) != (j + 1, i + 1, tgt[j], src[i]):
            raise Failed(f"{where}: cell ({j + 1}, {i + 1}) says row {row} '{row_token}', column {column} "
                         f"'{column_token}'; expected '{tgt[j]}', '{src[i]}'")
        if abs(float(value) - alpha[j][i]) > 5e-7:
            raise Failed(f"{where}: cell ({j + 1}, {i + 1}) shows α = {value}, the trace has {alpha[j][i]!r}")
    labels = {e.text for e in panel.iter(SVG + "text")}
    missing = {shown(t) for t in src + tgt} - labels
    if missing:
        raise Failed(f"{where}: no label for the tokens {sorted(missing)}")


def parse_svg(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise Failed(f"{path} is not well-formed XML: {e}")
    if root.tag != SVG + "svg":
        raise Failed(f"{path}: the root element is {root.tag}, not svg")
    return [g for g in root.iter(SVG + "g") if g.get("class") == "heatmap"]


def case_svg(program, work):
    """05 or 06, quick: the SVG against the --json trace of the same run; then a task
    with Chinese tokens, when this build has one."""
    svg, trace = os.path.join(work, "alpha.svg"), os.path.join(work, "trace.json")
    quick = ["--steps", "20", "--held-out", "20", "--trace", "none", "--json", trace]
    same_stdout(program, quick, ["--svg", svg])
    with open(trace, encoding="utf-8") as f:
        t = json.load(f)
    panels = parse_svg(svg)
    if len(panels) != 1:
        raise Failed(f"{svg}: {len(panels)} heatmaps, expected 1")
    check_heatmap(panels[0], [step["alpha"] for step in t["decoder"]], [t["src_vocab"][i] for i in t["src"]],
                  [t["tgt_vocab"][i] for i in t["tgt"]], svg)
    print(f"{svg}: a cell per α, each as the trace has it")
    help_text, _ = run([program, "--help"])
    if "en-zh" in help_text:
        chinese = ["--task", "en-zh", "--steps", "2", "--held-out", "5", "--trace", "none", "--json", trace]
        run([program] + chinese + ["--svg", svg])
        with open(trace, encoding="utf-8") as f:
            t = json.load(f)
        tgt = [t["tgt_vocab"][i] for i in t["tgt"]]
        if not any(ord(c) > 0x2e80 for token in tgt for c in token):
            raise Failed(f"en-zh: no Chinese target token in {tgt}")
        check_heatmap(parse_svg(svg)[0], [step["alpha"] for step in t["decoder"]],
                      [t["src_vocab"][i] for i in t["src"]], tgt, svg + " (en-zh)")


def case_svg07(program, work):
    """07 --quick: one heatmap per attention model, each against --json's α maps."""
    svg, results = os.path.join(work, "alpha.svg"), os.path.join(work, "results.json")
    out = same_stdout(program, ["--quick", "--trace", "none", "--json", results], ["--svg", svg])
    if f"{svg}: α at L = " not in out:
        raise Failed("section 5 must name the --svg file")
    with open(results, encoding="utf-8") as f:
        maps = json.load(f)["alignments"]
    panels = parse_svg(svg)
    if len(panels) != len(maps):
        raise Failed(f"{svg}: {len(panels)} heatmaps for {len(maps)} attention models")
    for panel, m in zip(panels, maps):
        check_heatmap(panel, m["alpha"], m["src_tokens"], m["tgt_tokens"], f"{svg} ({m['model']})")
    print(f"{svg}: {len(panels)} heatmaps, a cell per α, each as the results file has it")


def dot_records(text):
    """{id: fields} of every record node, and the arrows as (from, to, label or None)."""
    records = {node: [f.strip() for f in label.split(" | ")] for node, label in
               re.findall(r'^\s*"([^"]+)" \[shape=record, label="\{ (.*) \}"\];$', text, re.M)}
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[label="([^"]*)"\])?;$', text, re.M)
    return records, edges


def check_gradients(text):
    """Lesson 01: each value's grad is Σ over the ops that use it of the op's output grad ×
    ∂output/∂value, the number on the arrow (all printed to 4 decimals)."""
    records, edges = dot_records(text)
    grad = {node: float(fields[2].split()[1]) for node, fields in records.items()}
    produces = {source: target for source, target, label in edges if not label}  # op node → its value
    sums, scale = {}, {}
    for source, op, label in edges:
        if label:
            term = grad[produces[op]] * float(label)
            sums[source] = sums.get(source, 0.0) + term
            scale[source] = scale.get(source, 0.0) + abs(grad[produces[op]]) + abs(float(label)) + 1
    if len(sums) + 2 != len(grad):  # every value but the two graphs' outputs feeds an op
        raise Failed(f"{len(sums)} values feed an op, of {len(grad)}")
    for node, total in sums.items():
        if abs(total - grad[node]) > 1e-4 * scale[node]:
            raise Failed(f"{node}: grad {grad[node]} but the arrows give Σ = {total}")


def case_dot(program, work):
    """01 or 02: --dot renders with graphviz; 01's gradients recomputed from the arrows."""
    path = os.path.join(work, "graph.dot")
    same_stdout(program, [], ["--dot", path])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    records, edges = dot_records(text)
    if "01_" in os.path.basename(program):
        check_gradients(text)
    elif (len(records), len(edges)) != (12, 11):  # the MLP's tape: 12 entries, 11 arrows
        raise Failed(f"{path}: {len(records)} entries and {len(edges)} arrows; expected 12 and 11")
    if not shutil.which("dot"):
        print("skipped rendering: graphviz's `dot` is not installed (bash .ci/deps installs it)")
        return SKIP
    rendered, _ = run(["dot", "-Tsvg", path])
    try:
        ET.fromstring(rendered.encode("utf-8"))
    except ET.ParseError as e:
        raise Failed(f"dot -Tsvg {path} gave malformed SVG: {e}")
    print(f"dot -Tsvg rendered {len(records)} records and {len(edges)} arrows")


def case_bad(program, work, flag):
    """A bad path for a picture flag: exit 2, one error line naming the flag, nothing on
    stdout, nothing written."""
    folder = os.path.join(work, "folder")
    os.makedirs(folder)
    other = "--json" if "05_" in program or "06_" in program or "07_" in program else None
    cases = [([flag, ""], f"{flag}: expected"),
             ([flag, folder], f"{flag}: {folder} is a folder"),
             ([flag, os.path.join(work, "missing", "x")], f"{flag}: cannot write")]
    if other:
        # two spellings of one path (relative ones are not compared well yet: "x" vs "./x")
        cases.append(([other, os.path.join(work, "same"), flag, os.path.join(work, ".", "same")], "name the same file"))
    if "07_" in program:
        cases.append((["--models", "plain", flag, os.path.join(work, "x.svg")], f"{flag} has no effect"))
    for args, needle in cases:
        out, err = run([program] + args, expect=2)
        lines = err.splitlines()
        name = os.path.basename(program)
        if out or not lines or not lines[0].startswith(f"{name}: error: ") or needle not in lines[0] or len(lines) > 2:
            raise Failed(f"{name} {args}: expected one error line containing {needle!r} and no stdout; "
                         f"got stdout {out[-300:]!r}, stderr {err[-600:]!r}")
        if sorted(os.listdir(work)) != ["folder"] or os.listdir(folder):
            raise Failed(f"{name} {args}: files left behind: {sorted(os.listdir(work))}")
    print(f"{len(cases)} bad paths refused")


def accuracy_rows(out):
    """Lesson 07's rows for L = 3 in its two accuracy tables: whole sequences, tokens."""
    after = out.split("whole sequences exactly right", 1)[-1]
    return re.findall(r"^  3 +([0-9.]+) +([0-9.]+)$", after, re.M)[:2]


def case_interrupt(program, work):
    """07 with one short and one long length, all four models at once: SIGINT once both
    models of length 3 printed their last progress line (the long ones are then a tenth
    of the way at most). Exit 130; stdout has the finished rows, the accuracy a run of
    length 3 alone gets, and names the models that did not finish."""
    common = ["--models", "plain,concat", "--steps", "300", "--held-out", "40", "--trace", "none"]
    process = subprocess.Popen([program, "--lengths", "3,40", "--jobs", "4"] + common,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finished = set()
    for line in process.stderr:  # progress lines: "plain L=3  step  1000/1000  …"
        match = re.match(r"(\S+) L=3  step +(\d+)/(\d+)", line)
        if match and match.group(2) == match.group(3):
            finished.add(match.group(1))
            if len(finished) == 2:
                process.send_signal(signal.SIGINT)
                break
    out, err = process.communicate(timeout=600)
    if process.returncode != 130:
        raise Failed(f"exit {process.returncode} after SIGINT, expected 130; stderr: {err[-1000:]}")
    rows = accuracy_rows(out)
    if len(rows) != 2 or not re.search(r"^  40 +— +—$", out, re.M):
        raise Failed(f"stdout must show the length-3 rows and '—' for length 40:\n{out}")
    if "Not finished: plain L = 40" not in out or "concat L = 40" not in out.split("Not finished:")[1]:
        raise Failed(f"stdout must name the models that did not finish:\n{out}")
    alone, _ = run([program, "--lengths", "3", "--jobs", "2"] + common)
    if accuracy_rows(alone) != rows:
        raise Failed(f"the finished rows {rows} differ from a run of length 3 alone:\n{alone}")
    print(f"interrupted: the finished rows {rows} kept, the others named, exit 130")


def main(argv):
    case, program, work = argv[1], argv[2], argv[3]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cases = {"svg": case_svg, "svg07": case_svg07, "dot": case_dot, "interrupt": case_interrupt,
             "bad": lambda p, w: case_bad(p, w, argv[4])}
    try:
        code = cases[case](program, work) or 0
    except Failed as failure:
        print(f"FAIL {case} {os.path.basename(program)}: {failure}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
