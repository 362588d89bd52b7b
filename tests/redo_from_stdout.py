#!/usr/bin/env python3
"""Redo a lesson's arithmetic from its screen, as a learner with a calculator would.

    redo_from_stdout.py <lessons-dir> [--quick]

Runs lessons 03–06 under `--trace full --color never` for every cell × decoder × score
they offer, reads *only their stdout* (no JSON), and recomputes every printed gate,
state, key, query, score, α, context, logit, probability and loss from other printed
numbers: the parameters each lesson prints once, the embedding rows, the previous
state. Lesson 10's Transformer likewise, pre-norm and post-norm: the PE table and rows,
X and Y, every μ and σ², LN output, Q_i, K_i, V_i, score (−∞ exactly where the causal mask
is), α_i and its heatmap's shades, head_i, MHA, FFN hidden layer and output, residual sum,
logit, p, −log p, the loss, and the spread of the scores in section 5. A number passes when it is within what rounding to the printed 4 decimals can
explain: each printed input may be off by δ = 0.00005, and the bound of every check is
that δ carried through its formula to first order (Σ|∂f/∂input|·δ), plus δ for the
printed result itself. Anything further off is a wrong printout, a wrong label or a
wrong equation, and fails the test.

Each check uses printed inputs, never its own earlier results, so that an error shows
where it is made instead of spreading.
"""
import math
import re
import subprocess
import sys
import unicodedata

DELTA = 0.5e-4  # half a unit of the 4th decimal: all that printing to 4 places can hide
SLACK = 1.0001  # first-order bounds, and nothing else, need a hair more

NUMBER = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?")


# --- reading the screen ------------------------------------------------------------

def read_vectors(lines):
    """Every `label = [numbers]` of the screen, continued over lines until `]`, in
    order, as (line index, label, numbers)."""
    vectors, i = [], 0
    while i < len(lines):
        line = lines[i]
        at = line.rfind(" = [")
        if at < 0 or not line.startswith("  "):
            i += 1
            continue
        label, text, start = line[:at].strip(), line[at + 4:], i
        while "]" not in text and i + 1 < len(lines):
            i += 1
            text += " " + lines[i]
        vectors.append((start, label, [float(x) for x in NUMBER.findall(text.split("]")[0])]))
        i += 1
    return vectors


class Checker:
    """Counts the numbers redone, and keeps the first failures."""

    def __init__(self, name):
        self.name, self.checked, self.failures = name, 0, []

    def close(self, what, printed, computed, bound):
        """printed and computed: numbers or equal-length lists; bound likewise."""
        if not isinstance(printed, list):
            printed, computed, bound = [printed], [computed], [bound]
        if len(printed) != len(computed):
            self.failures.append(f"{what}: {len(printed)} numbers printed, {len(computed)} expected")
            return
        for k, (p, c, b) in enumerate(zip(printed, computed, bound)):
            self.checked += 1
            allowed = SLACK * (b + DELTA) + 1e-12
            if not abs(p - c) <= allowed:
                self.failures.append(f"{what}[{k + 1}]: printed {p}, recomputed {c:.6f} (allowed ±{allowed:.2e})")

    def require(self, condition, message):
        if not condition:
            self.failures.append(message)


# --- arithmetic with its rounding bound ----------------------------------------------

def affine(rows, x, biases=()):
    """W x + Σ b, and for each entry Σ_k (|W_k| + |x_k|)·δ + (number of biases)·δ."""
    values, bounds = [], []
    for r, row in enumerate(rows):
        values.append(sum(w * v for w, v in zip(row, x)) + sum(b[r] for b in biases))
        bounds.append(DELTA * (sum(abs(w) + abs(v) for w, v in zip(row, x)) + len(biases)))
    return values, bounds


def dot(a, b):
    return sum(x * y for x, y in zip(a, b)), DELTA * sum(abs(x) + abs(y) for x, y in zip(a, b))


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def softmax(values):
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def zeros(n):
    return [0.0] * n


# --- one recurrent step, redone ------------------------------------------------------

GATES = {"rnn": [""], "gru": ["r", "z", "n"], "lstm": ["i", "f", "g", "o"]}


class Parameters:
    """The parameters a lesson printed once: `encoder.W_ih[r3]` is a row, `encoder.b_ih[r]`
    a gate's bias, `src_embed['c']` an embedding row."""

    def __init__(self, vectors):
        self.values = {label: values for _, label, values in vectors}

    def __contains__(self, label):
        return label in self.values

    def __getitem__(self, label):
        if label not in self.values:
            raise KeyError(f"the screen never printed {label}")
        return self.values[label]

    def rows(self, name, gate, size):
        return [self[f"{name}[{gate}{k}]"] for k in range(1, size + 1)]

    def bias(self, name, gate):
        return self[f"{name}[{gate}]"] if gate else self[name]

    def numbered_rows(self, name):
        rows, k = [], 1
        while f"{name}[{k}]" in self.values:
            rows.append(self.values[f"{name}[{k}]"])
            k += 1
        return rows


def along(shown, arrow):
    """The labels of one direction without its arrow: "pre →r_1" → "pre r_1", "←h_2" → "h_2"."""
    view = {}
    for label, values in shown.items():
        pre = label.startswith("pre ")
        rest = label[4:] if pre else label
        if rest.startswith(arrow):
            view[("pre " if pre else "") + rest[len(arrow):]] = values
    return view


