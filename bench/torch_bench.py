#!/usr/bin/env python3
"""The model of SPEC §4 in eager PyTorch, for comparison with stepgrad-bench.

Same flags, same reverse task, same training step (forward, backward, gradient-norm
clipping, Adam), float64, one thread. Optional: needs Debian's python3-torch (and
libopenblas0-pthread with OPENBLAS_NUM_THREADS=1, or torch falls back to the reference
BLAS); nothing in stepgrad's build or tests uses it. Last line, as stepgrad-bench's:
    steps_per_s=… tokens_per_s=… peak_rss_mb=…
"""
import argparse
import math
import resource
import time

import torch
from torch import nn

CELLS = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}


class Seq2Seq(nn.Module):
    def __init__(self, a):
        super().__init__()
        E, H, A, V = a.embed, a.hidden, a.attn, a.vocab
        self.a = a
        self.src_embed = nn.Embedding(V, E)
        self.tgt_embed = nn.Embedding(V, E)
        self.encoder = CELLS[a.cell](E, H)
        self.decoder = CELLS[a.cell](E + H if a.decoder == "bahdanau" else E, H)
        if a.decoder != "plain":
            if a.score == "concat":
                self.W_h = nn.Linear(H, A, bias=False)  # W = [W_h W_s] applied to [h_i; s]
                self.W_s = nn.Linear(H, A, bias=False)
                self.v = nn.Linear(A, 1, bias=False)
            elif a.score == "general":
                self.W = nn.Linear(H, H, bias=False)
            elif a.score in ("qk", "qk-scaled"):
                self.W_K = nn.Linear(H, A, bias=False)
                self.W_Q = nn.Linear(H, A, bias=False)
        if a.decoder == "luong":
            self.W_c = nn.Linear(2 * H, H, bias=False)
        self.out = nn.Linear(2 * H if a.decoder == "bahdanau" else H, V)

    def attend(self, states, keys, s):
        a = self.a
        if a.score == "concat":  # e_i = vᵀ tanh(W_h h_i + W_s s)
            e = self.v(torch.tanh(keys + self.W_s(s).unsqueeze(1))).squeeze(-1)
        elif a.score == "general":  # e_i = sᵀ W h_i
            e = torch.bmm(keys, (s @ self.W.weight).unsqueeze(-1)).squeeze(-1)
        elif a.score == "dot":
            e = torch.bmm(keys, s.unsqueeze(-1)).squeeze(-1)
        else:  # e_i = k_iᵀ q (/ √A)
            e = torch.bmm(keys, self.W_Q(s).unsqueeze(-1)).squeeze(-1)
            if a.score == "qk-scaled":
                e = e / math.sqrt(a.attn)
        alpha = torch.softmax(e, dim=-1)
        return torch.bmm(alpha.unsqueeze(1), states).squeeze(1)

    def step(self, cell, x, state):
        if self.a.cell == "lstm":
            return cell(x, state)
        return cell(x, state)

    def forward(self, src, tgt_in, tgt_out):
        a = self.a
        B, m = src.shape
        lstm = a.cell == "lstm"
        zeros = torch.zeros(B, a.hidden, dtype=torch.float64)
        state = (zeros, zeros) if lstm else zeros
        x = self.src_embed(src)
        hs = []
        for t in range(m):
            state = self.encoder(x[:, t], state)
            hs.append(state[0] if lstm else state)
        states = torch.stack(hs, dim=1)  # (B, m, H)
        keys = None
        if a.decoder != "plain":
            keys = {"concat": lambda: self.W_h(states), "qk": lambda: self.W_K(states),
                    "qk-scaled": lambda: self.W_K(states)}.get(a.score, lambda: states)()
        y = self.tgt_embed(tgt_in)
        features = []
        for j in range(tgt_in.shape[1]):
            s = state[0] if lstm else state
            if a.decoder == "bahdanau":
                c = self.attend(states, keys, s)
                state = self.decoder(torch.cat([y[:, j], c], dim=-1), state)
                features.append(torch.cat([state[0] if lstm else state, c], dim=-1))
            else:
                state = self.decoder(y[:, j], state)
                s = state[0] if lstm else state
                if a.decoder == "luong":
                    c = self.attend(states, keys, s)
                    features.append(torch.tanh(self.W_c(torch.cat([s, c], dim=-1))))
                else:
                    features.append(s)
        logits = self.out(torch.stack(features, dim=1))  # (B, n, V)
        return nn.functional.cross_entropy(logits.reshape(-1, a.vocab), tgt_out.reshape(-1))


def reverse_batch(generator, a):
    src = torch.randint(3, a.vocab, (a.batch, a.src_len), generator=generator)
    eos = torch.full((a.batch, 1), 2)
    tgt = torch.cat([src.flip(1), eos], dim=1)
    tgt_in = torch.cat([torch.full((a.batch, 1), 1), tgt[:, :-1]], dim=1)
    return torch.cat([src, eos], dim=1), tgt_in, tgt


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", default="gru", choices=list(CELLS))
    p.add_argument("--decoder", default="bahdanau", choices=["plain", "bahdanau", "luong"])
    p.add_argument("--score", default="concat", choices=["concat", "dot", "general", "qk", "qk-scaled"])
    for name, default in [("embed", 32), ("hidden", 64), ("attn", 64), ("vocab", 32), ("src-len", 12),
                          ("batch", 32), ("steps", 100), ("warmup", 10), ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(a.seed)
    model = Seq2Seq(a)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(a.seed)
    batches = [reverse_batch(generator, a) for _ in range(min(a.steps + a.warmup, 64))]

    def run(count, offset):
        for i in range(count):
            src, tgt_in, tgt_out = batches[(offset + i) % len(batches)]
            adam.zero_grad()
            loss = model(src, tgt_in, tgt_out)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            adam.step()

    run(a.warmup, 0)
    start = time.perf_counter()
    run(a.steps, a.warmup)
    seconds = time.perf_counter() - start
    steps_per_s = a.steps / seconds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__} {a.cell} {a.decoder}/{a.score} B={a.batch}: {1e3 / steps_per_s:.1f} ms/step")
    print(f"steps_per_s={steps_per_s:.2f} tokens_per_s={steps_per_s * a.batch * (a.src_len + 1):.0f} peak_rss_mb={peak:.1f}")


if __name__ == "__main__":
    main()
