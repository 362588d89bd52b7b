#!/usr/bin/env python3
"""Redo a lesson's arithmetic from its screen, as a learner with a calculator would.

    redo_from_stdout.py <lessons-dir> [--quick]

Runs lessons 03–06 under `--trace full --color never` for every cell × decoder × score
they offer, reads *only their stdout* (no JSON), and recomputes every printed gate,
state, key, query, score, α, context, logit, probability and loss from other printed
numbers: the parameters each lesson prints once, the embedding rows, the previous
state. A number passes when it is within what rounding to the printed 4 decimals can
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
                redo(lesson, perturbed(run.stdout), cell, decoder, score, caught)
                check.require(caught.failures, "a pre-activation changed by 0.01 went unnoticed")
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