def redo_cell_step(check, params, prefix, cell, x, h, c, shown, t, state, memory, arrow=""):
    """Redo one step of `prefix`'s cell from the printed x, h_{t−1} (and c_{t−1}): every
    pre-activation, gate, the memory and the new state, against `shown` (label → numbers).
    `arrow` ("→", "←" or "") marks a bidirectional encoder's direction on the labels."""
    H = len(h)
    where = f"{prefix} step {t}"
    if arrow:
        shown = along(shown, arrow)
    pre, gates = {}, {}
    for g in GATES[cell]:
        from_x = affine(params.rows(f"{prefix}.W_ih", g, H), x, [params.bias(f"{prefix}.b_ih", g)])
        from_h = affine(params.rows(f"{prefix}.W_hh", g, H), h, [params.bias(f"{prefix}.b_hh", g)])
        name = g if g else state
        if cell == "gru" and g == "n":
            r = shown[f"r_{t}"]
            # pre n = W_in x + b_in + r ⊙ (W_hn h + b_hn)
            values = [a + rk * b for a, rk, b in zip(from_x[0], r, from_h[0])]
            bounds = [ba + abs(rk) * bb + DELTA * abs(b) for ba, rk, bb, b in zip(from_x[1], r, from_h[1], from_h[0])]
        else:
            values = [a + b for a, b in zip(from_x[0], from_h[0])]
            bounds = [a + b for a, b in zip(from_x[1], from_h[1])]
        pre[name] = shown[f"pre {name}_{t}"]
        check.close(f"{where}: pre {name}_{t}", pre[name], values, bounds)
        if not g:
            continue
        tanh_gate = g == "n" or (cell == "lstm" and g == "g")
        activation = math.tanh if tanh_gate else sigmoid
        gates[g] = shown[f"{g}_{t}"]
        # σ' ≤ 1/4, tanh' ≤ 1
        check.close(f"{where}: {g}_{t}", gates[g], [activation(p) for p in pre[g]],
                    [(1 if tanh_gate else 0.25) * DELTA] * H)
    new = shown[f"{state}_{t}"]
    if cell == "rnn":
        check.close(f"{where}: {state}_{t}", new, [math.tanh(p) for p in pre[state]], [DELTA] * H)
    elif cell == "gru":
        z, n = gates["z"], gates["n"]
        # h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
        check.close(f"{where}: {state}_{t}", new, [(1 - zk) * nk + zk * hk for zk, nk, hk in zip(z, n, h)],
                    [DELTA * (abs(1 - zk) + abs(zk) + abs(hk - nk)) for zk, nk, hk in zip(z, n, h)])
    else:
        i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
        memory_now = shown[memory.format(t)]
        # c_t = f ⊙ c_{t−1} + i ⊙ g
        check.close(f"{where}: memory c_{t}", memory_now, [fk * ck + ik * gk for fk, ck, ik, gk in zip(f, c, i, g)],
                    [DELTA * (abs(fk) + abs(ck) + abs(ik) + abs(gk)) for fk, ck, ik, gk in zip(f, c, i, g)])
        # h_t = o ⊙ tanh(c_t)
        check.close(f"{where}: {state}_{t}", new, [ok * math.tanh(ck) for ok, ck in zip(o, memory_now)],
                    [DELTA * (abs(math.tanh(ck)) + abs(ok)) for ok, ck in zip(o, memory_now)])
        return new, memory_now
    return new, None


# --- lessons 04–06: one seq2seq example ---------------------------------------------

STEP = re.compile(r"^step j = (\d+): reads y_\d+ = '(.*)', must predict y_\d+ = '(.*)'$")
ENCODER_INPUT = re.compile(r"^  x_(\d+) = '(.*)': src_embed\[")
ALPHA_ROW = re.compile(r"^\s+(\d+)\s+'(.*)'\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)")
TOP = re.compile(r"'((?:[^']|'(?! ))*)' (\d\.\d+)")


def split_steps(lines):
    """The encoder's lines (before decoder step 1) and each decoder step's, with its
    tokens: [(j, read, predict, lines)]."""
    starts = [i for i, line in enumerate(lines) if STEP.match(line)]
    if not starts:
        return lines, []
    ends = starts[1:] + [next(i for i in range(starts[-1], len(lines)) if lines[i].startswith("loss on this example"))]
    steps = []
    for begin, end in zip(starts, ends):
        j, read, predict = STEP.match(lines[begin]).groups()
        steps.append((int(j), read, predict, lines[begin:end]))
    return lines[:starts[0]], steps


LAYER = re.compile(r"^  layer (\d+):")


def by_layer(lines):
    """label → numbers for each "layer ℓ:" block of the lines (1 … L); without such
    headings every vector is layer 1's."""
    headings = [(i, int(LAYER.match(line).group(1))) for i, line in enumerate(lines)
                if LAYER.match(line) and " = [" not in line]
    blocks = {1: {}}
    for start, label, values in read_vectors(lines):
        layer = 1
        for i, n in headings:
            if i < start:
                layer = n
        blocks.setdefault(layer, {})[label] = values
    return blocks


def alpha_table(lines):
    """(scores, α) of a step's table, one row per source position."""
    rows = [ALPHA_ROW.match(line) for line in lines]
    rows = [r for r in rows if r]
    return [float(r.group(3)) for r in rows], [float(r.group(4)) for r in rows]


