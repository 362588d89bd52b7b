#!/usr/bin/env python3
"""Recompute every number in a stepgrad-trace/1 file (SPEC §3, §4, §7, §11), independently.

    python3 tests/check_trace.py FILE [FILE ...]

Pure Python 3, standard library only. Reads the trace's own `params` and ids, runs the
encoder and decoder equations of SPEC §3–§4 (and §11's bidirectional and stacked
encoders: every layer and direction, the bridge's decoder_init), and compares every
encoder and decoder step, the logits and the loss (|a − b| ≤ 1e-9·max(1, |b|)). The `grads` are checked by central
finite differences of this file's own loss on a few entries of each parameter (evenly
spaced, plus the largest) and along one pseudo-random direction through all its entries:
|a − n| / max(|a|, |n|, 1e-4) ≤ 1e-5. A Transformer trace (SPEC §14, model.kind
"transformer") is checked by the sibling module check_transformer_trace.py, to the same
tolerances. Exit code 0 iff all pass.
"""
import json
import math
import random
import sys
import time
from operator import mul

import check_transformer_trace as transformer  # SPEC §14: the sibling file

FORMAT = "stepgrad-trace/1"
FWD_TOL, GRAD_TOL, GRAD_SAMPLES = 1e-9, 1e-5, 6
EPS = 1e-5  # with 1e-6, rounding in the loss (~1e-16·L/ε) already costs 4e-6 of the 1e-5 budget
GATES = {"rnn": [], "gru": ["r", "z", "n"], "lstm": ["i", "f", "g", "o"]}
SCORES = ["concat", "dot", "general", "qk", "qk-scaled"]


class TraceError(Exception):
    pass


# ---- vector helpers (a matrix is (rows, cols, flat row-major data)) -----------------

def matvec(W, x):  # y = W x
    rows, cols, d = W
    return [sum(map(mul, d[r * cols:(r + 1) * cols], x)) for r in range(rows)]


def add(*vs):
    return [sum(t) for t in zip(*vs)]


def dot(a, b):
    return sum(map(mul, a, b))


def sigmoid(x):  # σ(x) = 1 / (1 + e^{−x}), written so that exp never overflows
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def softmax(e):  # α_i = exp(e_i − max e) / Σ_k exp(e_k − max e)
    top = max(e)
    ex = [math.exp(v - top) for v in e]
    total = sum(ex)
    return [v / total for v in ex]


def log_softmax(z):  # log softmax(z)_i = z_i − max z − log Σ_k exp(z_k − max z)
    top = max(z)
    lse = top + math.log(sum(math.exp(v - top) for v in z))
    return [v - lse for v in z]


# ---- SPEC §3: the cells (PyTorch conventions) ----------------------------------------

def cell(kind, P, who, x, h, c):
    """One step of `who` ("encoder" or "decoder"); returns (h', c', gates)."""
    H = len(h)
    g = add(matvec(P[who + ".W_ih"], x), P[who + ".b_ih"][2])     # W_ih x + b_ih
    u = add(matvec(P[who + ".W_hh"], h), P[who + ".b_hh"][2])     # W_hh h + b_hh
    if kind == "rnn":  # h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
        return [math.tanh(a + b) for a, b in zip(g, u)], None, {}
    part = lambda v, k: v[k * H:(k + 1) * H]
    if kind == "gru":
        # r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
        r = [sigmoid(a + b) for a, b in zip(part(g, 0), part(u, 0))]
        z = [sigmoid(a + b) for a, b in zip(part(g, 1), part(u, 1))]
        # n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        n = [math.tanh(a + ri * b) for a, ri, b in zip(part(g, 2), r, part(u, 2))]
        h2 = [(1 - zi) * ni + zi * hi for zi, ni, hi in zip(z, n, h)]  # h' = (1 − z) ⊙ n + z ⊙ h
        return h2, None, {"r": r, "z": z, "n": n}
    pre = [add(part(g, k), part(u, k)) for k in range(4)]  # W_i* x + b_i* + W_h* h + b_h*
    i, f, o = ([sigmoid(v) for v in pre[k]] for k in (0, 1, 3))  # i, f, o = σ(…)
    gg = [math.tanh(v) for v in pre[2]]                          # g = tanh(…)
    c2 = [fi * ci + ii * gi for fi, ci, ii, gi in zip(f, c, i, gg)]  # c' = f ⊙ c + i ⊙ g
    h2 = [oi * math.tanh(ci) for oi, ci in zip(o, c2)]               # h' = o ⊙ tanh(c')
    return h2, c2, {"i": i, "f": f, "g": gg, "o": o}


