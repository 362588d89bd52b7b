#!/usr/bin/env python3
"""The models of SPEC §4 and §14 in eager PyTorch, for comparison with stepgrad-bench.

Same flags, same reverse task, same training step (forward, backward, gradient-norm
clipping, Adam), float64, one thread (--threads N: N). --layers L stacks L cells in the encoder and in the
decoder as SPEC §11 (default 1, as stepgrad-bench; the Transformer's N, default 2).
--model transformer is SPEC §14's Transformer built from nn.MultiheadAttention,
nn.LayerNorm and nn.Linear (--check-golden FILE runs it on the parameters of a stepgrad
trace and compares the loss and logits: the same equations).
--vocab V counts <pad> <bos> <eos> (ids 0, 1, 2) as stepgrad-bench's does: V-row embeddings,
V logits, random symbols 3 … V−1. Optional: needs Debian's python3-torch (and
libopenblas0-pthread with OPENBLAS_NUM_THREADS=1, or torch falls back to the reference
BLAS); nothing in stepgrad's build or tests uses it. Last line, as stepgrad-bench's:
    steps_per_s=… tokens_per_s=… peak_rss_mb=…
"""
import argparse
import json
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
        # SPEC §11 stacked layers: layer ℓ > 1 reads layer ℓ−1's h at the same step (H wide),
        # in the encoder and in the decoder. Made last, so --layers 1 draws the same parameters.
        self.encoder_upper = nn.ModuleList(CELLS[a.cell](H, H) for _ in range(a.layers - 1))
        self.decoder_upper = nn.ModuleList(CELLS[a.cell](H, H) for _ in range(a.layers - 1))

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

    def step(self, cells, x, state):
        """One time step through the stack: layer 1 reads x, layer ℓ > 1 layer ℓ−1's h;
        updates state (one per layer) in place and returns the top layer's h."""
        for l, cell in enumerate(cells):
            state[l] = cell(x, state[l])
            x = state[l][0] if self.a.cell == "lstm" else state[l]
        return x

    def forward(self, src, tgt_in, tgt_out):
        a = self.a
        B, m = src.shape
        lstm = a.cell == "lstm"
        zeros = torch.zeros(B, a.hidden, dtype=torch.float64)
        encoder, decoder = [self.encoder, *self.encoder_upper], [self.decoder, *self.decoder_upper]
        state = [(zeros, zeros) if lstm else zeros for _ in encoder]  # per layer, bottom first
        x = self.src_embed(src)
        hs = []
        for t in range(m):
            hs.append(self.step(encoder, x[:, t], state))
        states = torch.stack(hs, dim=1)  # (B, m, H): the top layer's h_i
        keys = None
        if a.decoder != "plain":
            keys = {"concat": lambda: self.W_h(states), "qk": lambda: self.W_K(states),
                    "qk-scaled": lambda: self.W_K(states)}.get(a.score, lambda: states)()
        y = self.tgt_embed(tgt_in)
        features = []
        s = hs[-1]  # the decoder's layer ℓ starts from the encoder's layer ℓ: its top h is h_m
        for j in range(tgt_in.shape[1]):
            if a.decoder == "bahdanau":  # the query is the top layer's s_{j-1}; c_j goes into layer 1
                c = self.attend(states, keys, s)
                s = self.step(decoder, torch.cat([y[:, j], c], dim=-1), state)
                features.append(torch.cat([s, c], dim=-1))
            else:
                s = self.step(decoder, y[:, j], state)
                if a.decoder == "luong":
                    c = self.attend(states, keys, s)
                    features.append(torch.tanh(self.W_c(torch.cat([s, c], dim=-1))))
                else:
                    features.append(s)
        logits = self.out(torch.stack(features, dim=1))  # (B, n, V)
        return nn.functional.cross_entropy(logits.reshape(-1, a.vocab), tgt_out.reshape(-1))


