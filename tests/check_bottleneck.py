#!/usr/bin/env python3
"""Checks lesson 07's --csv and --json against each other and against their format.

    check_bottleneck.py RESULTS.csv RESULTS.json

One CSV row per length and model, the same numbers in both files, accuracies in [0, 1],
one loss per training step, and for every attention model an α map whose rows sum to 1.
"""
import csv
import json
import math
import sys


def main(csv_path, json_path):
    with open(csv_path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(json_path, encoding="utf-8") as f:
        results = json.load(f)
    assert results["format"] == "stepgrad-bottleneck/1", results["format"]
    models = [m["name"] for m in results["models"]]
    lengths = results["lengths"]
    assert lengths == sorted(set(lengths)) and lengths, lengths
    expected = {(length, model) for length in lengths for model in models}
    assert {(int(r["length"]), r["model"]) for r in rows} == expected and len(rows) == len(expected), "CSV rows"
    by_key = {(r["length"], r["model"]): r for r in results["results"]}
    assert set(by_key) == expected, "JSON results"
    for row in rows:
        entry = by_key[(int(row["length"]), row["model"])]
        for field in ("token_accuracy", "sequence_accuracy"):
            value = float(row[field])
            assert 0 <= value <= 1 and value == entry[field], (row, field)
        assert int(row["examples"]) == entry["examples"] == results["settings"]["held_out"], row
        assert row["task"] == results["task"]
    for run in results["losses"]:
        assert len(run["loss"]) == results["settings"]["steps"], "one loss per step"
        assert all(math.isfinite(x) and x >= 0 for x in run["loss"])
    attention = [m for m in models if m != "plain"]
    assert [a["model"] for a in results["alignments"]] == attention, "an α map per attention model"
    for a in results["alignments"]:
        assert a["length"] == lengths[-1] and len(a["src_tokens"]) == lengths[-1] + 1  # the <eos>
        assert len(a["alpha"]) == len(a["tgt_tokens"])
        for row in a["alpha"]:
            assert len(row) == len(a["src_tokens"]) and abs(sum(row) - 1) < 1e-9
    print(f"{csv_path}, {json_path}: {len(rows)} results ({len(lengths)} lengths × {len(models)} models) agree")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    main(sys.argv[1], sys.argv[2])