def redo_seq2seq(check, text, cell, decoder, score):
    lines = text.split("\n")
    vectors = read_vectors(lines)
    params = Parameters([v for v in vectors if re.match(r"(src_embed|tgt_embed|encoder|decoder|attention|output|bridge)[.\[]", v[1])])
    encoder_lines, steps = split_steps(lines)
    check.require(steps, "no decoder step printed")

    # the encoder, layer by layer (a bidirectional one: → then ←); layer ℓ > 1 reads ℓ−1's output
    everything = {label: values for _, label, values in read_vectors(encoder_lines)}
    blocks = by_layer(encoder_lines)
    inputs = [m.groups() for m in map(ENCODER_INPUT.match, encoder_lines) if m]
    check.require(inputs, "no encoder input x_t printed")
    bidirectional = any(label.startswith("→h_") for label in everything)
    arrows = ["→", "←"] if bidirectional else [""]
    H = len(everything[f"{arrows[0]}h_1"])
    m = len(inputs)
    below = [params[f"src_embed['{token}']"] for _, token in inputs]
    finals = []  # per layer: (→h_m, →c_m, ←h_1)
    for layer in range(1, len(blocks) + 1):
        shown = blocks[layer]
        outputs, last = {}, {}
        for arrow in arrows:
            prefix = "encoder" + (f".l{layer}" if layer > 1 else "") + (".reverse" if arrow == "←" else "")
            h, c = zeros(H), zeros(H)
            for t in (range(m, 0, -1) if arrow == "←" else range(1, m + 1)):
                redo_cell_step(check, params, prefix, cell, below[t - 1], h, c, shown, t, "h", "c_{}", arrow)
                h, c = shown[f"{arrow}h_{t}"], shown.get(f"{arrow}c_{t}", c)
                outputs.setdefault(arrow, {})[t] = h
            last[arrow] = (h, c)
        below = [sum((outputs[arrow][t] for arrow in arrows), []) for t in range(1, m + 1)]
        finals.append((last[arrows[0]][0], last[arrows[0]][1], outputs[arrows[-1]][1]))
    states = below
    if bidirectional:  # the annotations h_t = [→h_t; ←h_t], printed from the same numbers
        for t in range(1, m + 1):
            check.close(f"h_{t} = [→h_{t}; ←h_{t}]", everything[f"h_{t} = [→h_{t}; ←h_{t}]"], states[t - 1],
                        [0.0] * len(states[t - 1]))
    h, c = finals[-1][0], finals[-1][1]
    shown = everything

    # keys computed once: concat's W_h h_i, qk's k_i = W_K h_i
    keys = []
    if score == "concat":
        W = params.numbered_rows("attention.W")
        for i, h_i in enumerate(states, 1):
            keys.append(shown[f"W_h h_{i}"])
            check.close(f"W_h h_{i}", keys[-1], *affine([row[:len(h_i)] for row in W], h_i))
    elif score in ("qk", "qk-scaled"):
        for i, h_i in enumerate(states, 1):
            keys.append(shown[f"k_{i} = W_K h_{i}"])
            check.close(f"k_{i}", keys[-1], *affine(params.numbered_rows("attention.W_K"), h_i))

    # the decoder: layer ℓ starts from the encoder's layer ℓ (s_0 = h_m, LSTM c_0 = c_m), or from
    # the bridge s_0 = tanh(bridge.W ←h_1 + bridge.b), c_0 = 0, when the encoder is bidirectional
    layers = len(finals)
    previous = []
    for layer, (h_m, c_m, backward_first) in enumerate(finals, 1):
        if not bidirectional:
            previous.append((h_m, c_m))
            continue
        bridge = "bridge" + (f".l{layer}" if layer > 1 else "")
        label = (f"layer {layer}: " if layers > 1 else "") + f"s_0 = tanh({bridge}.W ←h_1 + {bridge}.b)"
        pre, bounds = affine(params.numbered_rows(f"{bridge}.W"), backward_first, [params[f"{bridge}.b"]])
        check.close(label, everything[label], [math.tanh(p) for p in pre], bounds)
        previous.append((everything[label], zeros(H)))
    if f"s_0 = h_{m}" in shown:
        check.close("s_0 = h_m", shown[f"s_0 = h_{m}"], finals[-1][0], [0.0] * H)
    losses = []
    for j, read, predict, step_lines in steps:
        step = {label: values for _, label, values in read_vectors(step_lines)}
        step_blocks = by_layer(step_lines)
        where = f"decoder step {j}"
        embedding = params[f"tgt_embed['{read}']"]

        def run_layers(first_input):
            """Every decoder layer's step j, bottom first; the new (s, c) of each."""
            new, x = [], first_input
            for layer, (s_before, c_before) in enumerate(previous, 1):
                prefix = "decoder" + (f".l{layer}" if layer > 1 else "")
                s, memory = redo_cell_step(check, params, prefix, cell, x, s_before, c_before, step_blocks[layer], j, "s",
                                           "c_{} (LSTM memory)")
                new.append((s, memory if memory is not None else c_before))
                x = s
            return new

        query = previous[-1][0]
        if decoder == "luong":
            now = run_layers(embedding)
            query = now[-1][0]
        if decoder != "plain":
            context = redo_attention(check, params, step, step_lines, states, keys, query, score, j)
        if decoder == "bahdanau":
            now = run_layers(embedding + context)
        elif decoder == "plain":
            now = run_layers(embedding)
        s = now[-1][0]
        features = s
        if decoder == "bahdanau":
            features = s + context
        elif decoder == "luong":
            attentional = step[f"h̃_{j} = tanh(W_c [s_{j}; c_{j}])"]
            pre, bounds = affine(params.numbered_rows("output.W_c"), s + context)
            check.close(f"{where}: h̃_{j}", attentional, [math.tanh(p) for p in pre], bounds)
            features = attentional
        losses.append(redo_output(check, params, step, step_lines, features, predict, j))
        previous = now

    # the loss: the mean of the printed −log p
    loss_line = next(line for line in lines if line.startswith("loss on this example"))
    check.close("loss", float(NUMBER.findall(loss_line)[-1]), sum(losses) / len(losses), DELTA)
    return params, states, keys, steps


def redo_attention(check, params, step, step_lines, states, keys, query, score, j):
    """Step j's scores, α, Σα and context from the printed query, keys and h_i."""
    where = f"decoder step {j}"
    m = len(states)
    printed_scores, alpha = alpha_table(step_lines)
    check.require(len(printed_scores) == m, f"{where}: {len(printed_scores)} rows of α for {m} source positions")
    if score == "concat":
        W = params.numbered_rows("attention.W")
        v = params["attention.v"]
        W_s_s = next(values for label, values in step.items() if label.startswith("W_s s_"))
        H_k = len(states[0])  # W = [W_h W_s]: W_h multiplies the keys' H_k entries
        check.close(f"{where}: W_s s", W_s_s, *affine([row[H_k:] for row in W], query))
        for i in range(1, m + 1):
            inside = next(values for label, values in step.items() if label.startswith(f"tanh(W_h h_{i} + "))
            # tanh(W_h h_i + W_s s): two printed inputs, tanh' ≤ 1
            check.close(f"{where}: tanh(W_h h_{i} + W_s s)", inside,
                        [math.tanh(a + b) for a, b in zip(keys[i - 1], W_s_s)], [2 * DELTA] * len(inside))
            # e_{j,i} = vᵀ tanh(W [h_i; s])
            check.close(f"{where}: e_{j},{i}", printed_scores[i - 1], *dot(v, inside))
    elif score == "dot":
        for i in range(1, m + 1):
            check.close(f"{where}: e_{j},{i}", printed_scores[i - 1], *dot(query, states[i - 1]))
    elif score == "general":
        W = params.numbered_rows("attention.W")
        s_W = next(values for label, values in step.items() if label.endswith("ᵀW"))
        # sᵀW: entry k is Σ_r s_r W[r][k]
        columns = [[row[k] for row in W] for k in range(len(W[0]))]
        check.close(f"{where}: sᵀW", s_W, *affine(columns, query))
        for i in range(1, m + 1):
            check.close(f"{where}: e_{j},{i}", printed_scores[i - 1], *dot(s_W, states[i - 1]))
    else:
        q = step[next(label for label in step if label.startswith(f"q_{j} = W_Q "))]
        check.close(f"{where}: q_{j}", q, *affine(params.numbered_rows("attention.W_Q"), query))
        scale = math.sqrt(len(q)) if score == "qk-scaled" else 1.0
        for i in range(1, m + 1):
            value, bound = dot(keys[i - 1], q)
            check.close(f"{where}: e_{j},{i}", printed_scores[i - 1], value / scale, bound / scale)
    # α_j = softmax(e_j): |∂α_i/∂e| sums to 2α_i(1 − α_i) ≤ 1/2
    check.close(f"{where}: α_{j}", alpha, softmax(printed_scores), [0.5 * DELTA] * m)
    total_line = next(line for line in step_lines if line.startswith(f"  Σ_i α_{j},i = "))
    check.close(f"{where}: Σ_i α", float(NUMBER.findall(total_line)[-1]), sum(alpha), m * DELTA)
    context = step[f"c_{j} = Σ_i α_{j},i h_i"]
    expected, bounds = [], []
    for k in range(len(context)):
        # c_j = Σ_i α_{j,i} h_i
        expected.append(sum(a * h[k] for a, h in zip(alpha, states)))
        bounds.append(DELTA * sum(abs(a) + abs(h[k]) for a, h in zip(alpha, states)))
    check.close(f"{where}: c_{j}", context, expected, bounds)
    return context