# ---- the Transformer of SPEC §14 (include/stepgrad/transformer.hpp) ----

def positional_encoding(length, d):
    """PE[p, 2k] = sin(p / 10000^{2k/d}), PE[p, 2k+1] = cos(p / 10000^{2k/d})"""
    p = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    angle = p / 10000.0 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
    return pe


def attention(d, h):
    """Q = Q_in W_Qᵀ + b_Q … out = [head_1 … head_h] W_Oᵀ + b_O: in_proj_weight is W_Q; W_K; W_V"""
    return nn.MultiheadAttention(d, h, dropout=0.0, batch_first=True)


def feed_forward(d, d_ff):  # FFN(x) = relu(x W_1ᵀ + b_1) W_2ᵀ + b_2
    return nn.Sequential(nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d))


class EncoderLayer(nn.Module):
    def __init__(self, d, h, d_ff, pre):
        super().__init__()
        self.pre = pre
        self.self_attn, self.norm1 = attention(d, h), nn.LayerNorm(d, eps=1e-5)
        self.ffn, self.norm2 = feed_forward(d, d_ff), nn.LayerNorm(d, eps=1e-5)

    def forward(self, x):
        def sa(v):
            return self.self_attn(v, v, v, need_weights=False)[0]
        if self.pre:  # x += MHA(LN₁x, LN₁x);  x += FFN(LN₂x)
            x = x + sa(self.norm1(x))
            return x + self.ffn(self.norm2(x))
        x = self.norm1(x + sa(x))  # x = LN₁(x + MHA(x, x));  x = LN₂(x + FFN(x))
        return self.norm2(x + self.ffn(x))


class DecoderLayer(nn.Module):
    def __init__(self, d, h, d_ff, pre):
        super().__init__()
        self.pre = pre
        self.self_attn, self.norm1 = attention(d, h), nn.LayerNorm(d, eps=1e-5)
        self.cross_attn, self.norm2 = attention(d, h), nn.LayerNorm(d, eps=1e-5)
        self.ffn, self.norm3 = feed_forward(d, d_ff), nn.LayerNorm(d, eps=1e-5)

    def forward(self, y, memory, causal):
        def sa(v):
            return self.self_attn(v, v, v, attn_mask=causal, need_weights=False)[0]

        def ca(v):
            return self.cross_attn(v, memory, memory, need_weights=False)[0]
        if self.pre:  # y += MHA(LN₁y, LN₁y, causal);  y += MHA(LN₂y, memory);  y += FFN(LN₃y)
            y = y + sa(self.norm1(y))
            y = y + ca(self.norm2(y))
            return y + self.ffn(self.norm3(y))
        y = self.norm1(y + sa(y))
        y = self.norm2(y + ca(y))
        return self.norm3(y + self.ffn(y))


class Transformer(nn.Module):
    def __init__(self, a, src_vocab=None, tgt_vocab=None):
        super().__init__()
        d, h, N, pre = a.d_model, a.heads, a.layers, a.norm == "pre"
        self.d = d
        self.src_embed = nn.Embedding(src_vocab or a.vocab, d)
        self.tgt_embed = nn.Embedding(tgt_vocab or a.vocab, d)
        self.encoder = nn.ModuleList(EncoderLayer(d, h, a.d_ff, pre) for _ in range(N))
        self.decoder = nn.ModuleList(DecoderLayer(d, h, a.d_ff, pre) for _ in range(N))
        self.encoder_norm = nn.LayerNorm(d, eps=1e-5) if pre else None  # a final LN: pre only
        self.decoder_norm = nn.LayerNorm(d, eps=1e-5) if pre else None
        self.out = nn.Linear(d, tgt_vocab or a.vocab)

    def logits(self, src, tgt_in):
        m, n = src.shape[1], tgt_in.shape[1]
        # X = src_embed[x] · √d + PE,  Y = tgt_embed[<bos> y_1 … y_{n−1}] · √d + PE
        x = self.src_embed(src) * math.sqrt(self.d) + positional_encoding(m, self.d)
        for layer in self.encoder:
            x = layer(x)
        memory = self.encoder_norm(x) if self.encoder_norm else x
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)  # True: may not see
        y = self.tgt_embed(tgt_in) * math.sqrt(self.d) + positional_encoding(n, self.d)
        for layer in self.decoder:
            y = layer(y, memory, causal)
        if self.decoder_norm:
            y = self.decoder_norm(y)
        return self.out(y)  # (B, n, V)

    def forward(self, src, tgt_in, tgt_out):
        logits = self.logits(src, tgt_in)
        # mean over the non-pad (id 0) target tokens of −log softmax(logits)[y_j]
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=0)


