#!/usr/bin/env python3
"""Checks lesson 07's --csv and --json against each other and against their format.

    check_bottleneck.py RESULTS.csv RESULTS.json

One CSV row per length and model, the same numbers in both files, accuracies in [0, 1],
one loss per training step, for every attention model an α map whose rows sum to 1, for
every run ‖∂L/∂h_i‖ at each of its length + 1 source positions (the <eos> too: finite,
≥ 0, and > 0 at h_m, which every decoder reads), in the CSV's grad_norm_i columns as in
the JSON's "gradient_norms", and qk against qk-scaled in "scaling" when it ran (from
the same initial weights, so qk's scores spread exactly √A times as much at step 0).
A "transformer" model has no recurrent h_i and no α over them: its rows leave the
alignment and grad_norm_i cells empty, its "gradient_norms" are null, it has no α map,
and its "models" entry carries its sizes (d_model = the shared hidden_dim).
"""
import csv
import json
import math
import sys

# The models without an α over encoder states h_i (no alignment columns, no α map).
NO_ALPHA = ("plain", "transformer")


def check_norms(norms, length, where):
    assert len(norms) == length + 1, f"{where}: {len(norms)} gradient norms for L = {length} (+ <eos>)"
    assert all(math.isfinite(x) and x >= 0 for x in norms), f"{where}: gradient norms {norms}"
    assert norms[-1] > 0, f"{where}: no gradient reached h_m"


def check_gradient_norms(rows, by_key, lengths):
    columns = [f"grad_norm_{i}" for i in range(1, lengths[-1] + 2)]
    assert [c for c in rows[0] if c.startswith("grad_norm_")] == columns, "CSV grad_norm_i columns"
    for row in rows:
        length = int(row["length"])
        entry = by_key[(length, row["model"])]
        cells = [row[c] for c in columns]
        if row["model"] == "transformer":  # no recurrent h_i
            assert entry["gradient_norms"] is None and all(cell == "" for cell in cells), f"transformer L = {length}"
            continue
        check_norms(entry["gradient_norms"], length, f"{row['model']} L = {length}")
        assert all(cell == "" for cell in cells[length + 1:]), f"{row['model']} L = {length}: cells past m"
        assert [float(cell) for cell in cells[:length + 1]] == entry["gradient_norms"], "CSV and JSON norms"


def check_scaling(scaling, settings, lengths):
    if scaling is None:
        return
    assert scaling["attn_dim"] >= 1 and scaling["length"] in lengths, scaling["length"]
    assert [r["model"] for r in scaling["results"]] == ["qk", "qk-scaled"], "scaling: qk against qk-scaled"
    # the same initial weights: qk's scores are exactly √A times qk-scaled's, and so their spread
    qk, scaled = scaling["initial_score_std"]["qk"], scaling["initial_score_std"]["qk-scaled"]
    assert scaled > 0 and abs(qk / scaled - math.sqrt(scaling["attn_dim"])) < 1e-9 * qk / scaled, (qk, scaled)
    for r in scaling["results"]:
        assert r["length"] == scaling["length"] and r["examples"] == settings["held_out"], r
        assert all(0 <= r[field] <= 1 for field in ("token_accuracy", "sequence_accuracy")), r
        check_norms(r["gradient_norms"], r["length"], f"scaling {r['model']}")
    for run in scaling["losses"]:
        assert len(run["loss"]) == settings["steps"], "scaling: one loss per step"
        assert all(math.isfinite(x) and x >= 0 for x in run["loss"])


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
        for field in ("alignment_accuracy", "alignment_accuracy_shifted"):  # SPEC §11; none for plain
            if row["model"] in NO_ALPHA:
                assert row[field] == "" and field not in entry, (row, field)
            else:
                value = float(row[field])
                assert 0 <= value <= 1 and value == entry[field], (row, field)
        assert row["task"] == results["task"]
    for run in results["losses"]:
        assert len(run["loss"]) == results["settings"]["steps"], "one loss per step"
        assert all(math.isfinite(x) and x >= 0 for x in run["loss"])
    check_gradient_norms(rows, by_key, lengths)
    check_scaling(results["scaling"], results["settings"], lengths)
    for m in results["models"]:
        if m["name"] == "transformer":
            sizes = (m["d_model"], m["heads"], m["layers"], m["d_ff"], m["norm"])
            assert m["d_model"] == results["settings"]["hidden_dim"] and m["d_model"] % m["heads"] == 0, sizes
            assert m["layers"] >= 1 and m["d_ff"] >= 1 and m["norm"] in ("pre", "post") and m["parameters"] > 0, sizes
    attention = [m for m in models if m not in NO_ALPHA]
    assert [a["model"] for a in results["alignments"]] == attention, "an α map per attention model"
    for a in results["alignments"]:
        assert a["length"] == lengths[-1] and len(a["src_tokens"]) == lengths[-1] + 1  # the <eos>
        assert len(a["alpha"]) == len(a["tgt_tokens"])
        for row in a["alpha"]:
            assert len(row) == len(a["src_tokens"]) and abs(sum(row) - 1) < 1e-9
    scaled = "" if results["scaling"] is None else ", and qk against qk-scaled"
    print(f"{csv_path}, {json_path}: {len(rows)} results ({len(lengths)} lengths × {len(models)} models){scaled} agree")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    main(sys.argv[1], sys.argv[2])