def redo_output(check, params, step, step_lines, features, predict, j):
    """Step j's logits, softmax, −log p of the target and the top predictions."""
    where = f"decoder step {j}"
    logits = step[next(label for label in step if label.startswith(f"logits_{j} = W_out "))]
    tokens = [label[len("output.W['"):-2] for label in params.values if label.startswith("output.W['")]
    rows = [params[f"output.W['{token}']"] for token in tokens]
    check.close(f"{where}: logits_{j}", logits, *affine(rows, features, [params["output.b"]]))
    p = step[f"p_{j} = softmax(logits_{j})"]
    check.close(f"{where}: p_{j}", p, softmax(logits), [0.5 * DELTA] * len(p))
    loss_line = next(line for line in step_lines if line.startswith(f"  −log p_{j}["))
    target = tokens.index(predict)
    # −log softmax(logits)[y]: its gradient's entries sum in absolute value to 2(1 − p_y) ≤ 2
    loss = -math.log(softmax(logits)[target])
    check.close(f"{where}: −log p_{j}", float(NUMBER.findall(loss_line)[-1]), loss, 2 * DELTA)
    top_line = next(line for line in step_lines if line.startswith("  top predictions: "))
    top = TOP.findall(top_line.split("✗")[0])
    check.require(len(top) == min(3, len(p)), f"{where}: top predictions unreadable: {top_line}")
    probabilities = softmax(logits)
    order = sorted(range(len(tokens)), key=lambda k: -probabilities[k])
    for (token, shown), k in zip(top, order):
        check.close(f"{where}: top p('{token}')", float(shown), probabilities[tokens.index(token)], 1e-3 * 0.5 + DELTA)
        check.require(abs(probabilities[k] - probabilities[tokens.index(token)]) <= 2 * DELTA,
                      f"{where}: '{token}' printed among the top 3 out of order")
    wrong = "✗" in top_line
    check.require(wrong == (order[0] != target), f"{where}: ✗ printed = {wrong}, but the argmax is "
                                                 f"'{tokens[order[0]]}' and the target '{predict}'")
    return float(NUMBER.findall(loss_line)[-1])