# ---- SPEC §4: scores, attention, the decoders ----------------------------------------

def scores(kind, P, Hs, s):
    """e_i = score(h_i, s) for every encoder state h_i."""
    if kind == "concat":  # e_i = vᵀ tanh(W [h_i; s])
        v = P["attention.v"][2]
        return [dot(v, [math.tanh(a) for a in matvec(P["attention.W"], h + s)]) for h in Hs]
    if kind == "dot":  # e_i = sᵀ h_i
        return [dot(s, h) for h in Hs]
    if kind == "general":  # e_i = sᵀ W h_i
        return [dot(s, matvec(P["attention.W"], h)) for h in Hs]
    q = matvec(P["attention.W_Q"], s)  # q = W_Q s,  k_i = W_K h_i,  e_i = k_iᵀ q  (÷ √A if scaled)
    scale = 1 / math.sqrt(len(q)) if kind == "qk-scaled" else 1.0
    return [dot(matvec(P["attention.W_K"], h), q) * scale for h in Hs]


def attend(kind, P, Hs, s):
    e = scores(kind, P, Hs, s)
    alpha = softmax(e)                                            # α = softmax(e)
    context = [dot(alpha, col) for col in zip(*Hs)]               # c = Σ_i α_i h_i
    return e, alpha, context


def row(P, name, i):  # embed[i], a row of an embedding table
    rows, cols, d = P[name]
    return d[i * cols:(i + 1) * cols]


def prefix(who, layer):  # SPEC §11's names: "encoder", "encoder.l2", … (layer from 0)
    return who if layer == 0 else f"{who}.l{layer + 1}"


def run_cell(kind, P, who, xs, H):
    """One direction of one layer over xs from h_0 = 0 (and c_0 = 0): [(h, c, gates)] by step."""
    h, c = [0.0] * H, ([0.0] * H if kind == "lstm" else None)
    out = []
    for x in xs:
        h, c, gates = cell(kind, P, who, x, h, c)
        out.append((h, c, gates))
    return out


def encode(T, P):
    """SPEC §4/§11 encoder: every layer (bottom first) as (forward steps, backward steps or None)."""
    M = T["model"]
    kind, H, L, bi = M["cell"], M["hidden_dim"], M.get("layers", 1), M.get("bidirectional", False)
    xs = [row(P, "src_embed", x) for x in T["src"]]  # layer 1 reads src_embed[x_t]
    layers = []
    for l in range(L):
        fwd = run_cell(kind, P, prefix("encoder", l), xs, H)          # →h_t = cell(x_t, →h_{t−1})
        bwd = run_cell(kind, P, prefix("encoder", l) + ".reverse", xs[::-1], H)[::-1] if bi else None
        layers.append((fwd, bwd))                                     # ←h_t = cell(x_t, ←h_{t+1})
        xs = [f[0] + b[0] for f, b in zip(fwd, bwd)] if bi else [f[0] for f in fwd]  # layer ℓ+1 reads these
    return layers, xs  # xs: the annotations h_t = [→h_t; ←h_t] (or →h_t) of the top layer


def decoder_init(T, P, layers):
    """s_0 per decoder layer: (h_m, c_m) of the encoder's layer, or tanh(bridge.W ←h_1 + bridge.b), c_0 = 0."""
    M = T["model"]
    if not M.get("bidirectional", False):
        return [(fwd[-1][0], fwd[-1][1]) for fwd, _ in layers]
    init = []
    for l, (_, bwd) in enumerate(layers):
        who = prefix("bridge", l)
        s0 = [math.tanh(v) for v in add(matvec(P[who + ".W"], bwd[0][0]), P[who + ".b"][2])]
        init.append((s0, [0.0] * len(s0) if M["cell"] == "lstm" else None))
    return init


