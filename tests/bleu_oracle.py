#!/usr/bin/env python3
"""Corpus BLEU-4 of stepgrad (src/bleu.cpp) against NLTK's corpus_bleu on random corpora.

usage: bleu_oracle.py PATH/TO/bleu_corpus [--corpora N] [--seed S]

Generates corpora of random sentences over small vocabularies (so n-grams repeat and
clipping matters), some hypotheses close copies of their reference, some shorter (so the
brevity penalty applies), some with no 4-gram match; pipes them to the bleu_corpus
program and compares BLEU to NLTK's to 1e-12 and every count to NLTK's integers.
Hypotheses have at least 4 tokens: NLTK counts a shorter one as holding one n-gram of
each order it lacks (its per-sentence denominator is max(1, count)), stepgrad as none.
NLTK without smoothing gives 0 when no unigram matches and ~1e-75 when a higher-order
precision is 0; stepgrad gives exactly 0 — the same within the tolerance.
Exits 77 (CTest's SKIP_RETURN_CODE) when nltk is not installed.
"""
import argparse
import math
import random
import subprocess
import sys
import warnings

try:
    from nltk.translate.bleu_score import corpus_bleu, modified_precision
except ImportError:
    print("nltk is not installed (Debian: python3-nltk): skipped", file=sys.stderr)
    sys.exit(77)


def sentence(rng, vocab, length):
    return [f"w{rng.randrange(vocab)}" for _ in range(length)]


def corpus(rng):
    vocab = rng.choice([2, 3, 5, 20])
    pairs = []
    for _ in range(rng.randint(1, 12)):
        ref = sentence(rng, vocab, rng.randint(1, 15))
        kind = rng.random()
        if kind < 0.4:  # a noisy copy: substitutions and deletions
            hyp = [t if rng.random() < 0.8 else f"w{rng.randrange(vocab)}" for t in ref if rng.random() < 0.9]
        else:
            hyp = sentence(rng, vocab, rng.randint(1, 18))
        while len(hyp) < 4:
            hyp.append(f"w{rng.randrange(vocab)}")
        pairs.append((hyp, ref))
    return pairs


def nltk_counts(pairs):
    """NLTK's own numerators and denominators (p_n as unnormalised Fractions)."""
    counts = []
    for n in range(1, 5):
        matched = total = 0
        for hyp, ref in pairs:
            p = modified_precision([ref], hyp, n)
            matched += p.numerator
            total += p.denominator
        counts += [matched, total]
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("program")
    parser.add_argument("--corpora", type=int, default=500)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    corpora = [corpus(rng) for _ in range(args.corpora)]
    text = "".join("".join(f"{' '.join(h)}\t{' '.join(r)}\n" for h, r in pairs) + "\n" for pairs in corpora)
    out = subprocess.run([args.program], input=text, capture_output=True, text=True, check=True).stdout.split("\n")
    largest, zeros, failures = 0.0, 0, 0
    for k, pairs in enumerate(corpora):
        fields = out[k].split()
        ours, c, r = float(fields[0]), int(fields[1]), int(fields[2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NLTK warns about every zero precision
            theirs = 100 * corpus_bleu([[ref] for _, ref in pairs], [hyp for hyp, _ in pairs])
        expected_counts = nltk_counts(pairs)
        counts = [int(x) for x in fields[4:12]]
        c_nltk, r_nltk = sum(len(h) for h, _ in pairs), sum(len(r) for _, r in pairs)
        diff = abs(ours - theirs)
        largest = max(largest, diff)
        zeros += ours == 0
        if diff > 1e-12 or counts != expected_counts or (c, r) != (c_nltk, r_nltk) or math.isnan(ours):
            failures += 1
            if failures <= 3:
                print(f"corpus {k}: stepgrad {ours!r} counts {counts} c {c} r {r}; "
                      f"NLTK {theirs!r} counts {expected_counts} c {c_nltk} r {r_nltk}; pairs {pairs}")
    print(f"{len(corpora)} corpora ({zeros} with BLEU 0): largest |stepgrad - NLTK| = {largest:.3g}, "
          f"{failures} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
