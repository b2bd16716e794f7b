"""Where an incremental update spends its time: cProfile of reindex after one edit.

    python -m bench.profile_update [--corpus digitalgov] [--files 1] [--top 30]

Edits files in the benchmark's working copy (appending a word), profiles
kb.indexing.reindex (incremental, citation ledger included), then restores the
files and brings the index back in line. The profile goes to
bench/results/profile-update.pstats.
"""

from __future__ import annotations

import argparse
import cProfile
import random
import sys
import time

from bench.profile_query import RESULTS, ensure_index, own_code, top_cumulative
from bench.workspace import SOURCES, Corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_update")
    parser.add_argument("--corpus", default="digitalgov", choices=list(SOURCES))
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    from kb.config import Settings
    from kb.indexing import reindex

    corpus = Corpus(args.corpus, *SOURCES[args.corpus])
    ensure_index(corpus)
    settings = Settings.from_mapping(corpus.settings_mapping())
    reindex(settings)  # start from an index that matches the files exactly
    targets = random.Random(11).sample(corpus.indexed, min(args.files, len(corpus.indexed)))
    originals = {rel: (corpus.root / rel).read_bytes() for rel in targets}
    for rel, data in originals.items():
        (corpus.root / rel).write_bytes(data + b"\n\nzqvprofileword marker.\n")
    profile = cProfile.Profile()
    try:
        started = time.perf_counter()
        report = profile.runcall(reindex, settings)
        seconds = time.perf_counter() - started
    finally:
        for rel, data in originals.items():
            (corpus.root / rel).write_bytes(data)
        reindex(settings)
    print(f"incremental update of {len(targets)} file(s) over {corpus.name}: {seconds:.2f} s "
          f"profiled; {report.summary()}")  # fmt: skip
    print(top_cumulative(profile, args.top))
    print("--- time in project code ---")
    print(own_code(profile, 25))
    RESULTS.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(RESULTS / "profile-update.pstats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
