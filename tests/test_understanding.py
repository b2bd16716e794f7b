"""Questions in people's words find the position they want (bench/understanding.py).

40 questions over the starter positions and 20 over the Internet Party (NZ) policies,
at least a third of each sharing no word with the position it wants, and the held-out
sets (15 and 13) written before the meaning vectors were tried, the second held-out
sets (19 and 18) written before phrases and passages were, and the third (20 and 20)
written blind to the positions' text. The thresholds
are the accuracy measured when the meaning route was chosen, so a change that loses
understanding fails here; `python -m bench.understanding -v` shows every miss.
"""

from __future__ import annotations

import pytest

from bench.understanding import (
    HELDOUT2_IPNZ,
    HELDOUT2_STARTER,
    HELDOUT3_IPNZ,
    HELDOUT3_STARTER,
    HELDOUT_IPNZ,
    HELDOUT_STARTER,
    IPNZ,
    IPNZ_SOURCE,
    STARTER,
    STARTER_DIR,
    accuracy,
    positions_first,
    prepare_ipnz,
    sharing_no_word,
)
from kb.index.query import stem

STARTER_AT_LEAST = 31  # of 40 (17 before issue 15, 24 with related words, 25 with word
# vectors, 31 with phrases and passages; FTS5 17)
IPNZ_AT_LEAST = 17  # of 20 (13 before, 14 with related words, 16 word vectors; FTS5 11)
# The held-out sets, measured once the meaning vectors were chosen (FTS5: 3 and 9).
HELDOUT_STARTER_AT_LEAST = 10  # of 15 (7 with related words alone, 8 with word vectors)
HELDOUT_IPNZ_AT_LEAST = 11  # of 13 (10 with related words alone)
# The second held-out sets, written before phrases and passages were tried and run twice,
# before and after (FTS5: 6 and 14).
HELDOUT2_STARTER_AT_LEAST = 15  # of 19 (14 before)
HELDOUT2_IPNZ_AT_LEAST = 16  # of 18 (15 before; 16 once a position may lack the commonest word)
# The third held-out sets, written blind to the positions' text (FTS5: 7 and 12).
HELDOUT3_STARTER_AT_LEAST = 9  # of 20
HELDOUT3_IPNZ_AT_LEAST = 17  # of 20


def test_a_third_of_each_set_shares_no_word(tmp_path):
    assert len(STARTER) == 40
    assert len(sharing_no_word(STARTER, STARTER_DIR, stem)) * 3 >= len(STARTER)
    if IPNZ_SOURCE.is_dir():
        folder = prepare_ipnz(tmp_path / "ipnz")
        assert len(IPNZ) == 20
        assert len(sharing_no_word(IPNZ, folder, stem)) * 3 >= len(IPNZ)
        second = [*HELDOUT2_STARTER, *HELDOUT2_IPNZ]
        lonely = sharing_no_word(HELDOUT2_STARTER, STARTER_DIR, stem)
        lonely += sharing_no_word(HELDOUT2_IPNZ, folder, stem)
        assert len(second) >= 30
        assert len(lonely) * 3 >= len(second)


def test_starter_questions(tmp_path):
    first = positions_first(STARTER_DIR, tmp_path / "index")
    missed = accuracy(STARTER, first)
    assert len(STARTER) - len(missed) >= STARTER_AT_LEAST, missed
    missed = accuracy(HELDOUT_STARTER, first)
    assert len(HELDOUT_STARTER) - len(missed) >= HELDOUT_STARTER_AT_LEAST, missed
    missed = accuracy(HELDOUT2_STARTER, first)
    assert len(HELDOUT2_STARTER) - len(missed) >= HELDOUT2_STARTER_AT_LEAST, missed
    missed = accuracy(HELDOUT3_STARTER, first)
    assert len(HELDOUT3_STARTER) - len(missed) >= HELDOUT3_STARTER_AT_LEAST, missed


@pytest.mark.skipif(not IPNZ_SOURCE.is_dir(), reason=f"{IPNZ_SOURCE} is not on this machine")
def test_internet_party_questions(tmp_path):
    folder = prepare_ipnz(tmp_path / "ipnz")
    first = positions_first(folder, tmp_path / "index")
    missed = accuracy(IPNZ, first)
    assert len(IPNZ) - len(missed) >= IPNZ_AT_LEAST, missed
    missed = accuracy(HELDOUT_IPNZ, first)
    assert len(HELDOUT_IPNZ) - len(missed) >= HELDOUT_IPNZ_AT_LEAST, missed
    missed = accuracy(HELDOUT2_IPNZ, first)
    assert len(HELDOUT2_IPNZ) - len(missed) >= HELDOUT2_IPNZ_AT_LEAST, missed
    missed = accuracy(HELDOUT3_IPNZ, first)
    assert len(HELDOUT3_IPNZ) - len(missed) >= HELDOUT3_IPNZ_AT_LEAST, missed