def forward(T, P):
    """Run the trace's ids through the model: {"encoder": steps, "decoder": steps, "loss": L}."""
    M = T["model"]
    cell_kind, dec, score = M["cell"], M["decoder"], M["score"]
    layers, Hs = encode(T, P)
    enc = []
    for t, h in enumerate(Hs):
        st = {"h": h, "c": layers[-1][0][t][1], "gates": layers[-1][0][t][2]}
        st["layers"] = [{"h": f[t][0], "c": f[t][1], "gates": f[t][2],
                         "reverse": {"h": b[t][0], "c": b[t][1], "gates": b[t][2]} if b else None}
                        for f, b in layers]
        enc.append(st)
    if dec == "none":  # encoder-only: loss = Σ last h
        return {"encoder": enc, "decoder": [], "loss": sum(Hs[-1])}
    states = decoder_init(T, P, layers)  # s_0 = h_m (and c_m), or the bridge's, per layer
    init = [{"s": s, "c": c} for s, c in states]
    steps, nll = [], 0.0
    inputs = [T["bos"]] + T["tgt"][:-1]  # y_0 = <bos>, then teacher forcing
    for y_prev, y in zip(inputs, T["tgt"]):
        st, x = {}, row(P, "tgt_embed", y_prev)
        if dec == "bahdanau":  # e_{j,i} = score(h_i, s_{j−1}) with the top layer's s; layer 1 reads [emb; c_j]
            st["scores"], st["alpha"], st["context"] = attend(score, P, Hs, states[-1][0])
            x = x + st["context"]
        st["layers"] = []
        for l, (s, sc) in enumerate(states):  # s_j = cell(x, s_{j−1}); layer ℓ > 1 reads layer ℓ−1's s_j
            s, sc, gates = cell(cell_kind, P, prefix("decoder", l), x, s, sc)
            states[l] = (s, sc)
            st["layers"].append({"s": s, "c": sc, "gates": gates})
            x = s
        st["s"], st["c"], st["gates"] = s, sc, gates  # the top layer's
        if dec == "bahdanau":  # logits_j = W_out [s_j; c_j] + b_out
            out = s + st["context"]
        elif dec == "luong":  # e_{j,i} = score(h_i, s_j);  h̃_j = tanh(W_c [s_j; c_j])
            st["scores"], st["alpha"], st["context"] = attend(score, P, Hs, s)
            h_tilde = matvec(P["output.W_c"], s + st["context"])
            out = st["h_tilde"] = [math.tanh(v) for v in h_tilde]  # logits_j = W_out h̃_j + b_out
        else:  # plain: logits_j = W_out s_j + b_out
            out = s
        st["logits"] = add(matvec(P["output.W"], out), P["output.b"][2])
        nll -= log_softmax(st["logits"])[y]  # −log softmax(logits_j)[y_j]
        steps.append(st)
    return {"encoder": enc, "decoder_init": init, "decoder": steps, "loss": nll / len(steps)}  # mean over j


# ---- SPEC §7: structure ---------------------------------------------------------------

def expected_shapes(T):
    """Parameter name -> shape, from the model dims and vocab sizes (SPEC §4)."""
    M = T["model"]
    E, H, G = M["embed_dim"], M["hidden_dim"], max(1, len(GATES[M["cell"]]))
    A, dec, score = M.get("attn_dim"), M["decoder"], M["score"]
    L, bi = M.get("layers", 1), M.get("bidirectional", False)
    Hk = 2 * H if bi else H  # the width of the keys h_i (SPEC §11)
    shapes = {"src_embed": [len(T["src_vocab"]), E]}
    whos = []
    for l in range(L):  # layer 1 reads E, layer ℓ > 1 reads layer ℓ−1's →h or [→h; ←h]
        whos += [(prefix("encoder", l) + d, E if l == 0 else Hk) for d in ([""] + [".reverse"] * bi)]
    if dec != "none":
        V = len(T["tgt_vocab"])
        shapes["tgt_embed"] = [V, E]
        whos += [(prefix("decoder", l), (E + Hk if dec == "bahdanau" else E) if l == 0 else H) for l in range(L)]
        if bi:
            for l in range(L):
                shapes.update({prefix("bridge", l) + ".W": [H, H], prefix("bridge", l) + ".b": [H]})
        shapes.update({"output.W": [V, H + Hk if dec == "bahdanau" else H], "output.b": [V]})
        if dec == "luong":
            shapes["output.W_c"] = [H, H + Hk]
        shapes.update({"concat": {"attention.W": [A, Hk + H], "attention.v": [A]},
                       "general": {"attention.W": [H, Hk]},
                       "qk": {"attention.W_K": [A, Hk], "attention.W_Q": [A, H]},
                       "qk-scaled": {"attention.W_K": [A, Hk], "attention.W_Q": [A, H]},
                       }.get(score, {}))
    for who, n_in in whos:
        shapes.update({who + ".W_ih": [G * H, n_in], who + ".W_hh": [G * H, H],
                       who + ".b_ih": [G * H], who + ".b_hh": [G * H]})
    return shapes