def redo_scaling_section(check, text):
    """Lesson 06's section 4: the same k_iᵀq_j with and without 1/√d, and α for both."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("--- 4. scaling")), None)
    if start is None:
        return
    d = float(re.search(r"√(\d+)", lines[start]).group(1))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("---"):
            break
        match = re.match(r"^\s+\d+\s+'.*'\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)", line)
        if match:
            rows.append([float(x) for x in match.groups()])
    check.require(rows, "lesson 06 section 4: no rows")
    raw, alpha_raw, scaled, alpha_scaled = (list(column) for column in zip(*rows))
    check.close("section 4: k_iᵀq / √d", scaled, [e / math.sqrt(d) for e in raw], [DELTA / math.sqrt(d)] * len(raw))
    check.close("section 4: α unscaled", alpha_raw, softmax(raw), [0.5 * DELTA] * len(raw))
    check.close("section 4: α scaled", alpha_scaled, softmax(scaled), [0.5 * DELTA] * len(raw))


# --- lesson 03: the cells on their own ----------------------------------------------

def read_matrices(lines):
    """Lesson 03's `name (R×C) =` matrices: rows `label [numbers]`, or, for a bias, column
    chunks with the labels above; as name → {row label: numbers} (a bias: {column label: x})."""
    matrices, i = {}, 0
    while i < len(lines):
        head = re.match(r"^  (\S+) \((\d+)×(\d+)\) =$", lines[i])
        if not head:
            i += 1
            continue
        name, rows, columns = head.group(1), int(head.group(2)), int(head.group(3))
        i += 1
        entries = {}
        if rows == 1:
            while len(entries) < columns:
                if lines[i].strip().startswith("columns"):
                    i += 1
                labels = lines[i].split()
                values = [float(x) for x in NUMBER.findall(lines[i + 1])]
                entries.update(zip(labels, values))
                i += 2
        else:
            for _ in range(rows):
                label, values = lines[i].split("[")[0].strip(), [float(x) for x in NUMBER.findall(lines[i].split("[")[1])]
                entries[label] = values
                i += 1
        matrices[name] = entries
    return matrices


def redo_lesson_03(check, text, cell):
    lines = text.split("\n")
    matrices = read_matrices(lines)
    labels = [f"{g}{k}" if g else str(k) for g in GATES[cell] for k in range(1, 1 + len(matrices["encoder.W_hh"]) // len(GATES[cell]))]
    # the stepped cell's parameters as the seq2seq lessons print them
    params = {}
    for name in ("encoder.W_ih", "encoder.W_hh"):
        for label in labels:
            params[f"{name}[{label}]"] = matrices[name][label]
    H = len(labels) // len(GATES[cell])
    for name in ("encoder.b_ih", "encoder.b_hh"):
        for g in GATES[cell]:
            entries = [matrices[name][f"{g}{k}" if g else str(k)] for k in range(1, H + 1)]
            params[f"{name}[{g}]" if g else name] = entries
    params = Parameters([(0, label, values) for label, values in params.items()])
    embed = {row: values for row, values in matrices["src_embed"].items()}

    h, c = zeros(H), zeros(H)
    t_lines = [i for i, line in enumerate(lines) if re.match(r"^  t = \d+   x_\d+ = src_embed\[", line)]
    check.require(t_lines, "lesson 03: no step printed")
    for i in t_lines:
        t = int(re.match(r"^  t = (\d+)", lines[i]).group(1))
        token = re.search(r"src_embed\[(.*?)\] = ", lines[i]).group(1)
        x = [float(v) for v in NUMBER.findall(lines[i].split(" = ")[-1])]
        check.close(f"lesson 03 x_{t} = src_embed[{token}]", x, embed[token], [0.0] * len(x))
        shown = {}
        for line in lines[i + 1:]:
            if line.startswith("  t = ") or line.startswith("  after ") or line.startswith("---"):
                break
            gate = re.match(r"^  (\w)\s+\[(.*?)\]\s+\S+→\s+\[(.*?)\]", line)
            if gate:
                name = gate.group(1)
                key = name if cell != "rnn" else "h"
                shown[f"pre {key}_{t}"] = [float(v) for v in NUMBER.findall(gate.group(2))]
                if cell != "rnn":
                    shown[f"{key}_{t}"] = [float(v) for v in NUMBER.findall(gate.group(3))]
                else:
                    shown[f"h_{t}"] = [float(v) for v in NUMBER.findall(gate.group(3))]
            state = re.match(r"^    ([hc])_(\d+) = .* = \[(.*)\]", line)
            if state:
                shown[f"{state.group(1)}_{state.group(2)}"] = [float(v) for v in NUMBER.findall(state.group(3))]
        redo_cell_step(check, params, "encoder", cell, x, h, c, shown, t, "h", "c_{}")
        h, c = shown[f"h_{t}"], shown.get(f"c_{t}", c)


# --- lesson 10: the Transformer (SPEC §14) --------------------------------------------

MATRIX_HEAD = re.compile(r"^  (.*) \((\d+)×(\d+)\) =$")
ENTRY = re.compile(r"-?inf|-?\d+\.\d+(?:e[+-]?\d+)?")
STATS_ROW = re.compile(r"^\s+(\d+)\s+'(.*)'\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)$")
OUTPUT_ROW = re.compile(r"^\s+(\d+)\s+'(.*?)'\s+'(.*?)'\s+(-?\d+\.\d+)  (.*)$")
SPREAD_ROW = re.compile(r"^  ((?:en|de)coder\.\d+\.(?:self|cross)_attn)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)$")
HEATMAP_TITLE = re.compile(r"^  (α_\d+ = softmax|decoder\.\d+ cross-attention, head \d+)")
SHADES = " ░▒▓█"


def entry(text):
    return -math.inf if text == "-inf" else math.inf if text == "inf" else float(text)


def read_items(lines):
    """The screen as a list of items in order: ("heading", text), ("matrix", label, row labels,
    column labels, rows), ("stats", of, [(μ, σ²)]), ("heatmap", title, row labels, cells)."""
    items, i = [], 0
    while i < len(lines):
        line = lines[i]
        head = MATRIX_HEAD.match(line)
        if head:
            label, R, C = head.group(1), int(head.group(2)), int(head.group(3))
            rows, names, columns = [[] for _ in range(R)], [None] * R, []
            i += 1
            while len(rows[-1]) < C:
                if lines[i].startswith("    columns "):
                    i += 1
                if "[" not in lines[i]:
                    columns += lines[i].split()
                    i += 1
                for r in range(R):
                    name, _, numbers = lines[i].partition(" [")
                    names[r] = name.strip()
                    rows[r] += [entry(x) for x in ENTRY.findall(numbers.split("]")[0])]
                    i += 1
            # a shortened label ("…, columns 1–7 of 16") is not a full matrix: below --trace full only
            items.append(("matrix", label, names, columns, rows))
            continue
        if line.startswith("  μ and σ² of "):
            of = re.search(r"\((\S+)\)", line).group(1)
            stats, i = [], i + 3  # the header and the rule
            while i < len(lines) and STATS_ROW.match(lines[i]):
                m = STATS_ROW.match(lines[i])
                stats.append((m.group(2), float(m.group(3)), float(m.group(4))))
                i += 1
            items.append(("stats", of, stats))
            continue
        if HEATMAP_TITLE.match(line):
            title, i = line.strip(), i + 1
            while "│" not in lines[i]:  # the column labels (a compact map: position numbers, tokens)
                i += 1
            cells = []
            while lines[i].startswith("  ") and "│" in lines[i]:
                name, _, rest = lines[i].partition(" │")
                cells.append((name.strip(), rest[:-1]))
                i += 1
            items.append(("heatmap", title, cells))
            continue
        if re.match(r"^((?:en|de)coder\.\d+ · sub-layer \d|(?:en|de)coder\.norm:|output: )", line):
            items.append(("heading", line))
        i += 1
    return items


def positional_encoding(p, k, d):
    angle = p / 10000 ** (2 * (k // 2) / d)
    return math.sin(angle) if k % 2 == 0 else math.cos(angle)


def matmul_t(check, what, printed, inputs, W_rows, bias, columns):
    """printed[p][c] = inputs[p] · W_rows[columns[c]] + bias[columns[c]], with affine's bound."""
    for p, row in enumerate(printed):
        values, bounds = affine([W_rows[k] for k in columns], inputs[p], [[bias[k] for k in columns]])
        check.close(f"{what} row {p}", row, values, bounds)


def statistics(check, what, x_rows, stats):
    """μ and σ² of each row of x, as the table printed them."""
    check.require(len(x_rows) == len(stats), f"{what}: {len(stats)} rows of μ, σ² for {len(x_rows)} positions")
    for p, (x, (_, mu, var)) in enumerate(zip(x_rows, stats)):
        d = len(x)
        mean = sum(x) / d
        check.close(f"{what}: μ[{p}]", mu, mean, DELTA)
        # σ² = mean (x − μ)²: ∂σ²/∂x_k = 2(x_k − μ)/d
        check.close(f"{what}: σ²[{p}]", var, sum((v - mean) ** 2 for v in x) / d,
                    DELTA * sum(2 * abs(v - mean) for v in x) / d)


def layer_norm(check, what, x_rows, stats, gamma, beta, printed):
    """LN's output from the printed x, μ, σ², γ and β."""
    for p, (x, (_, mu, var)) in enumerate(zip(x_rows, stats)):
        s = math.sqrt(var + 1e-5)
        # LN(x)_k = γ_k (x_k − μ)/√(σ² + ε) + β_k
        expected = [g * (v - mu) / s + b for v, g, b in zip(x, gamma, beta)]
        bounds = [DELTA * (2 * abs(g) / s + abs(g * (v - mu)) / (2 * s ** 3) + abs(v - mu) / s + 1)
                  for v, g in zip(x, gamma)]
        check.close(f"{what}: row {p}", printed[p], expected, bounds)


def softmax_masked(row):
    top = max(v for v in row if v != -math.inf)
    exps = [0.0 if v == -math.inf else math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]


