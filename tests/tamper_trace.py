#!/usr/bin/env python3
"""Change one number of a Transformer trace, write the copy, and check it with check_trace.py.

    python3 tests/tamper_trace.py alpha|grad|mask IN OUT

A checker that cannot fail proves nothing: tests/CMakeLists.txt runs this on a golden trace
and expects exit code 1 and a FAIL line that names the changed number.
  alpha  decoder_layers[1].cross_attn.heads[1].alpha[2, 3] times 1 + 1e-7: invisible in any
         printout, a hundred times the forward tolerance (1e-9);
  grad   grads.decoder.0.ffn.W_1[5, 2] plus 1e-3 of the largest |grad| of that parameter:
         an entry the finite differences see only through the random direction;
  mask   decoder_layers[0].self_attn.heads[0].scores[0, 1], which the causal mask makes −∞
         (null), set to 0.
Exits with check_trace.py's code: 0 all pass, 1 a check failed (2: bad usage).
"""
import json
import sys

import check_trace


def tamper(T, what):
    if what == "alpha":
        alpha = T["decoder_layers"][1]["cross_attn"]["heads"][1]["alpha"]
        alpha["data"][2 * alpha["shape"][1] + 3] *= 1 + 1e-7
    elif what == "grad":
        grad = T["grads"]["decoder.0.ffn.W_1"]
        grad["data"][5 * grad["shape"][1] + 2] += 1e-3 * max(map(abs, grad["data"]))
    else:
        scores = T["decoder_layers"][0]["self_attn"]["heads"][0]["scores"]
        assert scores["data"][1] is None, "scores[0, 1] of decoder self-attention should be masked"
        scores["data"][1] = 0.0


def main(args):
    if len(args) != 3 or args[0] not in ("alpha", "grad", "mask"):
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    what, source, target = args
    with open(source, encoding="utf-8") as f:
        T = json.load(f)
    tamper(T, what)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(T, f)
    return check_trace.main([target])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