def need(cond, msg):
    if not cond:
        raise TraceError(msg)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_tensors(T, key, shapes):
    need(isinstance(T.get(key), dict), f"'{key}' missing or not an object")
    got = T[key]
    need(set(got) == set(shapes), f"{key}: unexpected {sorted(set(got) - set(shapes))}, "
                                  f"missing {sorted(set(shapes) - set(got))} for this model")
    P = {}
    for name, shape in shapes.items():
        t = got[name]
        need(t.get("shape") == shape, f"{key}.{name}.shape is {t.get('shape')}, expected {shape}")
        need(len(t.get("data", ())) == math.prod(shape) and all(map(is_num, t["data"])),
             f"{key}.{name}.data: expected {math.prod(shape)} numbers")
        rows, cols = (shape + [1])[:2]  # a 1-D vector is n × 1
        P[name] = (rows, cols, t["data"])
    return P


def check_vector(st, where, key, n):
    need(isinstance(st.get(key), list) and len(st[key]) == n and all(map(is_num, st[key])),
         f"{where}{key}: expected a list of {n} numbers")


def check_structure(T):
    """SPEC §7: every listed field present with the right lengths; returns the params."""
    need(T.get("format") == FORMAT, f"format is {T.get('format')!r}, expected {FORMAT!r}")
    need(isinstance(T.get("lesson"), str), "'lesson' missing or not a string")
    M = T.get("model") or {}
    need(M.get("cell") in GATES, f"model.cell is {M.get('cell')!r}")
    need(M.get("decoder") in ("plain", "bahdanau", "luong", "none"), f"model.decoder is {M.get('decoder')!r}")
    attn = M["decoder"] in ("bahdanau", "luong")
    need(M.get("score") in (SCORES if attn else ["none"]),
         f"model.score {M.get('score')!r} with decoder {M['decoder']!r}")
    dims = ["embed_dim", "hidden_dim"] + (["attn_dim"] if M["score"] in ("concat", "qk", "qk-scaled") else [])
    for k in dims:
        need(isinstance(M.get(k), int) and M[k] > 0, f"model.{k} missing or not a positive integer")
    H, cell_kind = M["hidden_dim"], M["cell"]
    section11 = "bidirectional" in M or "layers" in M
    if section11:  # SPEC §11
        need(isinstance(M.get("bidirectional"), bool), "model.bidirectional missing or not true/false")
        need(M.get("layers") in (1, 2, 3, 4), f"model.layers is {M.get('layers')!r}, expected 1 to 4")
        need(not (M["bidirectional"] and M["score"] == "dot"), "score 'dot' with a bidirectional encoder")
        need(M["decoder"] != "none", "an encoder-only trace has no model.bidirectional or model.layers")
    Hk = 2 * H if M.get("bidirectional") else H
    need(isinstance(T.get("src_vocab"), list) and T["src_vocab"], "'src_vocab' missing")
    need(isinstance(T.get("src"), list) and T["src"], "'src' missing or empty")
    for i, x in enumerate(T["src"]):
        need(isinstance(x, int) and 0 <= x < len(T["src_vocab"]), f"src[{i}] = {x} outside src_vocab")
    if M["decoder"] != "none":
        need(isinstance(T.get("tgt_vocab"), list) and T["tgt_vocab"], "'tgt_vocab' missing")
    P = check_tensors(T, "params", expected_shapes(T))
    need(isinstance(T.get("encoder"), list) and len(T["encoder"]) == len(T["src"]),
         f"encoder: expected {len(T['src'])} steps (one per src id)")
    for i, st in enumerate(T["encoder"]):
        w = f"encoder t={i + 1} "
        need(st.get("t") == i + 1 and st.get("token") == T["src"][i],
             f"encoder step {i + 1} has t = {st.get('t')}, token = {st.get('token')}; expected src[{i}]")
        check_vector(st, w, "h", Hk)
        if section11:
            check_encoder_layers(st, w, M)
        else:
            check_cell_fields(st, w, "h", cell_kind, H)
    need(is_num(T.get("loss")), "'loss' missing or not a number")
    if M["decoder"] == "none":
        need("decoder" not in T, "encoder-only trace has a 'decoder'")
        if "grads" in T:
            need(T.get("loss_definition") == "sum_last_h",
                 "encoder-only grads need loss_definition 'sum_last_h'")
    else:
        check_decoder_structure(T, M, attn)
    if "grads" in T or M["decoder"] != "none":
        check_tensors(T, "grads", expected_shapes(T))
    if "eval" in T:
        ev = T["eval"]
        need(isinstance(ev.get("task"), str) and isinstance(ev.get("examples"), int) and ev["examples"] > 0,
             "eval: needs 'task' and a positive 'examples'")
        for k in ("token_accuracy", "sequence_accuracy"):
            need(is_num(ev.get(k)) and 0 <= ev[k] <= 1, f"eval.{k} = {ev.get(k)} not in [0, 1]")
        for k in ("alignment_accuracy", "alignment_accuracy_shifted"):  # SPEC §11, when α exists
            need(k not in ev or (is_num(ev[k]) and 0 <= ev[k] <= 1), f"eval.{k} = {ev.get(k)} not in [0, 1]")
        need(("alignment_accuracy" in ev) == ("alignment_accuracy_shifted" in ev),
             "eval: alignment_accuracy and alignment_accuracy_shifted come together")
    return P