def display_width(text):
    """Columns in a terminal: two for East Asian wide characters (汉字)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def expected_shade(a):
    """The shade of α, or None when α lies within rounding of a boundary."""
    for edge in (0.2, 0.4, 0.6, 0.8):
        if abs(a - edge) <= DELTA:
            return None
    return SHADES[min(4, int(a / 0.2))] if a < 1 else "█"


def check_heatmap(check, what, cells, alpha, columns):
    """Each cell of the heatmap is its α's shade, repeated across the column's width (a
    compact map: two characters a column, no space between)."""
    compact = cells and len(cells[0][1]) == 2 * len(columns)
    widths = [2 if compact else max(4, display_width(c)) for c in columns]
    for r, ((name, text), row) in enumerate(zip(cells, alpha)):
        at = 0
        for c, (a, w) in enumerate(zip(row, widths)):
            cell = text[at:at + w]
            at += w + (0 if compact else 1)
            shade = expected_shade(a)
            check.checked += 1
            if shade is not None and cell != shade * w:
                check.failures.append(f"{what}: row {r} column {c}: shade {cell!r} for α = {a}")


class Transformer10:
    """Redoes lesson 10's screen: the walk through encoder and decoder in the order printed."""

    def __init__(self, check, text):
        self.check = check
        flat = " ".join(text.split())
        m = re.search(r"(pre|post)-norm Transformer, d = (\d+), h = (\d+) heads? of d_k = (\d+), N = (\d+) layers?, "
                      r"d_ff = (\d+)", flat)
        self.norm, self.d, self.h, self.d_k, self.N, self.d_ff = m.group(1), *map(int, m.groups()[1:])
        self.lines = text.split("\n")
        self.params = Parameters([v for v in read_vectors(self.lines)
                                  if re.match(r"(src_embed|tgt_embed|encoder|decoder|output)[.\[]", v[1])])
        self.vectors = {label: values for _, label, values in read_vectors(self.lines)}
        self.items = read_items(self.lines)

    def rows(self, name):
        return [self.params[f"{name}[{k}]"] for k in range(1, self.d + 1)]

    def run(self):
        self.positional_table()
        self.pe_rows()
        pre = self.norm == "pre"
        stream = memory = None
        side = None          # "encoder" or "decoder"
        context = None       # e.g. encoder.0.self_attn, decoder.0.ffn
        stats = None         # the last μ, σ² table, with its norm's name
        normed = None        # LN's output of the current sub-layer (pre)
        heads, alphas = {}, {}
        mha = hidden = ffn = sum_ = None
        heatmaps = []
        spread = {}
        features = None
        logits = tokens = None
        for item in self.items:
            kind = item[0]
            if kind == "heading":
                text = item[1]
                m = re.match(r"^((?:en|de)coder)\.(\d+) · sub-layer (\d)", text)
                if m:
                    side, layer, sub = m.group(1), m.group(2), int(m.group(3))
                    part = "self_attn" if sub == 1 else ("ffn" if sub == (2 if side == "encoder" else 3) else "cross_attn")
                    context, heads, alphas, normed = f"{side}.{layer}.{part}", {}, {}, None
                elif text.startswith("decoder.norm") or text.startswith("encoder.norm"):
                    context = text.split(":")[0]
                elif text.startswith("output"):
                    context = "output"
                continue
            if kind == "stats":
                stats = item
                if pre or context in ("encoder.norm", "decoder.norm"):
                    statistics(self.check, f"{item[1]} of the stream", stream, item[2])
                else:
                    statistics(self.check, f"{item[1]} of the sum", sum_, item[2])
                continue
            if kind == "heatmap":
                heatmaps.append(item)
                continue
            _, label, names, columns, rows = item
            where = f"{context}: {label}"
            key = label.split(" = ")[0]
            if key in ("X", "Y"):
                table = "src_embed" if key == "X" else "tgt_embed"
                if key == "Y" and not pre:
                    memory = stream
                root = math.sqrt(self.d)
                for p, (name, row) in enumerate(zip(names, rows)):
                    token = name.split(" ", 1)[1][1:-1]
                    embedding, pe = self.params[f"{table}['{token}']"], self.vectors[f"PE[{p}]"]
                    # X[p] = embed[x_p]·√d + PE[p]
                    self.check.close(f"{key} row {p}", row, [e * root + q for e, q in zip(embedding, pe)],
                                     [DELTA * (root + 1)] * len(row))
                stream, side = rows, ("encoder" if key == "X" else "decoder")
                continue
            if re.match(r"^LN[₁₂₃]\((x|y)\)$", key):
                norm = stats[1]
                layer_norm(self.check, where, stream, stats[2], self.params[f"{norm}.gamma"], self.params[f"{norm}.beta"],
                           rows)
                normed = rows
                continue
            m = re.match(r"^([QKV])_(\d+)$", key)
            if m:
                letter, i = m.group(1), int(m.group(2))
                if letter == "Q":
                    source = normed if pre else stream
                else:
                    source = memory if context.endswith("cross_attn") else (normed if pre else stream)
                columns_of_head = list(range((i - 1) * self.d_k, i * self.d_k))
                matmul_t(self.check, where, rows, source, self.rows(f"{context}.W_{letter}"),
                         self.params[f"{context}.b_{letter}"], columns_of_head)
                heads[(letter, i)] = rows
                continue
            m = re.match(r"^Q_(\d+)K_\d+ᵀ/√d_k$", key)
            if m:
                i = int(m.group(1))
                Q, K = heads[("Q", i)], heads[("K", i)]
                causal = context.startswith("decoder") and context.endswith("self_attn")
                scale = math.sqrt(self.d_k)
                for p, row in enumerate(rows):
                    for c, value in enumerate(row):
                        masked = causal and c > p
                        if masked or value == -math.inf:
                            self.check.require(masked and value == -math.inf,
                                               f"{where}: [{p}][{c}] is {value}, masked: {masked}")
                            self.check.checked += 1
                            continue
                        v, b = dot(Q[p], K[c])
                        self.check.close(f"{where} [{p}][{c}]", value, v / scale, b / scale)
                heads[("scores", i)] = rows
                spread.setdefault(context, []).extend(v for row in rows for v in row if v != -math.inf)
                continue
            m = re.match(r"^α_(\d+)$", key)
            if m:
                i = int(m.group(1))
                for p, row in enumerate(rows):
                    # α = softmax(scores), exactly 0 where masked
                    self.check.close(f"{where} row {p}", row, softmax_masked(heads[("scores", i)][p]),
                                     [0.5 * DELTA] * len(row))
                alphas[i] = (rows, columns)
                heads[("alpha", i)] = rows
                continue
            m = re.match(r"^head_(\d+)$", key)
            if m:
                i = int(m.group(1))
                A, V = heads[("alpha", i)], heads[("V", i)]
                for p, row in enumerate(rows):
                    # head_i = α_i V_i
                    expected = [sum(a * v[c] for a, v in zip(A[p], V)) for c in range(len(row))]
                    bounds = [DELTA * sum(abs(a) + abs(v[c]) for a, v in zip(A[p], V)) for c in range(len(row))]
                    self.check.close(f"{where} row {p}", row, expected, bounds)
                heads[("head", i)] = rows
                continue
            if key == "MHA":
                concatenated = [sum((heads[("head", i)][p] for i in range(1, self.h + 1)), []) for p in range(len(rows))]
                matmul_t(self.check, where, rows, concatenated, self.rows(f"{context}.W_O"), self.params[f"{context}.b_O"],
                         list(range(self.d)))
                mha = rows
                continue
            if key.startswith("relu("):
                source = normed if pre else stream
                W = [self.params[f"{context}.W_1[{k}]"] for k in range(1, self.d_ff + 1)]
                for p, row in enumerate(rows):
                    values, bounds = affine(W, source[p], [self.params[f"{context}.b_1"]])
                    # relu: 1-Lipschitz
                    self.check.close(f"{where} row {p}", row, [max(0.0, v) for v in values], bounds)
                hidden = rows
                continue
            if key == "FFN":
                matmul_t(self.check, where, rows, hidden, self.rows(f"{context}.W_2"), self.params[f"{context}.b_2"],
                         list(range(self.d)))
                ffn = rows
                continue
            m = re.match(r"^([xy]) \+ (MHA|FFN)(: the residual stream)?$", key)
            if m:
                added = mha if m.group(2) == "MHA" else ffn
                for p, row in enumerate(rows):
                    # the residual sum x + f(x)
                    self.check.close(f"{where} row {p}", row, [a + b for a, b in zip(stream[p], added[p])],
                                     [2 * DELTA] * len(row))
                if m.group(3):
                    stream = rows
                else:
                    sum_ = rows
                continue
            if re.match(r"^[xy]$", key) and "the residual stream" in label:  # post: x = LN(x + f): …
                norm = stats[1]
                layer_norm(self.check, where, sum_, stats[2], self.params[f"{norm}.gamma"], self.params[f"{norm}.beta"], rows)
                stream = rows
                continue
            if key in ("memory", "LN(y)"):
                norm = stats[1]
                layer_norm(self.check, where, stream, stats[2], self.params[f"{norm}.gamma"], self.params[f"{norm}.beta"],
                           rows)
                if key == "memory":
                    memory = rows
                else:
                    features = rows
                continue
            if key == "logits":
                tokens = columns
                source = features if pre else stream
                W = [self.params[f"output.W['{t}']"] for t in tokens]
                for p, row in enumerate(rows):
                    self.check.close(f"{where} row {p}", row, *affine(W, source[p], [self.params["output.b"]]))
                logits = rows
                continue
            if key == "p":
                for p, row in enumerate(rows):
                    self.check.close(f"{where} row {p}", row, softmax(logits[p]), [0.5 * DELTA] * len(row))
                continue
            self.check.failures.append(f"unexpected matrix {label!r}")
        self.check.require(logits is not None, "no logits printed")
        self.output_table(logits, tokens)
        self.heatmaps(heatmaps)
        self.spread_table(spread)

    def positional_table(self):
        start = next(i for i, line in enumerate(self.lines) if re.match(r"^  p +sin 0 +cos 1", line))
        columns = [int(c) for c in self.lines[start].split()[2::2]]
        for line in self.lines[start + 2:]:
            fields = line.split()
            if not fields or not fields[0].isdigit():
                break
            p = int(fields[0])
            for k, value in zip(columns, fields[1:]):
                self.check.close(f"PE table [{p}, {k}]", float(value), positional_encoding(p, k, self.d), 0.0)

    def pe_rows(self):
        for _, label, values in read_vectors(self.lines):  # the encoder's and the decoder's
            m = re.match(r"^PE\[(\d+)\]$", label)
            if m:
                p = int(m.group(1))
                self.check.close(label, values, [positional_encoding(p, k, self.d) for k in range(self.d)],
                                 [0.0] * self.d)

    def output_table(self, logits, tokens):
        rows = [OUTPUT_ROW.match(line) for line in self.lines]
        rows = [r for r in rows if r]
        self.check.require(len(rows) == len(logits), f"{len(rows)} output rows for {len(logits)} logit rows")
        losses = []
        for r, logit_row in zip(rows, logits):
            j, predict, shown, top = int(r.group(1)), r.group(3), float(r.group(4)), r.group(5)
            p = softmax(logit_row)
            target = tokens.index(predict)
            # −log softmax(logits)[y]
            self.check.close(f"output {j}: −log p", shown, -math.log(p[target]), 2 * DELTA)
            losses.append(shown)
            order = sorted(range(len(tokens)), key=lambda k: -p[k])
            for (token, value), k in zip(TOP.findall(top.split("✗")[0]), order):
                self.check.close(f"output {j}: p('{token}')", float(value), p[tokens.index(token)], 0.5e-3 + DELTA)
                self.check.require(abs(p[k] - p[tokens.index(token)]) <= 2 * DELTA, f"output {j}: top 3 out of order")
            self.check.require(("✗" in top) == (order[0] != target), f"output {j}: ✗ is wrong")
        loss_line = next(line for line in self.lines if line.startswith("loss on this example"))
        self.check.close("loss", float(NUMBER.findall(loss_line)[-1]), sum(losses) / len(losses), DELTA)

    def heatmaps(self, heatmaps):
        """Each head's heatmap against the α_i printed under it; section 6's cross maps against
        the cross-attention's α_i."""
        alphas = [item for item in self.items if item[0] == "matrix" and re.match(r"^α_\d+$", item[1])]
        cross = {}
        context = None
        for item in self.items:
            if item[0] == "heading":
                context = item[1]
            elif item[0] == "matrix" and re.match(r"^α_\d+$", item[1]) and "cross-attention" in (context or ""):
                layer = re.match(r"^decoder\.(\d+)", context).group(1)
                cross[(layer, item[1][2:])] = item
        in_order = [h for h in heatmaps if h[1].startswith("α_")]
        self.check.require(len(in_order) == len(alphas), f"{len(in_order)} heatmaps for {len(alphas)} α matrices")
        for heatmap, alpha in zip(in_order, alphas):
            check_heatmap(self.check, heatmap[1], heatmap[2], alpha[4], alpha[3])
        for heatmap in heatmaps:
            m = re.match(r"^decoder\.(\d+) cross-attention, head (\d+)", heatmap[1])
            if m:
                alpha = cross[(m.group(1), m.group(2))]
                check_heatmap(self.check, heatmap[1], heatmap[2], alpha[4], alpha[3])

    def spread_table(self, spread):
        root = math.sqrt(self.d_k)
        for line in self.lines:
            m = SPREAD_ROW.match(line)
            if not m:
                continue
            scores = spread[m.group(1)]
            mean = sum(scores) / len(scores)
            sd = math.sqrt(sum((e - mean) ** 2 for e in scores) / len(scores))
            # sd is 1-Lipschitz in each score's rounding; printed to 3 places
            self.check.close(f"{m.group(1)}: sd(q·k/√d_k)", float(m.group(3)), sd, 0.5e-3)
            self.check.close(f"{m.group(1)}: sd(q·k)", float(m.group(2)), sd * root, 0.5e-3 + DELTA * root)