def check_golden(path):
    """Loads a stepgrad Transformer trace's parameters (SPEC §14 names) into Transformer and
    compares its logits and loss with the trace's: exits 1 if they differ by more than 1e-9."""
    with open(path) as f:
        trace = json.load(f)
    model_info = trace["model"]
    a = argparse.Namespace(d_model=model_info["d_model"], heads=model_info["heads"], layers=model_info["layers"],
                           d_ff=model_info["d_ff"], norm=model_info["norm"], vocab=None)
    model = Transformer(a, len(trace["src_vocab"]), len(trace["tgt_vocab"]))
    params = {name: torch.tensor(p["data"], dtype=torch.float64).reshape(p["shape"])
              for name, p in trace["params"].items()}

    def attn_from(mha, prefix):
        mha.in_proj_weight.copy_(torch.cat([params[prefix + w] for w in (".W_Q", ".W_K", ".W_V")]))
        mha.in_proj_bias.copy_(torch.cat([params[prefix + b] for b in (".b_Q", ".b_K", ".b_V")]))
        mha.out_proj.weight.copy_(params[prefix + ".W_O"])
        mha.out_proj.bias.copy_(params[prefix + ".b_O"])

    def norm_from(norm, prefix):
        norm.weight.copy_(params[prefix + ".gamma"])
        norm.bias.copy_(params[prefix + ".beta"])

    def ffn_from(ffn, prefix):
        for linear, i in ((ffn[0], 1), (ffn[2], 2)):
            linear.weight.copy_(params[f"{prefix}.W_{i}"])
            linear.bias.copy_(params[f"{prefix}.b_{i}"])

    with torch.no_grad():
        model.src_embed.weight.copy_(params["src_embed"])
        model.tgt_embed.weight.copy_(params["tgt_embed"])
        for side, layers in (("encoder", model.encoder), ("decoder", model.decoder)):
            for l, layer in enumerate(layers):
                p = f"{side}.{l}"
                attn_from(layer.self_attn, p + ".self_attn")
                norm_from(layer.norm1, p + ".norm1")
                ffn_from(layer.ffn, p + ".ffn")
                norm_from(layer.norm2, p + ".norm2")
                if side == "decoder":
                    attn_from(layer.cross_attn, p + ".cross_attn")
                    norm_from(layer.norm3, p + ".norm3")
        if model.encoder_norm:
            norm_from(model.encoder_norm, "encoder.norm")
            norm_from(model.decoder_norm, "decoder.norm")
        model.out.weight.copy_(params["output.W"])
        model.out.bias.copy_(params["output.b"])
        tgt = trace["tgt"]
        src = torch.tensor([trace["src"]])
        tgt_in = torch.tensor([[trace["bos"]] + tgt[:-1]])
        logits = model.logits(src, tgt_in)[0]
        loss = model(src, tgt_in, torch.tensor([tgt])).item()
    expected_logits = torch.tensor(trace["logits"]["data"] if isinstance(trace["logits"], dict) else trace["logits"],
                                   dtype=torch.float64).reshape(logits.shape)
    worst = (logits - expected_logits).abs().max().item()
    print(f"{path}: loss {loss!r} (trace {trace['loss']!r}), largest logit difference {worst:.2e}")
    return 0 if abs(loss - trace["loss"]) <= 1e-9 * max(1, abs(trace["loss"])) and worst <= 1e-9 else 1


