#!/usr/bin/env python3
"""The bad-input battery (issue 8): runs one program with many bad command lines and
checks each answer: exit code 2, never a signal or a hang; on stderr one line
"PROGRAM: error: …" naming the flag (or token) and what is allowed, then at most the
usage line, nothing else (no exception trace, no sanitizer report); and no file left
behind, not even a temporary one.

    bad_inputs.py --program build/05_concat_attention --work DIR
                  [--lesson 04=PATH --lesson 05=PATH --lesson 06=PATH --lesson 10=PATH]

The cases come from two places:
  - the program's own --help, which must list every flag with its default: each flag
    gets bad values of its kind (a number flag: missing value, not a number, trailing
    junk, below and above its range, 10^9, …; a choice: a word not among them; an
    on/off flag: a value), so a flag added tomorrow is covered without editing this file;
  - for the seq2seq lessons (those with --load), written-out cases: conflicting flags,
    impossible lengths, unwritable outputs, damaged and other-model checkpoints,
    checkpoints that contradict explicit flags, unknown tokens in --sentence — and a
    few command lines that must succeed, so the rules are not stricter than meant.
Every case that fails is reported with its command line and output; the exit code is
the number of failures (capped at 100).

With --interrupt it instead checks Ctrl-C: SIGINT during training stops at a step
boundary, exits 130 and leaves a checkpoint that loads.
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

TIMEOUT = int(os.environ.get("STEPGRAD_BATTERY_TIMEOUT", "120"))  # seconds per run: generous for the sanitizer build on a busy machine

HELP_ROW = re.compile(
    r"^  (?P<flag>--[a-z0-9-]+)(?: (?P<value>\S+))?\s+(?P<help>.*) "
    r"\((?:(?P<allowed>from \S+ to \S+|≥ \S+|≤ \S+), )?default: (?P<default>.*)\)$")
RANGE = re.compile(r"from (\S+) to (\S+)")


def fresh_folder(work, number):
    """An empty folder for case `number` under `work`: what a case leaves there is checked."""
    folder = os.path.join(work, f"case{number:03}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


class Battery:
    def __init__(self, program, work):
        self.program = program
        self.name = os.path.basename(program)
        self.work = work
        self.failures = []
        self.count = 0

    def run(self, args, timeout=TIMEOUT):
        try:
            done = subprocess.run([self.program] + args, capture_output=True, timeout=timeout)
            return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            return "timeout", (e.stdout or b"").decode("utf-8", "replace"), (e.stderr or b"").decode("utf-8", "replace")

    def fail(self, args, why, code, out, err):
        self.failures.append(f"{self.name} {shlex.join(args)}\n  {why}\n  exit: {code}\n"
                             f"  stdout: {out[-600:]!r}\n  stderr: {err[-1500:]!r}")

    def case_dir(self):
        self.count += 1
        return fresh_folder(self.work, self.count)

    def expect_error(self, args, *needles, outputs=(), quiet=True):
        """Exit 2, one error line containing every needle (the usage line may follow),
        nothing on stdout when `quiet`, and no file in the case's folder afterwards.
        `outputs` are flags (--json, --save, --csv) pointed into that folder first, so
        a run that wrote anything before failing is caught."""
        folder = self.case_dir()
        extra = []
        for flag in outputs:
            if flag not in args and not any(a.startswith(flag + "=") for a in args):
                extra += [flag, os.path.join(folder, "out" + flag.replace("--", "."))]
        full = extra + list(args)
        code, out, err = self.run(full)
        lines = err.splitlines()
        problems = []
        if code != 2:
            problems.append("expected exit code 2" +
                            (" (killed by a signal)" if isinstance(code, int) and code < 0 else ""))
        if not lines or not lines[0].startswith(f"{self.name}: error: "):
            problems.append(f"stderr must start with '{self.name}: error: '")
        elif any(needle not in lines[0] for needle in needles):
            problems.append(f"the error line must contain {needles!r}")
        if len(lines) > 2 or (len(lines) == 2 and not lines[1].startswith(f"usage: {self.name} ")):
            problems.append("stderr must be one error line, then at most the usage line")
        if quiet and out:
            problems.append("nothing may be printed on stdout before a usage error")
        if os.listdir(folder):
            problems.append(f"files left behind: {sorted(os.listdir(folder))}")
        if problems:
            self.fail(full, "; ".join(problems), code, out, err)
        shutil.rmtree(folder, ignore_errors=True)

    def expect_success(self, args):
        code, out, err = self.run(list(args))
        if code != 0:
            self.fail(list(args), "expected exit code 0", code, out, err)
        return out

    # ---- the flags, from --help ----

    def flags_from_help(self):
        code, out, err = self.run(["--help"])
        if code != 0 or err or not out.startswith(self.name):
            self.fail(["--help"], "--help must exit 0, print the help on stdout and nothing on stderr", code, out, err)
            return []
        flags = []
        for line in out.splitlines():
            if not line.startswith("  -"):
                continue
            if line.startswith("  -h, --help"):
                continue
            match = HELP_ROW.match(line)
            if not match:
                self.fail(["--help"], f"help row without '(… default: …)': {line!r}", code, out, err)
                continue
            flags.append(match.groupdict())
        if not flags:
            self.fail(["--help"], "--help lists no flags", code, out, err)
        code_h, out_h, err_h = self.run(["-h"])
        if code_h != 0 or out_h != out:
            self.fail(["-h"], "-h must print the same help as --help", code_h, out_h, err_h)
        return flags

    def generic_cases(self, flags):
        # every PATH flag but --load is an output (--json, --save, --csv, --svg, --dot)
        outputs = [f["flag"] for f in flags if f["value"] == "PATH" and f["flag"] != "--load"]
        self.expect_error(["--bogus-flag"], "unknown flag '--bogus-flag'", outputs=outputs)
        self.expect_error(["--bogus-flag=3"], "unknown flag '--bogus-flag'", outputs=outputs)
        self.expect_error(["stray"], "unexpected argument 'stray'", outputs=outputs)
        longest = max((f["flag"] for f in flags), key=len)
        typo = longest[:4] + longest[5:]  # one letter dropped
        self.expect_error([typo], f"unknown flag '{typo}'; did you mean --", outputs=outputs)
        # each flag: a value of the wrong kind, and one out of range; the rotation gives
        # every program every kind of mistake while keeping the runs few
        malformed = ["", "abc", "12abc", "1.5", "0x10", " 7", "+3", "99999999999999999999999", "1e3"]
        rotation = 0
        for f in flags:
            flag, value, default = f["flag"], f["value"], f["default"]
            if value is None:  # on/off
                self.expect_error([f"{flag}=yes"], f"{flag}: takes no value, got 'yes'", outputs=outputs)
                continue
            # missing value: last on the line, and followed by another flag
            self.expect_error([flag], f"{flag}: missing value", outputs=outputs)
            if value in ("N", "X"):
                kind = "whole number" if value == "N" else "a number"
                lo = hi = None
                if f["allowed"] and RANGE.fullmatch(f["allowed"]):
                    lo, hi = RANGE.fullmatch(f["allowed"]).groups()
                bad = malformed[rotation % len(malformed)]
                rotation += 1
                if value == "X" and bad in ("1.5", "1e3", "99999999999999999999999"):
                    bad = {"1.5": "nan", "1e3": "inf"}.get(bad, "1e999")
                self.expect_error([f"{flag}={bad}"], f"{flag}: expected", kind, f"got '{bad}'", outputs=outputs)
                out_of_range = []
                if hi is not None:
                    out_of_range.append(str(int(hi) + 1) if value == "N" else repr(float(hi) * 10))
                    if value == "N" and int(hi) < 10**9:
                        out_of_range.append("1000000000")
                if lo is not None and (value == "X" or int(lo) > -(2**31)):
                    out_of_range.append(str(int(lo) - 1) if value == "N" else repr(float(lo) - 1))
                if lo is None and f["allowed"] is None and value == "N" and "non-negative" in self.expects(flag):
                    out_of_range.append("-1")
                for bad in out_of_range:
                    needles = [f"{flag}: expected", f"got '{bad}'"] + ([f["allowed"]] if f["allowed"] else [])
                    self.expect_error([flag, bad], *needles, outputs=outputs)
                # the default itself given twice
                self.expect_error([flag, default, flag, default], f"{flag}: given twice", outputs=outputs)
            elif "|" in value:
                choices = value.split("|")
                self.expect_error([flag, "bogus"], f"{flag}: expected one of {', '.join(choices)}, got 'bogus'",
                                  outputs=outputs)
            elif value == "PATH" and flag != "--load":
                # a folder that does not exist: the flag named, nothing written (lessons
                # that check up front print nothing; the others may have run)
                missing = os.path.join(self.work, "no-such-folder", "out")
                self.expect_error([flag, missing], flag, "cannot write", quiet=False)
            elif flag == "--load":
                self.expect_error([flag, os.path.join(self.work, "no-such.ckpt")], "cannot read checkpoint",
                                  outputs=[o for o in outputs if o != "--save"])

    def expects(self, flag):
        """The 'expected …' text of a flag, from its missing-value message."""
        code, out, err = self.run([flag])
        return err.splitlines()[0] if err else ""


# ---- the seq2seq lessons: written-out cases ----

TINY = ["--embed", "2", "--hidden", "2", "--steps", "1", "--min-len", "3", "--max-len", "5",
        "--held-out", "5", "--trace", "none"]
# lesson 10's Transformer has sizes of its own (SPEC §14)
TINY_TRANSFORMER = ["--d-model", "4", "--heads", "2", "--d-ff", "4", "--steps", "1", "--min-len", "3", "--max-len", "5",
                    "--held-out", "5", "--trace", "none"]
KIND = {"04": "plain", "05": "concat", "06": "qk", "10": "transformer"}


def tiny(lesson):
    """The flags of a one-step model of that lesson, to make a checkpoint quickly."""
    return TINY_TRANSFORMER if lesson == "10" else TINY


def seq2seq_cases(b, lessons):
    own = os.path.join(b.work, "own.ckpt")
    code, out, err = b.run(TINY + ["--save", own])
    if code != 0 or not os.path.exists(own):
        b.fail(TINY + ["--save", own], "could not make a checkpoint to load", code, out, err)
        return
    good = open(own, "rb").read()
    me = b.name[:2]
    outs = ["--json"]

    # lengths and tasks
    b.expect_error(["--min-len", "9", "--max-len", "3"], "--min-len 9 is greater than --max-len 3", outputs=outs)
    b.expect_error(["--task", "dates", "--max-len", "5"], "--min-len (task dates default: 10) is greater than --max-len 5",
                   outputs=outs)
    b.expect_error(["--task", "dates", "--min-len", "4", "--max-len", "8"], "--task dates", "lengths 4..8 are impossible",
                   outputs=outs)
    b.expect_error(["--min-len", "1", "--max-len", "1"], "--held-out 500", "only 10 distinct sources", outputs=outs)
    b.expect_error(["--seed", "9007199254740993"], "--seed: expected a whole number from 0 to 9007199254740992",
                   outputs=outs)
    # outputs
    b.expect_error(["--json", os.path.join(b.work, "missing", "t.json")], "--json: cannot write")
    b.expect_error(["--save", os.path.join(b.work, "missing", "m.ckpt")], "--save: cannot write")
    b.expect_error(["--json", b.work], "--json:", "is a folder")
    same = os.path.join(b.work, "same")
    b.expect_error(["--json", same, "--save", same], "--json and --save name the same file")
    b.expect_error(["--hidden", "0", "--json", os.path.join(b.work, "missing", "t.json")], "--hidden")
    # unknown tokens in a sentence of one's own
    b.expect_error(["--sentence", "abcxyz"], "--sentence: unknown token \"x\"", "allowed: \"a\"", outputs=outs)
    b.expect_error(["--sentence", "ab<eos>"], "--sentence: unknown token \"<\"", outputs=outs)
    b.expect_error(["--sentence", ""], "--sentence: empty input", outputs=outs)
    b.expect_error(["--sentence", "   "], "--sentence: empty input", outputs=outs)
    b.expect_error(["--task", "translate", "--sentence", "the dog eats a zebra"],
                   "--sentence: unknown token \"eats\"", outputs=outs)
    b.expect_error(["--task", "dates", "--sentence", "21/11/2026 ☃"], "--sentence: unknown token \"☃\"",
                   outputs=outs)
    b.expect_error(["--sentence", "a" * 1001], "--sentence: 1001 tokens; at most 1000", outputs=outs)
    chinese_sentence_cases(b, outs)

    # damaged checkpoints
    lines = good.split(b"\n", 2)
    load_cases = damaged_checkpoints(b, good, (b'"hidden_dim": 2', b'"hidden_dim": 1000000000')) + [
        (damaged(b, "seed.ckpt", with_body(lines, lines[2].replace(b'"seed": 1', b'"seed": 1e300', 1))), ["task.seed"]),
        (damaged(b, "vocab.ckpt", with_body(lines, lines[2].replace(b'"src_vocab": 13', b'"src_vocab": 12', 1))),
         ["vocabularies of 12 and 13 tokens"]),
        (damaged(b, "nojson.ckpt", with_body(lines, lines[2][:-40])), ["is invalid"]),
    ]
    for path, needles in load_cases:
        b.expect_error(["--load", path], "--load", *needles, outputs=outs)

    # checkpoints of another lesson's model
    for other, maker in sorted(lessons.items()):
        if KIND[other] == KIND.get(me):
            continue
        path = os.path.join(b.work, f"from{other}.ckpt")
        code, out, err = subprocess.run([maker] + tiny(other) + ["--save", path], capture_output=True).returncode, "", ""
        if code != 0:
            b.fail([maker] + tiny(other), "could not make another lesson's checkpoint", code, out, err)
            continue
        b.expect_error(["--load", path], f"--load: {path} holds a", "this lesson is about", outputs=outs)

    # explicit flags that contradict the checkpoint, and training flags with --load
    b.expect_error(["--load", own, "--cell", "lstm"], f"--cell lstm conflicts with --load {own}",
                   "whose model has --cell gru", outputs=outs)
    b.expect_error(["--load", own, "--hidden", "3"], "--hidden 3 conflicts with --load", outputs=outs)
    b.expect_error(["--load", own, "--task", "copy"], "--task copy conflicts with --load", outputs=outs)
    b.expect_error(["--load", own, "--max-len", "8"], "--max-len 8 conflicts with --load", outputs=outs)
    b.expect_error(["--load", own, "--seed", "2"], "--seed 2 conflicts with --load", outputs=outs)
    b.expect_error(["--load", own, "--steps", "5"], "--steps has no effect with --load", outputs=outs)
    b.expect_error(["--load", own, "--save", os.path.join(b.work, "again.ckpt")], "--save has no effect with --load")
    b.expect_error(["--load", own, "--sentence", "abz"], "--sentence: unknown token \"z\"", outputs=outs)
    b.expect_error(["--load", own, "--json", os.path.join(b.work, ".", "own.ckpt")], "would overwrite the checkpoint")

    # … and what must still work: the checkpoint's own values, a sentence of one's own
    b.expect_success(["--load", own, "--cell", "gru", "--hidden", "2", "--max-len", "5", "--trace", "none"])
    out = b.expect_success(["--load", own, "--sentence", "abcd", "--trace", "none"])
    if 'source: "abcd"' not in out:
        b.fail(["--load", own, "--sentence", "abcd"], "the trace must be of the sentence given", 0, out, "")
    if not os.path.exists(own) or open(own, "rb").read() != good:
        b.fail(["--load", own], "loading must leave the checkpoint as it was", 0, "", "")


# ---- lesson 10, the Transformer: its own sizes, and checkpoints of either kind ----

def transformer_cases(b, lessons):
    own = os.path.join(b.work, "own.ckpt")
    code, out, err = b.run(TINY_TRANSFORMER + ["--save", own])
    if code != 0 or not os.path.exists(own):
        b.fail(TINY_TRANSFORMER + ["--save", own], "could not make a checkpoint to load", code, out, err)
        return
    good = open(own, "rb").read()
    outs = ["--json"]

    # sizes: d splits into h heads of d/h columns, and pairs sin and cos columns
    b.expect_error(["--d-model", "-8"], "--d-model: expected a whole number from 2 to 1024, got '-8'", outputs=outs)
    b.expect_error(["--heads", "3"], "--heads 3 does not divide --d-model 16", "use --heads 1, 2, 4, 8 or 16",
                   outputs=outs)
    b.expect_error(["--d-model", "12", "--heads", "8"], "--heads 8 does not divide --d-model 12", outputs=outs)
    b.expect_error(["--d-model", "15", "--heads", "1"], "--d-model 15 is odd", "must be even", outputs=outs)
    b.expect_error(["--norm", "sideways"], "--norm: expected one of pre, post, got 'sideways'", outputs=outs)
    b.expect_error(["--d-model", "1024", "--d-ff", "4096", "--layers", "8", "--batch", "4096", "--max-len", "200"],
                   "training needs about", "lower --batch", outputs=outs)
    # what the recurrent lessons take and a Transformer has no use for
    for flag, value in [("--cell", "gru"), ("--hidden", "16"), ("--teacher-forcing", "0.5"), ("--bidirectional", None)]:
        b.expect_error([flag] + ([value] if value else []), f"unknown flag '{flag}'", outputs=outs)
    # lengths, outputs, decoding, sentences
    b.expect_error(["--min-len", "9", "--max-len", "3"], "--min-len 9 is greater than --max-len 3", outputs=outs)
    b.expect_error(["--json", os.path.join(b.work, "missing", "t.json")], "--json: cannot write")
    b.expect_error(["--save", os.path.join(b.work, "missing", "m.ckpt")], "--save: cannot write")
    same = os.path.join(b.work, "same")
    b.expect_error(["--json", same, "--save", same], "--json and --save name the same file")
    b.expect_error(["--length-penalty", "1"], "--length-penalty has no effect with greedy decoding", outputs=outs)
    b.expect_error(["--sentence", "abcxyz"], "--sentence: unknown token \"x\"", outputs=outs)
    b.expect_error(["--task", "en-zh", "--sentence", "I love China?"], '--sentence: unknown token "China?"',
                   outputs=outs)

    # damaged checkpoints
    for path, needles in damaged_checkpoints(b, good, (b'"d_model": 4', b'"d_model": 100000000')):
        b.expect_error(["--load", path], "--load", *needles, outputs=outs)

    # a recurrent lesson's checkpoint, and the recurrent lessons refusing this one
    for other, maker in sorted(lessons.items()):
        if other == "10":
            continue
        path = os.path.join(b.work, f"from{other}.ckpt")
        code = subprocess.run([maker] + TINY + ["--save", path], capture_output=True).returncode
        if code != 0:
            b.fail([maker] + TINY, "could not make another lesson's checkpoint", code, "", "")
            continue
        b.expect_error(["--load", path], f"--load: {path} holds a recurrent", "lesson 10 loads a Transformer",
                       outputs=outs)

    # flags that contradict the checkpoint, and training flags with --load
    for flag, value in [("--d-model", "8"), ("--heads", "1"), ("--layers", "2"), ("--d-ff", "8"), ("--norm", "post"),
                        ("--task", "copy"), ("--max-len", "8"), ("--seed", "2")]:
        b.expect_error(["--load", own, flag, value], f"{flag} {value} conflicts with --load {own}", outputs=outs)
    b.expect_error(["--load", own, "--steps", "5"], "--steps has no effect with --load", outputs=outs)
    b.expect_error(["--load", own, "--save", os.path.join(b.work, "again.ckpt")], "--save has no effect with --load")
    b.expect_error(["--load", own, "--json", os.path.join(b.work, ".", "own.ckpt")], "would overwrite the checkpoint")

    # … and what must still work: the checkpoint's own values, a sentence of one's own
    b.expect_success(["--load", own, "--d-model", "4", "--heads", "2", "--norm", "pre", "--trace", "none"])
    out = b.expect_success(["--load", own, "--sentence", "abcd", "--trace", "none"])
    if 'source: "abcd"' not in out:
        b.fail(["--load", own, "--sentence", "abcd"], "the trace must be of the sentence given", 0, out, "")
    if not os.path.exists(own) or open(own, "rb").read() != good:
        b.fail(["--load", own], "loading must leave the checkpoint as it was", 0, "", "")


# Issue 15: --sentence for the tasks of the seeds' language. Neither vocabulary has
# punctuation, full-width or half-width; zh-en's is simplified Chinese, en-zh's English.
# A stray byte reaches the program as itself (os.fsdecode keeps it through subprocess).
NOT_UTF8 = os.fsdecode(b"\xff\xfe")
CHINESE_SENTENCES = [
    # (task, sentence, phrases of the error line)
    ("zh-en", "", ["--sentence: empty input"]),
    ("en-zh", "", ["--sentence: empty input"]),
    ("zh-en", "   ", ["--sentence: empty input"]),
    ("en-zh", "   ", ["--sentence: empty input"]),
    ("zh-en", "，。？", ['--sentence: unknown token "，"', "no punctuation: leave it out"]),
    ("en-zh", "，。？", ['--sentence: unknown token "，"', "no punctuation: leave it out"]),
    ("zh-en", ",.?", ['--sentence: unknown token ",.?"', "no punctuation: leave it out"]),
    ("en-zh", ",.?", ['--sentence: unknown token ",.?"', "no punctuation: leave it out"]),
    ("zh-en", "我爱China", ['--sentence: unknown token "China" for the zh-en source (Chinese)', "--list-vocab"]),
    ("en-zh", "我爱China", ['--sentence: unknown token "我" for the en-zh source (English)', "--list-vocab"]),
    ("zh-en", "我爱中国？", ['--sentence: unknown token "？"', "no punctuation: leave it out"]),
    ("zh-en", "我爱中国?", ['--sentence: unknown token "?"', "no punctuation: leave it out"]),
    ("en-zh", "我爱中国？", ['--sentence: unknown token "我" for the en-zh source (English)', "--list-vocab"]),
    ("en-zh", "我爱中国?", ['--sentence: unknown token "我" for the en-zh source (English)', "--list-vocab"]),
    ("en-zh", "I love China?", ['--sentence: unknown token "China?"', "no punctuation: leave it out"]),
    ("en-zh", "I love China？", ['--sentence: unknown token "？"', "no punctuation: leave it out"]),
    ("zh-en", "我愛中國", ['--sentence: unknown token "愛"', "--list-vocab lists them all"]),
    ("en-zh", "我愛中國", ['--sentence: unknown token "我" for the en-zh source (English)', "--list-vocab"]),
    ("zh-en", NOT_UTF8, ['--sentence: unknown token "\\xff\\xfe"', "not valid UTF-8"]),
    ("en-zh", NOT_UTF8, ['--sentence: unknown token "\\xff\\xfe"', "not valid UTF-8"]),
]


def chinese_sentence_cases(b, outs):
    for task, sentence, needles in CHINESE_SENTENCES:
        b.expect_error(["--task", task, "--sentence", sentence], *needles, outputs=outs)
    # … and the seeds' sentences, typed with or without spaces, still run
    for task, sentence, shown in [("zh-en", "我爱中国", "segmented: 我 | 爱 | 中国"),
                                  ("zh-en", "汤姆 追逐 杰瑞", 'source: "汤姆 追逐 杰瑞"'),
                                  ("en-zh", "Tom chases Jerry", 'source: "Tom chases Jerry"')]:
        args = TINY + ["--task", task, "--sentence", sentence]
        out = b.expect_success(args)
        if shown not in out:
            b.fail(args, f"stdout must show {shown!r}", 0, out, "")


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h



def damaged(b, name, data):
    """A file of the battery's work folder holding `data`."""
    path = os.path.join(b.work, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def with_body(lines, body):  # a body with its correct checksum: only the content is wrong
    return b"%s\nchecksum fnv1a64 %016x\n%s" % (lines[0], fnv1a64(body), body)


def damaged_checkpoints(b, good, size):
    """Damaged copies of the checkpoint `good` any lesson must refuse, each with what the error
    names; `size` is (the text of a size in the model config, a huge one in its place)."""
    lines = good.split(b"\n", 2)
    flipped = bytearray(good)
    flipped[len(good) * 2 // 3] ^= 0x04
    return [
        (damaged(b, "empty.ckpt", b""), ["is empty"]),
        (damaged(b, "half.ckpt", good[: len(good) // 2]), ["corrupt or truncated"]),
        (damaged(b, "header.ckpt", good[:15]), ["truncated or not a checkpoint"]),
        (damaged(b, "flipped.ckpt", bytes(flipped)), ["corrupt or truncated"]),
        (damaged(b, "v9.ckpt", good.replace(b"stepgrad-checkpoint/1", b"stepgrad-checkpoint/9", 1)),
         ["has format 'stepgrad-checkpoint/9'"]),
        (damaged(b, "trace.json", b'{"format": "stepgrad-trace/1"}\n'), ["is not a stepgrad checkpoint"]),
        (damaged(b, "binary.ckpt", bytes(range(256)) * 4), ["is not a stepgrad checkpoint"]),
        (b.work, ["is a folder"]),
        (damaged(b, "huge.ckpt", with_body(lines, lines[2].replace(size[0], size[1], 1))),
         ["needs more parameters than it holds"]),
        (damaged(b, "task.ckpt", with_body(lines, lines[2].replace(b'"name": "reverse"', b'"name": "translate"', 1))),
         ["vocabularies do not match"]),
    ]

def wait_for_handler(process, sig):
    """Waits until the program catches `sig` (SigCgt in /proc): its training has started,
    so a slow start cannot turn a signal test into a kill."""
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status.read(), re.M).group(1), 16)
            if caught & (1 << (sig - 1)):
                return
        except (OSError, AttributeError):
            pass
        time.sleep(0.05)


def interrupt_case(b):
    """Ctrl-C during a long training run: exit 130 at a step boundary, a checkpoint that
    loads, no temporary file. SIGINT is sent once the program has installed its handler
    (SigCgt in /proc), so a slow start cannot turn the test into a kill."""
    folder = b.case_dir()
    ckpt = os.path.join(folder, "model.ckpt")
    args = ["--steps", "1000000", "--held-out", "20", "--trace", "none", "--save", ckpt]
    process = subprocess.Popen([b.program] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_handler(process, signal.SIGINT)
    time.sleep(0.3)  # a few steps
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        b.fail(args, "did not stop after Ctrl-C", "timeout", out.decode(), err.decode())
        return
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    if process.returncode != 130 or "interrupted at step" not in err or f"checkpoint saved to {ckpt}" not in err:
        b.fail(args, "Ctrl-C must stop training with exit 130 and save the checkpoint", process.returncode, out, err)
    elif sorted(os.listdir(folder)) != ["model.ckpt"]:
        b.fail(args, f"files left: {sorted(os.listdir(folder))}", process.returncode, out, err)
    else:
        b.expect_success(["--load", ckpt, "--held-out", "20", "--trace", "none"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", required=True, help="the program; empty: skip (exit 77)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--lesson", action="append", default=[], help="NN=PATH of a seq2seq lesson")
    parser.add_argument("--interrupt", action="store_true")
    args = parser.parse_args()
    if not args.program:
        print("skipped: the program is not part of this build")
        return 77  # SKIP_RETURN_CODE in tests/hardening/CMakeLists.txt
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    b = Battery(args.program, args.work)
    lessons = dict(item.split("=", 1) for item in args.lesson)
    if args.interrupt:
        interrupt_case(b)
    else:
        flags = b.flags_from_help()
        b.generic_cases(flags)
        if b.name.startswith("10_"):
            transformer_cases(b, lessons)
        elif any(f["flag"] == "--load" for f in flags):
            seq2seq_cases(b, lessons)
    return report(b.failures, f"{b.name}: {b.count} cases in folders, {len(b.failures)} failures", args.work)


def report(failures, summary, work):
    """Prints every failure and the summary; removes the work folder when all passed.
    Returns the exit code: the number of failures, capped at 100."""
    for failure in failures:
        print("FAIL " + failure + "\n")
    print(summary)
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    return min(len(failures), 100)


if __name__ == "__main__":
    sys.exit(main())