def redo_transformer(check, text):
    Transformer10(check, text).run()


def perturbed_transformer(text):
    """The screen with the first entry of the first Q_1 row changed by 0.01."""
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("  Q_1 = ")) + 1
    while "[" not in lines[at]:  # "columns 1–4:" of a wide matrix
        at += 1
    number = NUMBER.search(lines[at], lines[at].index("["))
    wrong = f"{float(number.group()) + 0.01:.4f}"
    lines[at] = lines[at][:number.start()] + wrong + lines[at][number.end():]
    return "\n".join(lines)


# --- the runs --------------------------------------------------------------------------

def configurations(quick):
    cells = ["rnn", "gru", "lstm"]
    runs = [("03_rnn_cells", ["--cell", cell], (cell, None, None)) for cell in cells]
    fast = ["--steps", "20", "--held-out", "20"]
    runs += [("04_plain_seq2seq", ["--cell", cell] + fast, (cell, "plain", None)) for cell in cells]
    for decoder in ("bahdanau", "luong"):
        runs += [("05_concat_attention", ["--cell", cell, "--decoder", decoder] + fast, (cell, decoder, "concat"))
                 for cell in cells]
        for score in ("dot", "general", "qk", "qk-scaled"):
            runs += [("06_dot_attention", ["--cell", cell, "--decoder", decoder, "--score", score] + fast,
                      (cell, decoder, score)) for cell in cells]
    # SPEC §11: bidirectional and stacked encoders (and decoders), across cells and scores
    runs += [("04_plain_seq2seq", ["--cell", "gru", "--layers", "2"] + fast, ("gru", "plain", None)),
             ("04_plain_seq2seq", ["--cell", "lstm", "--bidirectional"] + fast, ("lstm", "plain", None)),
             ("05_concat_attention", ["--cell", "gru", "--bidirectional"] + fast, ("gru", "bahdanau", "concat")),
             ("05_concat_attention", ["--cell", "lstm", "--decoder", "luong", "--layers", "2"] + fast,
              ("lstm", "luong", "concat")),
             ("06_dot_attention", ["--cell", "lstm", "--score", "general", "--bidirectional", "--layers", "2"] + fast,
              ("lstm", "bahdanau", "general")),
             ("06_dot_attention", ["--cell", "rnn", "--decoder", "luong", "--score", "qk-scaled", "--bidirectional"]
              + fast, ("rnn", "luong", "qk-scaled"))]
    # a trained model (its defaults), and a task with Chinese tokens
    runs.append(("05_concat_attention", [], ("gru", "bahdanau", "concat")))
    runs.append(("06_dot_attention", ["--task", "en-zh", "--steps", "40", "--held-out", "20"], ("gru", "bahdanau", "qk")))
    # lesson 10, the Transformer: pre and post, one and two layers, a word-level task with
    # Chinese tokens, and the lesson's own sizes on its --quick budget
    tiny = ["--d-model", "8", "--d-ff", "12", "--steps", "30", "--held-out", "20"]
    runs += [("10_transformer", tiny + ["--heads", "2"], (None, None, "pre")),
             ("10_transformer", tiny + ["--heads", "2", "--norm", "post"], (None, None, "post")),
             ("10_transformer", tiny + ["--layers", "2", "--heads", "4"], (None, None, "pre")),
             ("10_transformer", tiny + ["--heads", "2", "--layers", "2", "--norm", "post"], (None, None, "post")),
             ("10_transformer", tiny + ["--heads", "2", "--task", "en-zh", "--sentence", "Tom chases Jerry"],
              (None, None, "pre")),
             ("10_transformer", ["--quick"], (None, None, "pre"))]
    if quick:  # one of each lesson and score
        seen, kept = set(), []
        for run in runs:
            key = (run[0], run[2][2])
            if key not in seen:
                seen.add(key)
                kept.append(run)
        runs = kept
    return runs