def check_cell_fields(st, w, state, cell_kind, H):
    """`state` ("h" or "s"), "c" (LSTM) and the gates of one cell step."""
    check_vector(st, w, state, H)
    if cell_kind == "lstm":
        check_vector(st, w, "c", H)
    need(set(st.get("gates") or {}) == set(GATES[cell_kind]), f"{w}gates: expected {GATES[cell_kind]}")
    for g in GATES[cell_kind]:
        check_vector(st["gates"], w + "gates.", g, H)


def check_encoder_layers(st, w, M):
    """SPEC §11: "layers", bottom first, each with "reverse" iff bidirectional."""
    need(isinstance(st.get("layers"), list) and len(st["layers"]) == M["layers"],
         f"{w}layers: expected a list of {M['layers']} layers")
    for l, layer in enumerate(st["layers"]):
        check_cell_fields(layer, f"{w}layers[{l}].", "h", M["cell"], M["hidden_dim"])
        need(("reverse" in layer) == M["bidirectional"], f"{w}layers[{l}]: 'reverse' iff bidirectional")
        if M["bidirectional"]:
            check_cell_fields(layer["reverse"], f"{w}layers[{l}].reverse.", "h", M["cell"], M["hidden_dim"])


def check_decoder_structure(T, M, attn):
    H, V, m = M["hidden_dim"], len(T.get("tgt_vocab") or []), len(T["src"])
    section11 = "layers" in M
    Hk = 2 * H if M.get("bidirectional") else H
    need(section11 == ("decoder_init" in T), "'decoder_init' belongs to (and only to) a SPEC §11 trace")
    if section11:
        need(isinstance(T["decoder_init"], list) and len(T["decoder_init"]) == M["layers"],
             f"decoder_init: expected {M['layers']} layers")
        for l, st in enumerate(T["decoder_init"]):
            check_vector(st, f"decoder_init[{l}].", "s", H)
            if M["cell"] == "lstm":
                check_vector(st, f"decoder_init[{l}].", "c", H)
    need(V > 0 and isinstance(T.get("tgt"), list) and T["tgt"], "'tgt_vocab' or 'tgt' missing")
    need(T.get("bos") in range(V) and T["tgt_vocab"][T["bos"]] == "<bos>",
         f"bos = {T.get('bos')} is not the id of <bos>")
    for j, y in enumerate(T["tgt"]):
        need(isinstance(y, int) and 0 <= y < V, f"tgt[{j}] = {y} outside tgt_vocab")
    need(T["tgt_vocab"][T["tgt"][-1]] == "<eos>", "tgt does not end with <eos>")
    need(isinstance(T.get("decoder"), list) and len(T["decoder"]) == len(T["tgt"]),
         f"decoder: expected {len(T['tgt'])} steps (one per tgt id)")
    inputs = [T["bos"]] + T["tgt"][:-1]
    for j, st in enumerate(T["decoder"]):
        w = f"decoder t={j + 1} "
        need(st.get("t") == j + 1, f"decoder step {j + 1} has t = {st.get('t')}")
        need(st.get("input") == inputs[j], f"{w}input = {st.get('input')}, expected y_{j} = {inputs[j]}")
        need(st.get("target") == T["tgt"][j], f"{w}target = {st.get('target')}, expected {T['tgt'][j]}")
        # SPEC §11: the gold alignment, source positions 1..m (a token may align to none)
        gold = st.get("gold", [])
        need(isinstance(gold, list) and all(isinstance(i, int) and 1 <= i <= len(T["src"]) for i in gold)
             and gold == sorted(set(gold)), f"{w}gold = {gold}: not distinct source positions 1..{len(T['src'])}")
        check_vector(st, w, "logits", V)
        check_cell_fields(st, w, "s", M["cell"], H)
        if section11:
            need(isinstance(st.get("layers"), list) and len(st["layers"]) == M["layers"],
                 f"{w}layers: expected a list of {M['layers']} layers")
            for l, layer in enumerate(st["layers"]):
                check_cell_fields(layer, f"{w}layers[{l}].", "s", M["cell"], H)
        if attn:
            for key, n in (("scores", m), ("alpha", m), ("context", Hk)):
                check_vector(st, w, key, n)
            need(abs(sum(st["alpha"]) - 1) <= 1e-9 and min(st["alpha"]) >= 0,
                 f"{w}alpha: sums to {sum(st['alpha'])!r}, min {min(st['alpha'])!r}")
        else:
            need(not {"scores", "alpha", "context"} & set(st),
                 f"{w.strip()}: a plain decoder has no scores/alpha/context")
        if "h_tilde" in st:
            need(M["decoder"] == "luong", f"{w}h_tilde in a {M['decoder']} trace")
            check_vector(st, w, "h_tilde", H)