def reverse_batch(generator, a):
    src = torch.randint(3, a.vocab, (a.batch, a.src_len), generator=generator)
    eos = torch.full((a.batch, 1), 2)
    tgt = torch.cat([src.flip(1), eos], dim=1)
    tgt_in = torch.cat([torch.full((a.batch, 1), 1), tgt[:, :-1]], dim=1)
    return torch.cat([src, eos], dim=1), tgt_in, tgt


def set_openblas_threads(count):
    """OpenBLAS keeps its own thread count (OPENBLAS_NUM_THREADS when it loaded), which
    torch.set_num_threads does not reach: ask it directly when it is in the process."""
    import ctypes
    try:
        ctypes.CDLL(None).openblas_set_num_threads(count)
    except AttributeError:
        pass  # another BLAS: torch.set_num_threads is all there is


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="rnn", choices=["rnn", "transformer"])
    p.add_argument("--cell", default="gru", choices=list(CELLS))
    p.add_argument("--decoder", default="bahdanau", choices=["plain", "bahdanau", "luong"])
    p.add_argument("--score", default="concat", choices=["concat", "dot", "general", "qk", "qk-scaled"])
    for name, default in [("embed", 32), ("hidden", 64), ("attn", 64), ("vocab", 32), ("src-len", 12),
                          ("batch", 32), ("steps", 100), ("warmup", 10), ("seed", 1),
                          ("d-model", 64), ("heads", 4), ("d-ff", 128)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--layers", type=int, help="SPEC §11 stacked layers L, 1 to 4 (default 1), or the Transformer's N (default 2)")
    p.add_argument("--norm", default="pre", choices=["pre", "post"])
    p.add_argument("--check-golden", metavar="TRACE", help="compare the Transformer with a stepgrad trace, then exit")
    p.add_argument("--threads", type=int, default=1,
                   help="torch's intra-op threads and OpenBLAS's (default 1; compare with stepgrad-bench --threads N)")
    a = p.parse_args()
    if a.layers is None:  # as stepgrad-bench: the RNN models default to 1 layer, the Transformer to 2
        a.layers = 2 if a.model == "transformer" else 1
    if a.model == "rnn" and not 1 <= a.layers <= 4:
        p.error(f"--layers {a.layers}: the RNN models stack 1 to 4 layers")
    if a.threads < 1:
        p.error(f"--threads {a.threads}: at least 1")
    torch.set_num_threads(a.threads)
    set_openblas_threads(a.threads)
    torch.set_default_dtype(torch.float64)
    if a.check_golden:
        raise SystemExit(check_golden(a.check_golden))
    torch.manual_seed(a.seed)
    model = Transformer(a) if a.model == "transformer" else Seq2Seq(a)
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
    start, cpu_start = time.perf_counter(), time.process_time()
    run(a.steps, a.warmup)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    steps_per_s = a.steps / seconds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    described = (f"transformer {a.norm}-norm d={a.d_model} h={a.heads} N={a.layers} d_ff={a.d_ff}"
                 if a.model == "transformer" else f"{a.cell} {a.decoder}/{a.score}" + (f" L={a.layers}" if a.layers > 1 else ""))
    print(f"torch {torch.__version__} {described} V={a.vocab} m={a.src_len} B={a.batch}: "
          f"{1e3 / steps_per_s:.1f} ms/step (CPU {1e3 * cpu_seconds / a.steps:.1f})")
    print(f"steps_per_s={steps_per_s:.2f} tokens_per_s={steps_per_s * a.batch * (a.src_len + 1):.0f} peak_rss_mb={peak:.1f}")


if __name__ == "__main__":
    main()
