#!/usr/bin/env python3
"""Hardening II (issue 13): the ways users lost data or saw a crash, one check each,
for one program (a lesson or stepgrad-bench). Each check names the case of the issue it
covers. Every failing check is reported with its command line and output; the exit code
is the number of failures.

    lost_data.py --program build/05_concat_attention --work DIR [--sanitized]

The flags a program has are read from its --help, so each case runs only where it
applies (a --json case for programs with --json, …).
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_inputs import HELP_ROW, TIMEOUT, fnv1a64, fresh_folder, report, wait_for_handler  # noqa: E402  (shared with the battery)

# A progress line ("step 3/40 …", lesson 07's "concat L=6  step 3/40 …"), or a warning.
PROGRESS = re.compile(r"^(\r|(\S+ L=\d+\s+)?step\s+\d+/|warning: )")

# Arguments that make each program finish in about a second.
QUICK = {
    "01": [], "02": ["--steps", "3"], "03": ["--bptt-steps", "10"],
    "04": ["--steps", "3", "--held-out", "10"], "05": ["--steps", "3", "--held-out", "10"],
    "06": ["--steps", "3", "--held-out", "10"], "07": ["--quick", "--steps", "3", "--held-out", "10"],
    "stepgrad-bench": ["--steps", "1", "--warmup", "0", "--batch", "2", "--src-len", "3"],
}


class Checks:
    def __init__(self, program, work, sanitized):
        self.program = program
        self.name = os.path.basename(program)
        self.key = self.name if self.name == "stepgrad-bench" else self.name[:2]
        self.work = work
        self.sanitized = sanitized
        self.failures = []
        self.count = 0
        self.flags = self.read_flags()

    # ---- running ----

    def run(self, args, stdout=subprocess.PIPE, preexec=None, timeout=TIMEOUT):
        try:
            done = subprocess.run([self.program] + args, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout,
                                  preexec_fn=preexec)
            out = done.stdout if isinstance(done.stdout, bytes) else b""
            return done.returncode, out, done.stderr
        except subprocess.TimeoutExpired as e:
            return "timeout", e.stdout or b"", e.stderr or b""

    def fail(self, case, args, why, code, out=b"", err=b""):
        self.failures.append(f"[case {case}] {self.name} {' '.join(repr(a) for a in args)}\n  {why}\n  exit: {code}\n"
                             f"  stdout: {out[-400:]!r}\n  stderr: {err[-800:]!r}")

    def folder(self):
        self.count += 1
        return fresh_folder(self.work, self.count)

    def read_flags(self):
        code, out, _ = self.run(["--help"])
        flags = {}
        for line in out.decode().splitlines():
            match = HELP_ROW.match(line)
            if match:
                flags[match["flag"]] = match.groupdict()
        return flags

    def quick(self):
        return list(QUICK.get(self.key, []))

    def expect_error(self, case, args, *needles, timeout=TIMEOUT, **run):
        """Exit 2; the first stderr line is the error, contains every needle, and the whole
        of stderr is valid UTF-8 of at most two lines (the error, then usage)."""
        code, out, err = self.run(args, timeout=timeout, **run)
        problems = []
        if code != 2:
            problems.append("expected exit code 2")
        try:
            text = err.decode("utf-8")
        except UnicodeDecodeError:
            problems.append("stderr is not valid UTF-8")
            text = err.decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if not PROGRESS.match(line)]
        if not lines or not lines[0].startswith(f"{self.name}: error: "):
            problems.append(f"stderr must start with '{self.name}: error: '")
        elif any(needle not in lines[0] for needle in needles):
            problems.append(f"the error line must contain {needles!r}")
        if len(lines) > 2:
            problems.append("stderr must be one error line, then at most the usage line")
        if "\x1b" in text:
            problems.append("a raw escape character reached the terminal")
        if problems:
            self.fail(case, args, "; ".join(problems), code, out, err)
        return text

    # ---- the cases ----

    def lost_stdout(self):
        """3, 4: a full disk or a closed pipe on stdout is exit 2 naming stdout."""
        args = self.quick()
        with open("/dev/full", "wb") as full:
            self.expect_error("4", args, "cannot write to stdout", stdout=full)
        read_end, write_end = os.pipe()
        os.close(read_end)  # nobody reads: writes fail with EPIPE once SIGPIPE is ignored
        try:
            self.expect_error("3", args, "cannot write to stdout", stdout=write_end,
                              preexec=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
        finally:
            os.close(write_end)

    def empty_paths(self):
        """5: an empty path is refused, never taken as 'no file'."""
        for flag, row in self.flags.items():
            if row["value"] == "PATH":
                self.expect_error("5", [flag, ""], f"{flag}: expected a file path, got ''")

    def escaped_values(self):
        """11, 12, 15: control characters, invisible ones and ill-formed UTF-8 in a value
        are escaped; a bare -- suggests nothing."""
        choice = next((f for f, row in self.flags.items() if row["value"] and "|" in row["value"]), None)
        number = next((f for f, row in self.flags.items() if row["value"] == "N"), None)
        if choice:
            self.expect_error("11", [choice, "gru\nfake: all good"], "gru\\x0afake: all good")
            self.expect_error("11", [choice, "\u202egru"], "\\u{202e}gru")
            self.expect_error("12", [choice, os.fsdecode(b"\xed\xa0\x80")], "\\xed\\xa0\\x80")
        if number:
            self.expect_error("11", [number, "\x1b[2J"], "\\x1b[2J")
        text = self.expect_error("15", ["--"], "unknown flag '--'")
        if "did you mean" in text:
            self.fail("15", ["--"], "a bare -- must not suggest a flag", 2, b"", text.encode())

    def device_outputs(self):
        """1: --json/--save/--csv to a device, FIFO or link is written through or followed,
        never replaced by a regular file."""
        output = next((f for f in ("--json", "--csv") if f in self.flags), None)
        if not output:
            return
        folder = self.folder()
        fifo = os.path.join(folder, "pipe")
        os.mkfifo(fifo)
        received = []
        reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
        reader.start()
        code, out, err = self.run(self.quick() + [output, fifo])
        if code != 0:
            open(fifo, "wb").close()  # unblock the reader
        reader.join(timeout=TIMEOUT)
        if code != 0 or not received or not received[0] or not stat.S_ISFIFO(os.lstat(fifo).st_mode):
            self.fail("1", [output, fifo], "a FIFO must be written through and stay a FIFO", code, out, err)
        if os.geteuid() == 0:  # a private copy of /dev/full: the real node is never at risk
            full = os.path.join(folder, "full")
            os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
            self.expect_error("1", self.quick() + [output, full], "No space left on device")
            if not stat.S_ISCHR(os.lstat(full).st_mode):
                self.fail("1", [output, full], "the device node was replaced", "?")
        link = os.path.join(folder, "link")
        os.symlink("target", link)
        code, out, err = self.run(self.quick() + [output, link])
        if code != 0 or not os.path.islink(link) or not os.path.getsize(os.path.join(folder, "target")):
            self.fail("1", [output, link], "a symlink must stay a link to the written file", code, out, err)
        leftover = sorted(set(os.listdir(folder)) - {"pipe", "full", "link", "target"})
        if leftover:
            self.fail("1/13", [output], f"files left behind: {leftover}", code)

    def long_name(self):
        """13: a legal 255-byte file name is written (the temporary name stays short)."""
        output = next((f for f in ("--json", "--csv") if f in self.flags), None)
        if not output:
            return
        folder = self.folder()
        path = os.path.join(folder, "n" * 250 + ".json")
        code, out, err = self.run(self.quick() + [output, path])
        if code != 0 or os.listdir(folder) != [os.path.basename(path)]:
            self.fail("13", [output, path], "a 255-byte name must be written, nothing else left", code, out, err)

    def same_output_twice(self):
        """6: two outputs naming one file, compared as files."""
        if "--csv" in self.flags and "--json" in self.flags:
            folder = self.folder()
            path = os.path.join(folder, "r.out")
            self.expect_error("6", ["--csv", path, "--json", os.path.join(folder, ".", "r.out")],
                              "name the same file")
            if os.listdir(folder):
                self.fail("6", ["--csv", path], f"files left behind: {os.listdir(folder)}", 2)

    def memory(self):
        """9: sizes that cannot fit are refused with the estimate, not killed silently."""
        if self.key in ("05", "06", "04"):
            self.expect_error("9", ["--min-len", "1000", "--max-len", "1000", "--batch", "4096"], "GB per step",
                              "lower --batch, --max-len or --hidden")
        if self.key == "07":
            self.expect_error("9", ["--lengths", "1000", "--batch", "4096"], "GB per step")
        if self.key == "stepgrad-bench":
            self.expect_error("9", ["--src-len", "5000", "--batch", "20000"], "GB", "--src-len")

    def out_of_memory(self):
        """14: running out of memory in the flag check, or in the bench, names what to lower."""
        if self.sanitized:  # the sanitizers reserve terabytes of address space: a limit breaks them
            return
        limit = 400 * 1024 * 1024

        def limited():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        if self.key in ("05", "06"):
            self.expect_error("14", ["--min-len", "1000", "--max-len", "1000", "--held-out", "100000", "--batch", "1"],
                              "out of memory while checking the flags", preexec=limited)
        if self.key == "stepgrad-bench":
            self.expect_error("14", ["--src-len", "300", "--batch", "64", "--steps", "1", "--warmup", "0"],
                              "out of memory", "--src-len", preexec=limited)

    def flags_without_effect(self):
        """15: flags that would be ignored, and impossible splits, are refused up front."""
        if self.key == "04":
            self.expect_error("15", ["--attn", "8"], "--attn has no effect on a plain model")
        if self.key == "06":
            self.expect_error("15", ["--score", "dot", "--attn", "8"], "--attn has no effect with --score dot")
        if self.key == "stepgrad-bench":
            self.expect_error("15", ["--decoder", "plain", "--score", "dot"], "--score has no effect with --decoder plain")
        if self.key in ("05", "06"):
            self.expect_error("15", ["--min-len", "5", "--max-len", "5", "--held-out", "99980"], "--held-out 99980",
                              "to train on")
            text = self.expect_error("15", ["--task", "dates", "--min-len", "29", "--max-len", "29"], "--task dates")
            if "allow longer sources" in text:
                self.fail("15", ["--task", "dates"], "29 is the longest date: longer sources cannot help", 2, b"",
                          text.encode())

    def underflow(self):
        """8: a gradient that underflows is said to, never printed as inf or nan."""
        if self.key != "03":
            return
        code, out, err = self.run(["--bptt-steps", "800"])
        text = out.decode()
        if code != 0 or re.search(r"\b(inf|nan)\b", text) or "underflowed" not in text:
            self.fail("8", ["--bptt-steps", "800"], "expected 'underflowed' and no inf or nan", code, out, err)

    def checkpoints(self):
        """7, 10: absurd parameters, a FIFO or a device given to --load."""
        if "--load" not in self.flags:
            return
        folder = self.folder()
        good = os.path.join(folder, "good.ckpt")
        code, out, err = self.run(["--steps", "1", "--held-out", "5", "--embed", "2", "--hidden", "2",
                                   "--save", good])
        if code != 0:
            self.fail("7", ["--save", good], "could not make a checkpoint", code, out, err)
            return
        header, _, body = open(good, "rb").read().split(b"\n", 2)
        data = json.loads(body)
        name = sorted(data["params"])[0]
        data["params"][name]["data"] = [1e200 for _ in data["params"][name]["data"]]
        body = json.dumps(data).encode()
        absurd = os.path.join(folder, "absurd.ckpt")
        with open(absurd, "wb") as f:
            f.write(b"%s\nchecksum fnv1a64 %016x\n%s" % (header, fnv1a64(body), body))
        self.expect_error("7", ["--load", absurd], f"parameter '{name}' holds 1e+200")
        fifo = os.path.join(folder, "model.fifo")
        os.mkfifo(fifo)
        self.expect_error("10", ["--load", fifo], "not a regular file", timeout=20)
        self.expect_error("10", ["--load", "/dev/zero"], "not a regular file", timeout=20)

    def all(self):
        for check in (self.lost_stdout, self.empty_paths, self.escaped_values, self.device_outputs, self.long_name,
                      self.same_output_twice, self.memory, self.out_of_memory, self.flags_without_effect,
                      self.underflow, self.checkpoints):
            check()


def stop_signal_cases(c):
    """2: SIGTERM and SIGHUP stop training like Ctrl-C (exit 128 + N, a checkpoint that
    loads); two Ctrl-Cs in a row leave no temporary file and no half checkpoint."""
    for sig, code_expected in ((signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)):
        folder = c.folder()
        ckpt = os.path.join(folder, "model.ckpt")
        args = ["--steps", "1000000", "--held-out", "20", "--trace", "none", "--save", ckpt]
        process = subprocess.Popen([c.program] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_handler(process, sig)
        time.sleep(0.3)
        process.send_signal(sig)
        if sig == signal.SIGINT:
            process.send_signal(sig)  # the second one at once: quits now, but never mid-write
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            c.fail("2", args, f"did not stop after {sig.name}", "timeout", out, err)
            continue
        left = sorted(os.listdir(folder))
        if sig != signal.SIGINT and (process.returncode != code_expected or b"checkpoint saved to" not in err):
            c.fail("2", args, f"{sig.name} must stop with exit {code_expected} after saving", process.returncode,
                   out, err)
        elif left not in ([], ["model.ckpt"]):
            c.fail("2", args, f"files left after {sig.name}: {left}", process.returncode, out, err)
        elif left:
            code, out2, err2 = c.run(["--load", ckpt, "--held-out", "20", "--trace", "none"])
            if code != 0:
                c.fail("2", ["--load", ckpt], f"the checkpoint saved on {sig.name} must load", code, out2, err2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--sanitized", action="store_true", help="built with ASan: skip the address-space limit")
    parser.add_argument("--signals", action="store_true", help="the stop-signal cases only")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    c = Checks(args.program, args.work, args.sanitized)
    if args.signals:
        stop_signal_cases(c)
    else:
        c.all()
    return report(c.failures, f"{c.name}: {len(c.failures)} failures", args.work)


if __name__ == "__main__":
    sys.exit(main())