# ---- the comparisons -------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.count, self.max_fwd, self.max_grad = 0, 0.0, 0.0


def compare_one(stats, where, a, b):
    """a = the trace's number, b = recomputed; |a − b| ≤ 1e-9·max(1, |b|)."""
    diff = abs(a - b)
    stats.count += 1
    stats.max_fwd = max(stats.max_fwd, diff / max(1.0, abs(b)))
    need(diff <= FWD_TOL * max(1.0, abs(b)), f"{where}: trace {a!r}, recomputed {b!r} (diff {diff:.3g})")


def compare(stats, where, got, want):
    for i, (a, b) in enumerate(zip(got, want)):
        compare_one(stats, f"{where}[{i}]", a, b)


def compare_cell(stats, where, st, r, state):
    """`state` ("h" or "s"), "c" and the gates of one cell step."""
    compare(stats, f"{where} {state}", st[state], r[state])
    if r["c"] is not None:
        compare(stats, f"{where} c", st["c"], r["c"])
    for g, v in r["gates"].items():
        compare(stats, f"{where} gates.{g}", st["gates"][g], v)


def check_forward(T, R, stats):
    for i, (st, r) in enumerate(zip(T["encoder"], R["encoder"])):
        if "layers" not in st:  # SPEC §7: the one layer's h, c, gates
            compare_cell(stats, f"encoder t={i + 1}", st, r, "h")
            continue
        compare(stats, f"encoder t={i + 1} h", st["h"], r["h"])  # SPEC §11: the annotation, then every layer
        for l, (sl, rl) in enumerate(zip(st["layers"], r["layers"])):
            compare_cell(stats, f"encoder t={i + 1} layers[{l}]", sl, rl, "h")
            if rl["reverse"]:
                compare_cell(stats, f"encoder t={i + 1} layers[{l}].reverse", sl["reverse"], rl["reverse"], "h")
    for l, (st, r) in enumerate(zip(T.get("decoder_init", []), R.get("decoder_init", []))):
        compare(stats, f"decoder_init[{l}] s", st["s"], r["s"])
        if r["c"] is not None:
            compare(stats, f"decoder_init[{l}] c", st["c"], r["c"])
    for j, (st, r) in enumerate(zip(T.get("decoder", []), R["decoder"])):
        for key in ("scores", "alpha", "context", "h_tilde", "logits"):
            if key in st and r.get(key) is not None:
                compare(stats, f"decoder t={j + 1} {key}", st[key], r[key])
        compare_cell(stats, f"decoder t={j + 1}", st, r, "s")
        for l, (sl, rl) in enumerate(zip(st.get("layers", []), r["layers"])):
            compare_cell(stats, f"decoder t={j + 1} layers[{l}]", sl, rl, "s")
    compare_one(stats, "loss", T["loss"], R["loss"])


