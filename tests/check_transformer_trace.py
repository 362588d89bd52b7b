"""Recompute every number in a Transformer stepgrad-trace/1 file (SPEC §14), independently.

    python3 tests/check_trace.py FILE [FILE ...]   (it hands a trace whose model.kind is
                                                    "transformer" to check_file below)

Pure Python 3, standard library only; it shares no code with check_trace.py or src/. From the
trace's own `params`, `src`, `tgt` and `bos` it runs SPEC §14's equations (pre or post norm,
any d, h, N, d_ff) and compares every number the trace holds: per layer and head q, k, v, the
scores — null exactly where the causal or padding mask puts −∞ — and α (exactly 0 there),
each attention sub-layer's `out` (and the FFN's, `ffn`, if written), every norm's mean, var
and out (the final `encoder_norm` and `decoder_norm` of pre norm too, if written), each layer's `out`, `memory`, `logits` and `loss`: |a − b| ≤ 1e-9·max(1, |b|).
A trace is one example: `<pad>` ids, if any, are the padding (masked as keys, not counted
by the loss). The `grads` are checked by central finite differences of this file's own loss
with check_trace.py's ε and criterion, |a − n| / max(|a|, |n|, 1e-4) ≤ 1e-5, but on fewer
entries: per parameter, GRAD_ENTRIES = 1 entry (its largest |grad|; more are picked
pseudo-randomly if it is raised) and one pseudo-random ±1 direction through all its entries.
Rows of an embedding that no id reads must have a gradient of exactly 0 (the loss never
reads them); the sampled entries come from the rows that are read.

Speed, and why so few entries: pure Python's cost is the dot products, ~20 ms for a full
pass over a d = 32, h = 4, N = 2, d_ff = 64 model with m = n = 10. A difference costs two
passes, but a pass re-runs only the stages the moved parameter feeds (a decoder weight leaves
the encoder cached; a layer's FFN leaves its attention), ~0.55 of a full one on average. With
2 directions per parameter such a trace (92 parameters) checks in 3–5 s of CPU, the d = 8
golden ones in ~0.4 s; each entry more adds half as much again, and check_trace.py's 6
evenly spaced + the largest would take ~4 times as long. A relu is not
differentiable at 0: when θ ± εd flips the sign of a relu input, the difference is taken
again with ε/10, and skipped (and counted) if that flips one too.
"""
import math
import random
from operator import mul

FORMAT = "stepgrad-trace/1"
FWD_TOL, GRAD_TOL, GRAD_ENTRIES = 1e-9, 1e-5, 1
EPS = 1e-5      # as check_trace.py: rounding in the loss costs ~1e-16·L/ε of the budget
LN_EPS = 1e-5   # LN(x) = γ ⊙ (x − μ) / √(σ² + 1e-5) + β