def perturbed(text):
    """The screen with the first digit after the point of the first gate's pre-activation
    changed: a wrong number the redo must catch."""
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("  pre "))
    number = NUMBER.search(lines[at], lines[at].index("["))
    wrong = f"{float(number.group()) + 0.01:.4f}"
    lines[at] = lines[at][:number.start()] + wrong + lines[at][number.end():]
    return "\n".join(lines)


def redo(lesson, text, cell, decoder, score, check):
    try:
        if lesson == "03_rnn_cells":
            redo_lesson_03(check, text, cell)
        elif lesson == "10_transformer":
            redo_transformer(check, text)
        else:
            redo_seq2seq(check, text, cell, decoder, score)
            redo_scaling_section(check, text)
    except (KeyError, StopIteration, ValueError, IndexError) as error:
        check.failures.append(f"could not read the screen: {type(error).__name__}: {error}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lessons, quick = sys.argv[1], "--quick" in sys.argv[2:]
    total, failed = 0, []
    for lesson, flags, (cell, decoder, score) in configurations(quick):
        command = [f"{lessons}/{lesson}", "--trace", "full", "--color", "never"] + flags
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        name = " ".join([lesson] + flags)
        check = Checker(name)
        if run.returncode != 0:
            check.failures.append(f"exited with {run.returncode}: {run.stderr.strip()}")
        else:
            redo(lesson, run.stdout, cell, decoder, score, check)
            if lesson != "03_rnn_cells":  # the redo must see a number off by 0.01
                caught = Checker(name)
                wrong = perturbed_transformer(run.stdout) if lesson == "10_transformer" else perturbed(run.stdout)
                redo(lesson, wrong, cell, decoder, score, caught)
                check.require(caught.failures, "a number changed by 0.01 went unnoticed")
        total += check.checked
        status = "ok" if not check.failures else "FAILED"
        print(f"{status:6} {check.checked:6} numbers redone  {name}")
        for failure in check.failures[:8]:
            print(f"         {failure}")
        if check.failures:
            failed.append(name)
    print(f"{total} printed numbers recomputed from the screen; {len(failed)} run(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