def sample(n, analytic):
    """Up to GRAD_SAMPLES evenly spaced entries, plus the largest |analytic| one."""
    k = min(GRAD_SAMPLES, n)
    idx = {round(i * (n - 1) / (k - 1)) for i in range(k)} if k > 1 else {0}
    idx.add(max(range(n), key=lambda i: abs(analytic[i])))
    return sorted(idx)


def loss_moved(T, P, name, direction, step):
    """L(θ + step·d), d nonzero only on the entries of `name` that `direction` maps."""
    data = P[name][2]
    keep = list(data)
    for i, d in direction.items():
        data[i] += step * d
    loss = forward(T, P)["loss"]
    data[:] = keep
    return loss


def grad_check(T, P, stats, name, what, direction, analytic):
    """Central difference along d: (L(θ + εd) − L(θ − εd)) / 2ε  vs  Σ_i d_i ∂L/∂θ_i."""
    n = (loss_moved(T, P, name, direction, EPS) - loss_moved(T, P, name, direction, -EPS)) / (2 * EPS)
    rel = abs(analytic - n) / max(abs(analytic), abs(n), 1e-4)
    stats.count += 1
    stats.max_grad = max(stats.max_grad, rel)
    need(rel <= GRAD_TOL,
         f"grads.{name}{what}: trace {analytic!r}, finite difference {n!r} (rel error {rel:.3g})")


def check_grads(T, P, stats):
    for name, g in T["grads"].items():
        cols = P[name][1]
        for i in sample(len(g["data"]), g["data"]):  # one entry at a time
            where = f"[{i // cols}, {i % cols}]" if len(g["shape"]) == 2 else f"[{i}]"
            grad_check(T, P, stats, name, where, {i: 1.0}, g["data"][i])
        rng = random.Random(name)  # and all entries at once, along random signs d
        d = {i: rng.choice((-1.0, 1.0)) for i in range(len(g["data"]))}
        grad_check(T, P, stats, name, " along a random ±1 direction (sum of d_i·grad_i)", d,
                   sum(d[i] * a for i, a in enumerate(g["data"])))


def reject_constant(name):
    raise TraceError(f"non-finite number {name} in the file")


def check_file(path):
    with open(path, encoding="utf-8") as f:
        T = json.load(f, parse_constant=reject_constant)
    need(isinstance(T, dict), "the file is not a JSON object")
    if isinstance(T.get("model"), dict) and T["model"].get("kind") == "transformer":
        return transformer.check_file(T)
    P = check_structure(T)
    P = {k: (r, c, list(d)) for k, (r, c, d) in P.items()}  # a private copy to perturb
    stats = Stats()
    check_forward(T, forward(T, P), stats)
    if "grads" in T:
        check_grads(T, P, stats)
    return stats


def main(paths):
    if not paths:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    ok = True
    for path in paths:
        start = time.perf_counter()
        try:
            s = check_file(path)
            print(f"OK {path}: {s.count} numbers checked, max forward diff {s.max_fwd:.2g}, "
                  f"max grad rel error {s.max_grad:.2g}{s.note() if hasattr(s, 'note') else ''} "
                  f"({time.perf_counter() - start:.2f} s)")
        except (TraceError, transformer.TraceError, OSError, ValueError, KeyError, TypeError, AttributeError,
                ArithmeticError) as e:
            ok = False
            kind = "" if isinstance(e, (TraceError, transformer.TraceError)) else type(e).__name__ + ": "
            print(f"FAIL {path}: {kind}{e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