class TraceError(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise TraceError(msg)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---- SPEC §14's pieces; a matrix is a list of rows, a parameter (shape, flat data) -----

def rows_of(P, name):
    (r, c), data = P[name]
    return [data[i * c:(i + 1) * c] for i in range(r)]


def linear(X, P, W, b):  # X Wᵀ + b, as nn.Linear
    Ws, bs = rows_of(P, W), P[b][1]
    return [[sum(map(mul, x, w)) + bj for w, bj in zip(Ws, bs)] for x in X]  # a dot() helper would cost 1/3 more


def plus(A, B):
    return [[a + b for a, b in zip(x, y)] for x, y in zip(A, B)]


def layer_norm(X, P, prefix):
    """LN over the d features of each row, σ² the biased variance: {"mean", "var", "out"}."""
    gamma, beta = P[prefix + ".gamma"][1], P[prefix + ".beta"][1]
    r = {"mean": [], "var": [], "out": []}
    for x in X:
        mu = sum(x) / len(x)
        c = [v - mu for v in x]
        var = sum(map(mul, c, c)) / len(x)
        s = 1 / math.sqrt(var + LN_EPS)
        r["mean"].append(mu)
        r["var"].append(var)
        r["out"].append([g * v * s + b for g, v, b in zip(gamma, c, beta)])
    return r


def masked_softmax(e):  # α = softmax(e) with e = −∞ (None) where masked: α exactly 0 there
    top = max(v for v in e if v is not None)
    ex = [0.0 if v is None else math.exp(v - top) for v in e]
    total = sum(ex)
    return [v / total for v in ex]


def log_softmax(z):  # log softmax(z)_i = z_i − max z − log Σ_k exp(z_k − max z)
    top = max(z)
    lse = top + math.log(sum(math.exp(v - top) for v in z))
    return [v - lse for v in z]


def attention(P, prefix, Q_in, KV_in, mask, h):
    """MHA(Q_in, KV_in, mask): each head's q, k, v, scores (None where masked) and alpha; out."""
    Q = linear(Q_in, P, prefix + ".W_Q", prefix + ".b_Q")    # Q = Q_in W_Qᵀ + b_Q
    K = linear(KV_in, P, prefix + ".W_K", prefix + ".b_K")   # K = KV_in W_Kᵀ + b_K
    V = linear(KV_in, P, prefix + ".W_V", prefix + ".b_V")   # V = KV_in W_Vᵀ + b_V
    dk = len(Q[0]) // h
    scale = 1 / math.sqrt(dk)
    heads, concat = [], [[] for _ in Q]
    for i in range(h):  # head i takes columns i·d_k … (i+1)·d_k − 1
        q, k, v = ([row[i * dk:(i + 1) * dk] for row in M] for M in (Q, K, V))
        scores = [[None if masked else sum(map(mul, qt, ks)) * scale for ks, masked in zip(k, mask_row)]
                  for qt, mask_row in zip(q, mask)]                      # Q_i K_iᵀ / √d_k
        alpha = [masked_softmax(row) for row in scores]
        v_cols = list(zip(*v))
        for t, a in enumerate(alpha):
            concat[t] += [sum(map(mul, a, col)) for col in v_cols]       # head_i = α_i V_i
        heads.append({"q": q, "k": k, "v": v, "scores": scores, "alpha": alpha})
    return {"heads": heads, "out": linear(concat, P, prefix + ".W_O", prefix + ".b_O")}  # [head_1 …] W_Oᵀ + b_O


def feed_forward(P, prefix, X):
    """FFN(x) = relu(x W_1ᵀ + b_1) W_2ᵀ + b_2; "relu" keeps the signs of the relu's inputs."""
    hidden = linear(X, P, prefix + ".W_1", prefix + ".b_1")
    out = linear([[v if v > 0 else 0.0 for v in row] for row in hidden], P, prefix + ".W_2", prefix + ".b_2")
    return {"out": out, "relu": [v > 0 for row in hidden for v in row]}


def embed(P, name, ids, d):  # table[x] · √d + PE,  PE[p, 2k] = sin(p / 10000^{2k/d}), PE[p, 2k+1] = cos(…)
    rows = rows_of(P, name)
    pe = lambda p, j: (math.sin if j % 2 == 0 else math.cos)(p / 10000 ** ((j - j % 2) / d))
    return [[v * math.sqrt(d) + pe(p, j) for j, v in enumerate(rows[x])] for p, x in enumerate(ids)]


# ---- the forward pass, as stages a finite difference can re-run from -----------------

SUBLAYERS = {"encoder": [("norm1", "self_attn"), ("norm2", "ffn")],  # (its norm, the sub-layer)
             "decoder": [("norm1", "self_attn"), ("norm2", "cross_attn"), ("norm3", "ffn")]}


class Model:
    """The trace's dims, ids and masks (True where a score becomes −∞), and the stages of a
    pass: the embeddings, each sub-layer of each layer, the final norms, the output."""

    def __init__(self, T):
        M = T["model"]
        self.d, self.h, self.N, self.pre = M["d_model"], M["heads"], M["layers"], M["norm"] == "pre"
        self.src, self.tgt = T["src"], T["tgt"]
        self.tgt_in = [T["bos"]] + T["tgt"][:-1]  # <bos> y_1 … y_{n−1}, teacher forced
        self.src_pad, self.tgt_pad = T["src_vocab"].index("<pad>"), T["tgt_vocab"].index("<pad>")
        src_keys = [x == self.src_pad for x in self.src]
        self.masks = {"encoder.self_attn": [src_keys] * len(self.src),                     # pad
                      "decoder.self_attn": [[s > t or y == self.tgt_pad for s, y in enumerate(self.tgt_in)]
                                            for t in range(len(self.tgt))],              # causal ∧ pad
                      "decoder.cross_attn": [src_keys] * len(self.tgt)}                  # src pad
        self.layers = [f"{who}.{k}" for who in SUBLAYERS for k in range(self.N)]
        sub = lambda who: [f"{who}.{k}.{key}" for k in range(self.N) for _, key in SUBLAYERS[who]]
        self.stages = (["src_embed"] + sub("encoder") + ["encoder.norm", "tgt_embed"] + sub("decoder")
                       + ["decoder.norm", "output"])

    def stage_of(self, param):
        """The first stage that reads `param`: a layer's normK goes with its K-th sub-layer."""
        parts = param.split(".")
        if parts[0] not in SUBLAYERS:  # src_embed, tgt_embed, output.W, output.b
            return self.stages.index(parts[0])
        if parts[1] == "norm":         # encoder.norm.gamma, …
            return self.stages.index(parts[0] + ".norm")
        part = dict(SUBLAYERS[parts[0]]).get(parts[2], parts[2])
        return self.stages.index(f"{parts[0]}.{parts[1]}.{part}")


def run_sublayer(C, P, S, name):
    """pre: x += f(LN x);  post (the paper): x = LN(x + f(x)). Extends the layer's record in S."""
    layer, key = name.rsplit(".", 1)
    who = layer.split(".")[0]
    norm = next(n for n, k in SUBLAYERS[who] if k == key)
    stream = "x" if who == "encoder" else "y"
    r = {} if key == "self_attn" else dict(S[layer])  # a copy: the state before this stage keeps its own

    def f(z):
        if key == "ffn":
            return feed_forward(P, name, z)
        kv = S["memory"] if key == "cross_attn" else z  # cross: K and V from the encoder's memory
        return attention(P, name, z, kv, C.masks[f"{who}.{key}"], C.h)

    x = S[stream]
    if C.pre:
        r[norm] = layer_norm(x, P, f"{layer}.{norm}")
        r[key] = f(r[norm]["out"])
        x = plus(x, r[key]["out"])
    else:
        r[key] = f(x)
        r[norm] = layer_norm(plus(x, r[key]["out"]), P, f"{layer}.{norm}")
        x = r[norm]["out"]
    r["out"] = S[stream] = x
    S[layer] = r


def run_stage(C, P, S, name):
    """One stage: reads and extends the state S ("x", "memory", "y", "y_top", each layer's record)."""
    if name in ("src_embed", "tgt_embed"):  # X = src_embed[x]·√d + PE;  Y = tgt_embed[y_in]·√d + PE
        S["x" if name == "src_embed" else "y"] = embed(P, name, C.src if name == "src_embed" else C.tgt_in, C.d)
    elif name.endswith(".norm"):            # pre: a final LN; post: none
        stream, out = ("x", "memory") if name == "encoder.norm" else ("y", "y_top")
        if C.pre:
            S[name] = layer_norm(S[stream], P, name)
            S[out] = S[name]["out"]
        else:
            S[out] = S[stream]
    elif name == "output":                  # logits = y W_outᵀ + b_out; loss: mean of −log softmax(logits_j)[y_j]
        S["logits"] = linear(S["y_top"], P, "output.W", "output.b")
        nll = [-log_softmax(z)[y] for z, y in zip(S["logits"], C.tgt) if y != C.tgt_pad]
        S["loss"] = sum(nll) / len(nll)
    else:
        run_sublayer(C, P, S, name)


def forward(C, P, start=0, base=None):
    """Every stage from `start` on, from the state `base` (a full pass) had before it.
    A full pass (base None) keeps that state per stage in "before"."""
    S = dict(base["before"][start]) if base else {}
    before = []
    for name in C.stages[start:]:
        if base is None:
            before.append(dict(S))
        run_stage(C, P, S, name)
    S["before"] = before
    return S


# ---- structure: SPEC §14's fields, shapes and names ------------------------------------

def expected_shapes(C, V_src, V_tgt, d_ff):
    d = C.d
    shapes = {"src_embed": [V_src, d], "tgt_embed": [V_tgt, d]}

    def mha(p):
        for c in "QKVO":
            shapes.update({f"{p}.W_{c}": [d, d], f"{p}.b_{c}": [d]})

    def norm(p):
        shapes.update({p + ".gamma": [d], p + ".beta": [d]})

    for name in C.layers:
        mha(name + ".self_attn")
        if name.startswith("decoder"):
            mha(name + ".cross_attn")
        for k in (1, 2, 3) if name.startswith("decoder") else (1, 2):
            norm(f"{name}.norm{k}")
        shapes.update({name + ".ffn.W_1": [d_ff, d], name + ".ffn.b_1": [d_ff],
                       name + ".ffn.W_2": [d, d_ff], name + ".ffn.b_2": [d]})
    if C.pre:
        norm("encoder.norm")
        norm("decoder.norm")
    shapes.update({"output.W": [V_tgt, d], "output.b": [V_tgt]})
    return shapes


def check_tensors(T, key, shapes):
    need(isinstance(T.get(key), dict), f"'{key}' missing or not an object")
    got = T[key]
    need(set(got) == set(shapes), f"{key}: unexpected {sorted(set(got) - set(shapes))}, "
                                  f"missing {sorted(set(shapes) - set(got))} for this model")
    P = {}
    for name, shape in shapes.items():
        t = got[name]
        need(isinstance(t, dict) and t.get("shape") == shape, f"{key}.{name}.shape is "
             f"{t.get('shape') if isinstance(t, dict) else t}, expected {shape}")
        need(isinstance(t.get("data"), list) and len(t["data"]) == math.prod(shape) and all(map(is_num, t["data"])),
             f"{key}.{name}.data: expected {math.prod(shape)} numbers")
        P[name] = ((shape + [1])[:2], list(t["data"]))  # a 1-D vector is n × 1; a private copy to perturb
    return P


def check_keys(obj, where, required, optional=()):
    need(isinstance(obj, dict), f"{where}: expected an object")
    need(set(required) <= set(obj) <= set(required) | set(optional),
         f"{where}: keys {sorted(obj)}, expected {sorted(required)}"
         + (f" (and maybe {sorted(optional)})" if optional else ""))


def check_ids(T, key, vocab):
    need(isinstance(T.get(key), list) and T[key], f"'{key}' missing or empty")
    for i, x in enumerate(T[key]):
        need(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < len(T[vocab]),
             f"{key}[{i}] = {x} outside {vocab}")


def check_structure(T):
    """SPEC §14's fields: model, vocabularies, ids, params and grads of the right shapes; returns (C, P)."""
    check_keys(T, "the trace", ["format", "lesson", "model", "src_vocab", "tgt_vocab", "src", "tgt", "bos", "params",
                                "encoder_layers", "decoder_layers", "memory", "logits", "loss", "grads"],
               ["eval", "encoder_norm", "decoder_norm"])
    need(T["format"] == FORMAT, f"format is {T['format']!r}, expected {FORMAT!r}")
    need(isinstance(T["lesson"], str), "'lesson' is not a string")
    M = T["model"]
    check_keys(M, "model", ["kind", "norm", "d_model", "heads", "layers", "d_ff"])
    need(M["kind"] == "transformer", f"model.kind is {M['kind']!r}, expected 'transformer'")
    need(M["norm"] in ("pre", "post"), f"model.norm is {M['norm']!r}, expected 'pre' or 'post'")
    for k in ("d_model", "heads", "layers", "d_ff"):
        need(isinstance(M[k], int) and not isinstance(M[k], bool) and M[k] > 0,
             f"model.{k} is not a positive integer")
    need(M["d_model"] % M["heads"] == 0 and M["d_model"] % 2 == 0,
         f"model.d_model {M['d_model']}: must be even and a multiple of heads {M['heads']}")
    for key in ("src_vocab", "tgt_vocab"):
        need(isinstance(T[key], list) and "<pad>" in T[key], f"{key}: expected a list of tokens with <pad>")
    need("<bos>" in T["tgt_vocab"] and "<eos>" in T["tgt_vocab"], "tgt_vocab needs <bos> and <eos>")
    check_ids(T, "src", "src_vocab")
    check_ids(T, "tgt", "tgt_vocab")
    need(isinstance(T["bos"], int) and T["bos"] == T["tgt_vocab"].index("<bos>"),
         f"bos = {T['bos']!r} is not the id of <bos>")
    need(T["tgt_vocab"][T["tgt"][-1]] == "<eos>", "tgt does not end with <eos>")
    need(is_num(T["loss"]), "'loss' is not a number")
    C = Model(T)
    need(any(x != C.src_pad for x in C.src), "src is all <pad>: every key masked")
    shapes = expected_shapes(C, len(T["src_vocab"]), len(T["tgt_vocab"]), M["d_ff"])
    P = check_tensors(T, "params", shapes)
    check_tensors(T, "grads", shapes)
    need(any(y != C.tgt_pad for y in C.tgt), "tgt is all <pad>: the loss is a mean over nothing")
    for key, n in (("encoder_layers", C.N), ("decoder_layers", C.N)):
        need(isinstance(T[key], list) and len(T[key]) == n, f"{key}: expected a list of {n} layers")
    if "eval" in T:
        ev = T["eval"]
        need(isinstance(ev, dict) and isinstance(ev.get("task"), str) and isinstance(ev.get("examples"), int)
             and ev["examples"] > 0, "eval: needs 'task' and a positive 'examples'")
        for k in ("token_accuracy", "sequence_accuracy"):
            need(is_num(ev.get(k)) and 0 <= ev[k] <= 1, f"eval.{k} = {ev.get(k)} not in [0, 1]")
    return C, P


# ---- the comparisons -------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.count, self.max_fwd, self.max_grad, self.skipped = 0, 0.0, 0.0, 0

    def note(self):  # what check_trace.py adds to its OK line
        return f", {self.skipped} finite differences skipped at a relu kink" if self.skipped else ""


def compare_one(stats, where, a, b):
    """a = the trace's number, b = recomputed; |a − b| ≤ 1e-9·max(1, |b|)."""
    need(is_num(a), f"{where}: trace {a!r}, recomputed {b!r}")
    diff = abs(a - b)
    stats.count += 1
    stats.max_fwd = max(stats.max_fwd, diff / max(1.0, abs(b)))
    need(diff <= FWD_TOL * max(1.0, abs(b)), f"{where}: trace {a!r}, recomputed {b!r} (diff {diff:.3g})")


def compare_vector(stats, where, got, want):
    need(isinstance(got, list) and len(got) == len(want), f"{where}: expected a list of {len(want)} numbers")
    for i, (a, b) in enumerate(zip(got, want)):
        compare_one(stats, f"{where}[{i}]", a, b)


def compare_matrix(stats, where, got, want, mask=None, is_alpha=False):
    """{"shape": [r, c], "data": row-major} against the rows `want`; None in `want`
    (a masked score) must be null in the trace, and α exactly 0 where `mask` says."""
    shape = [len(want), len(want[0])]
    need(isinstance(got, dict) and set(got) == {"shape", "data"} and got["shape"] == shape,
         f"{where}: expected {{'shape': {shape}, 'data': […]}}")
    need(isinstance(got["data"], list) and len(got["data"]) == shape[0] * shape[1],
         f"{where}.data: expected {shape[0] * shape[1]} entries")
    for i, row in enumerate(want):
        for j, b in enumerate(row):
            a, at = got["data"][i * shape[1] + j], f"{where}[{i}, {j}]"
            if b is None:  # masked: −∞, written as null
                need(a is None, f"{at}: trace {a!r}, but the mask makes this score −∞ (null)")
                stats.count += 1
            elif a is None:
                raise TraceError(f"{at}: trace null (masked), but the mask leaves this score alone: recomputed {b!r}")
            elif is_alpha and mask[i][j]:
                need(a == 0, f"{at}: trace {a!r}, but α is exactly 0 where the score is masked")
                stats.count += 1
            else:
                compare_one(stats, at, a, b)


def compare_norm(stats, where, got, want):
    check_keys(got, where, ["mean", "var", "out"])
    compare_vector(stats, where + ".mean", got["mean"], want["mean"])
    compare_vector(stats, where + ".var", got["var"], want["var"])
    compare_matrix(stats, where + ".out", got["out"], want["out"])


def compare_attention(stats, where, got, want, mask):
    check_keys(got, where, ["heads", "out"])
    need(isinstance(got["heads"], list) and len(got["heads"]) == len(want["heads"]),
         f"{where}.heads: expected a list of {len(want['heads'])} heads")
    for i, (g, w) in enumerate(zip(got["heads"], want["heads"])):
        at = f"{where}.heads[{i}]"
        check_keys(g, at, ["q", "k", "v", "scores", "alpha"])
        for key in ("q", "k", "v", "scores"):
            compare_matrix(stats, f"{at}.{key}", g[key], w[key])
        compare_matrix(stats, at + ".alpha", g["alpha"], w["alpha"], mask, is_alpha=True)
    compare_matrix(stats, where + ".out", got["out"], want["out"])


def check_forward(T, C, R, stats):
    for who, key in (("encoder", "encoder_layers"), ("decoder", "decoder_layers")):
        norms, attn = [n for n, _ in SUBLAYERS[who]], [k for _, k in SUBLAYERS[who] if k != "ffn"]
        for k, got in enumerate(T[key]):
            where, want = f"{key}[{k}]", R[f"{who}.{k}"]
            check_keys(got, where, norms + attn + ["out"], ["ffn"])
            for norm in norms:
                compare_norm(stats, f"{where}.{norm}", got[norm], want[norm])
            for a in attn:
                compare_attention(stats, f"{where}.{a}", got[a], want[a], C.masks[f"{who}.{a}"])
            if "ffn" in got:  # the FFN's output, before the residual sum
                compare_matrix(stats, where + ".ffn", got["ffn"], want["ffn"]["out"])
            compare_matrix(stats, where + ".out", got["out"], want["out"])
    for key, name in (("encoder_norm", "encoder.norm"), ("decoder_norm", "decoder.norm")):
        if key in T:  # the final LNs of pre norm
            need(C.pre, f"'{key}' in a post-norm trace, which has no final LN")
            compare_norm(stats, key, T[key], R[name])
    compare_matrix(stats, "memory", T["memory"], R["memory"])
    compare_matrix(stats, "logits", T["logits"], R["logits"])
    compare_one(stats, "loss", T["loss"], R["loss"])


# ---- the gradients, by central differences ----------------------------------------------

def loss_moved(C, P, base, name, direction, step):
    """L(θ + step·d), d nonzero only on the entries of `name` that `direction` maps; and
    whether every relu input kept its sign (no kink crossed)."""
    data = P[name][1]
    keep = list(data)
    for i, d in direction.items():
        data[i] += step * d
    start = C.stage_of(name)
    S = forward(C, P, start, base)
    data[:] = keep
    smooth = all(S[n]["ffn"]["relu"] == base[n]["ffn"]["relu"] for n in C.layers)
    return S["loss"], smooth


def grad_check(C, P, base, stats, name, what, direction, analytic):
    """Central difference along d: (L(θ + εd) − L(θ − εd)) / 2ε  vs  Σ_i d_i ∂L/∂θ_i."""
    for step in (EPS, EPS / 10):
        (up, smooth_up), (down, smooth_down) = (loss_moved(C, P, base, name, direction, s) for s in (step, -step))
        if smooth_up and smooth_down:
            break
    else:
        stats.skipped += 1
        return
    n = (up - down) / (2 * step)
    rel = abs(analytic - n) / max(abs(analytic), abs(n), 1e-4)
    stats.count += 1
    stats.max_grad = max(stats.max_grad, rel)
    need(rel <= GRAD_TOL,
         f"grads.{name}{what}: trace {analytic!r}, finite difference {n!r} (rel error {rel:.3g})")


def sample(name, candidates, analytic):
    """The entry with the largest |analytic|, and GRAD_ENTRIES − 1 others picked pseudo-randomly."""
    largest = max(candidates, key=lambda i: abs(analytic[i]))
    others = [i for i in candidates if i != largest]
    picked = random.Random(name + " entries").sample(others, min(GRAD_ENTRIES - 1, len(others)))
    return sorted([largest] + picked)


def check_grads(T, C, P, base, stats):
    read_rows = {"src_embed": set(C.src), "tgt_embed": set(C.tgt_in)}
    for name, g in T["grads"].items():
        cols, grad = P[name][0][1], g["data"]
        candidates = range(len(grad))
        if name in read_rows:  # an embedding row no id reads: the loss never sees it
            for i in range(len(grad)):
                if i // cols not in read_rows[name]:
                    need(grad[i] == 0, f"grads.{name}[{i // cols}, {i % cols}]: trace {grad[i]!r}, but no id "
                                       f"reads row {i // cols}: expected exactly 0")
                    stats.count += 1
            candidates = [i for i in candidates if i // cols in read_rows[name]]
        for i in sample(name, list(candidates), grad):  # one entry at a time
            where = f"[{i // cols}, {i % cols}]" if len(g["shape"]) == 2 else f"[{i}]"
            grad_check(C, P, base, stats, name, where, {i: 1.0}, grad[i])
        rng = random.Random(name)  # and all entries at once, along random signs d
        d = {i: rng.choice((-1.0, 1.0)) for i in range(len(grad))}
        grad_check(C, P, base, stats, name, " along a random ±1 direction (sum of d_i·grad_i)", d,
                   sum(d[i] * a for i, a in enumerate(grad)))


def check_file(T):
    """Check one parsed trace (model.kind "transformer"); returns Stats, raises TraceError."""
    C, P = check_structure(T)
    stats = Stats()
    base = forward(C, P)
    check_forward(T, C, base, stats)
    check_grads(T, C, P, base, stats)
    return stats
