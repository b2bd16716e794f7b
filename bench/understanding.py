"""Does search understand the words people use? First-result accuracy on questions.

Two question sets, written as activists ask (questions, everyday words, no syntax):

- STARTER: 40 questions over the starter positions (``positions/``);
- IPNZ: 20 questions over the Internet Party (NZ) policies in
  ``/work/shared/corpora/internet-party-nz/policies``, copied into a plain content folder
  (front matter reduced to title, summary, status and date; slug = file name in lower case).

At least a third of each set shares no word with the position it wants, in the manner
of "homelessness" → housing. ``tests/test_understanding.py`` keeps the sets in the
suite; this module also prints the same accuracy beside a plain SQLite FTS5 (porter,
BM25, all words then any, from ``bench/fts5_baseline.py``)::

    .venv/bin/python -m bench.understanding          # both sets, Positions and FTS5
    .venv/bin/python -m bench.understanding -v       # and every miss
    .venv/bin/python -m bench.understanding --held-out   # the held-out sets
    .venv/bin/python -m bench.understanding --held-out-2 # the second held-out sets
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STARTER_DIR = ROOT / "positions"
IPNZ_SOURCE = Path("/work/shared/corpora/internet-party-nz/policies")

# (question, slug of the position that should come first)
STARTER = [
    ("what are you doing about global warming", "climate"),
    ("fossil fuels", "climate"),
    ("carbon footprint", "climate"),
    ("greenhouse gases", "climate"),
    ("will you cut pollution from cars and power stations", "climate"),
    ("what do you think of brexit", "europe"),
    ("should we rejoin the EU", "europe"),
    ("relations with france and germany", "europe"),
    ("single market and customs union", "europe"),
    ("do you support the EU", "europe"),
    ("the gap between rich and poor", "inequality"),
    ("billionaires should pay more tax", "inequality"),
    ("poverty", "inequality"),
    ("foreign aid", "internationalism"),
    ("colonialism and the empire", "internationalism"),
    ("working with other countries on global problems", "internationalism"),
    ("what has labour done for the health service", "labour-achievements"),
    ("same sex marriage", "labour-achievements"),
    ("hospitals and doctors", "labour-achievements"),
    ("low pay", "labour-achievements"),
    ("when was progress founded", "labour-tradition"),
    ("social democrats and socialists", "labour-tradition"),
    ("keir hardie", "labour-tradition"),
    ("what about students", "next-generation"),
    ("teenagers in politics", "next-generation"),
    ("young activists", "next-generation"),
    ("common sense instead of ideology", "pragmatic-reform"),
    ("being practical not dogmatic", "pragmatic-reform"),
    ("evidence based policy", "pragmatic-reform"),
    ("big business influence on politics", "rebalancing-power"),
    ("corporate lobbying", "rebalancing-power"),
    ("devolution", "rebalancing-power"),
    ("giving communities a say", "rebalancing-power"),
    ("why should labour win the next election", "urgency-and-government"),
    ("getting the tories out", "urgency-and-government"),
    ("people are suffering under this government", "urgency-and-government"),
    ("far right demagogues", "democracy-and-populism"),
    ("protecting minorities from the majority", "democracy-and-populism"),
    ("strongmen and authoritarian leaders", "democracy-and-populism"),
    ("free speech", "democracy-and-populism"),
]

IPNZ = [
    ("vivisection", "animalwelfare"),
    ("save the maui dolphin", "dolphins"),
    ("fishing nets killing marine mammals", "dolphins"),
    ("weed", "cannabis"),
    ("medical marijuana", "cannabis"),
    ("faster broadband and cheaper data", "cheaperuniversalinternet"),
    ("earthquake recovery in canterbury", "christchurchrebuild"),
    ("music piracy and file sharing", "copyrightopenresearch"),
    ("convicts and jail", "criminaljustice"),
    ("tech startups and the knowledge economy", "digitaleconomyinnovation"),
    ("solar and wind power", "envrionment"),
    ("fracking", "envrionment"),
    ("college tuition", "freetertiaryeducationpolicy"),
    ("trade deals negotiated in secret", "independence"),
    ("wiretapping", "privacyinternetfreedom"),
    ("mass surveillance", "privacyinternetfreedom"),
    ("computers in classrooms", "modernschools"),
    ("red tape and bureaucrats", "responsivegovernment"),
    ("painters and musicians", "artsculture"),
    ("electronic health records", "betterhealthcare"),
]

# Held out while the meaning vectors were chosen: written before any method was tried
# and run only once the method was settled, to report accuracy on unseen questions.
HELDOUT_STARTER = [
    ("heatwaves and rising sea levels", "climate"),
    ("net zero by 2050", "climate"),
    ("brussels", "europe"),
    ("leaving the european union was a mistake", "europe"),
    ("tax the rich", "inequality"),
    ("millionaires and the super rich", "inequality"),
    ("slavery reparations", "internationalism"),
    ("gay rights", "labour-achievements"),
    ("the minimum wage", "labour-achievements"),
    ("history of the labour party", "labour-tradition"),
    ("youth wing and young members", "next-generation"),
    ("localism and town halls", "rebalancing-power"),
    ("extremists who attack judges and the press", "democracy-and-populism"),
    ("ideological purity", "pragmatic-reform"),
    ("kick out the conservatives", "urgency-and-government"),
]

HELDOUT_IPNZ = [
    ("animal testing in labs", "animalwelfare"),
    ("protecting endangered sea creatures", "dolphins"),
    ("pot smokers", "cannabis"),
    ("fibre internet for rural towns", "cheaperuniversalinternet"),
    ("rebuilding after the quakes", "christchurchrebuild"),
    ("open access to academic journals", "copyrightopenresearch"),
    ("jailbirds and inmates", "criminaljustice"),
    ("climate pollution and clean rivers", "envrionment"),
    ("student loans", "freetertiaryeducationpolicy"),
    ("government spying on citizens", "privacyinternetfreedom"),
    ("ipads for every pupil", "modernschools"),
    ("hospital waiting times", "betterhealthcare"),
    ("sculptors and poets", "artsculture"),
]

# A second held-out pair, written (issue 15, phrases) before phrase vectors or passage
# meaning were tried, and run only to report: never tuned on.
HELDOUT2_STARTER = [
    ("oil and gas drilling", "climate"),
    ("extreme weather and floods", "climate"),
    ("melting ice caps", "climate"),
    ("free movement across the continent", "europe"),
    ("a second referendum", "europe"),
    ("food banks", "inequality"),
    ("a wealth tax on the top one percent", "inequality"),
    ("isolationism", "internationalism"),
    ("the welfare state and free healthcare", "labour-achievements"),
    ("decriminalising homosexuality", "labour-achievements"),
    ("where did the party come from", "labour-tradition"),
    ("what about gen z", "next-generation"),
    ("students getting involved in campaigning", "next-generation"),
    ("what works rather than what is fashionable", "pragmatic-reform"),
    ("monopolies and tech giants", "rebalancing-power"),
    ("handing power to local councils", "rebalancing-power"),
    ("rabble rousers and mob rule", "democracy-and-populism"),
    ("rights of ethnic and religious minorities", "democracy-and-populism"),
    ("when will we get a change of government", "urgency-and-government"),
]

HELDOUT2_IPNZ = [
    ("factory farming and battery hens", "animalwelfare"),
    ("mistreating pets", "animalwelfare"),
    ("whales and porpoises in danger", "dolphins"),
    ("legalising recreational drugs", "cannabis"),
    ("slow internet in the countryside", "cheaperuniversalinternet"),
    ("housing for quake victims", "christchurchrebuild"),
    ("downloading movies illegally", "copyrightopenresearch"),
    ("prison reform and rehabilitation", "criminaljustice"),
    ("locked up for too long", "criminaljustice"),
    ("research and development funding for tech companies", "digitaleconomyinnovation"),
    ("electric cars and green energy", "envrionment"),
    ("university fees", "freetertiaryeducationpolicy"),
    ("foreign influence on our laws", "independence"),
    ("snooping on emails", "privacyinternetfreedom"),
    ("teachers and technology in schools", "modernschools"),
    ("online voting and transparency in government", "responsivegovernment"),
    ("hospital computer systems", "betterhealthcare"),
    ("grants for actors and dancers", "artsculture"),
]

# A third held-out pair, written (session 12) before anything that session tried, blind
# to the positions' text. It was run before and after; five of its misses were read to
# see why they missed, and nothing was tuned on them.
HELDOUT3_STARTER = [
    ("stopping global heating", "climate"),
    ("coal power stations", "climate"),
    ("the single currency and the eurozone", "europe"),
    ("rejoining the eu", "europe"),
    ("the gap between rich and poor", "inequality"),
    ("low pay and the cost of living", "inequality"),
    ("foreign policy and the united nations", "internationalism"),
    ("helping poorer countries", "internationalism"),
    ("what has labour done for us", "labour-achievements"),
    ("the national health service", "labour-achievements"),
    ("trade unions and the working class movement", "labour-tradition"),
    ("young voters", "next-generation"),
    ("apprenticeships and school leavers", "next-generation"),
    ("evidence based policy", "pragmatic-reform"),
    ("giving workers a say in their company", "rebalancing-power"),
    ("concentrated corporate power", "rebalancing-power"),
    ("conspiracy theories and fake news", "democracy-and-populism"),
    ("protecting the courts and a free press", "democracy-and-populism"),
    ("fixing the country quickly", "urgency-and-government"),
    ("the tories have failed", "urgency-and-government"),
]

HELDOUT3_IPNZ = [
    ("cruelty to farm animals", "animalwelfare"),
    ("cosmetics tested on rabbits", "animalwelfare"),
    ("hector's dolphins and set nets", "dolphins"),
    ("legal marijuana", "cannabis"),
    ("medical use of hemp", "cannabis"),
    ("broadband prices", "cheaperuniversalinternet"),
    ("earthquake recovery in canterbury", "christchurchrebuild"),
    ("file sharing and piracy", "copyrightopenresearch"),
    ("publicly funded science should be free to read", "copyrightopenresearch"),
    ("sentencing and reoffending", "criminaljustice"),
    ("startups and the tech sector", "digitaleconomyinnovation"),
    ("polluted waterways", "envrionment"),
    ("free university", "freetertiaryeducationpolicy"),
    ("selling our land to overseas buyers", "independence"),
    ("mass surveillance by spy agencies", "privacyinternetfreedom"),
    ("coding lessons for kids", "modernschools"),
    ("citizens voting on laws directly", "responsivegovernment"),
    ("mental health services", "betterhealthcare"),
    ("funding for the film industry", "artsculture"),
    ("gp visits cost too much", "betterhealthcare"),
]

WORD_RE = re.compile(r"[a-z0-9]+")


def prepare_ipnz(dest: Path, source: Path = IPNZ_SOURCE) -> Path:
    """Copy the Jekyll policies into ``dest`` as a plain content folder; return it."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
        header = "\n".join([
            f"title: {json.dumps(str(meta.get('title', path.stem)))}",
            f"summary: {json.dumps(str(meta.get('excerpt', '')).strip())}",
            "status: adopted",
            f"updated: {str(meta.get('date', '2015-01-01'))[:10]}",
        ])  # fmt: skip
        (dest / f"{path.stem.lower()}.md").write_text(f"---\n{header}\n---\n{body}", "utf-8")
    return dest


def accuracy(cases: list[tuple[str, str]], first: Callable[[str], str | None]) -> list[str]:
    """The questions whose first result is not the wanted position."""
    return [q for q, slug in cases if first(q) != slug]


def positions_first(positions_dir: Path, index_dir: Path) -> Callable[[str], str | None]:
    """A function: question → the slug Positions ranks first (the index is built here)."""
    from app import create_app
    from kb.index.build import update_index
    from kb.search.engine import SearchRequest
    from kb.service import knowledge_base_of

    update_index(positions_dir, index_dir)
    app = create_app(
        {"TESTING": True, "KB_POSITIONS_DIR": str(positions_dir), "KB_INDEX_DIR": str(index_dir)}
    )
    kb = knowledge_base_of(app)

    def first(question: str) -> str | None:
        found = kb.search(SearchRequest(q=question))
        return found.results[0].slug if found.results else None

    return first


def fts5_first(positions_dir: Path, db: Path) -> Callable[[str], str | None]:
    """The same, for the plain FTS5 baseline over the same files."""
    from bench.fts5_baseline import build_fts5, connect_readonly, search_fts5

    build_fts5(positions_dir, db)
    conn = connect_readonly(db)

    def first(question: str) -> str | None:
        results = search_fts5(conn, question, 1)["results"]
        return results[0]["slug"] if results else None

    return first


def sharing_no_word(cases: list[tuple[str, str]], folder: Path, stem) -> list[str]:
    """The questions that share no content word (after stemming) with their position."""
    from kb.search.grammar import STOP_WORDS

    texts: dict[str, set[str]] = {}
    lonely = []
    for question, slug in cases:
        if slug not in texts:
            words = WORD_RE.findall((folder / f"{slug}.md").read_text("utf-8").lower())
            texts[slug] = {stem(w) for w in words}
        asked = {stem(w) for w in WORD_RE.findall(question.lower()) if w not in STOP_WORDS}
        if not asked & texts[slug]:
            lonely.append(question)
    return lonely


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--held-out", action="store_true", help="the held-out sets instead")
    parser.add_argument("--held-out-2", action="store_true", help="the second held-out sets")
    parser.add_argument("--held-out-3", action="store_true", help="the third held-out sets")
    args = parser.parse_args()
    starter, ipnz = (STARTER, IPNZ)
    if args.held_out:
        starter, ipnz = (HELDOUT_STARTER, HELDOUT_IPNZ)
    if args.held_out_2:
        starter, ipnz = (HELDOUT2_STARTER, HELDOUT2_IPNZ)
    if args.held_out_3:
        starter, ipnz = (HELDOUT3_STARTER, HELDOUT3_IPNZ)
    from kb.index.query import stem

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sets = [("starter", starter, STARTER_DIR)]
        if IPNZ_SOURCE.is_dir():
            sets.append(("internet-party-nz", ipnz, prepare_ipnz(work / "ipnz")))
        for name, cases, folder in sets:
            lonely = sharing_no_word(cases, folder, stem)
            engines = {
                "Positions": positions_first(folder, work / f"{name}-index"),
                "FTS5": fts5_first(folder, work / f"{name}.db"),
            }
            print(f"{name}: {len(cases)} questions, {len(lonely)} share no word")
            for engine, first in engines.items():
                missed = accuracy(cases, first)
                missed_lonely = [q for q in missed if q in lonely]
                print(
                    f"  {engine:9} {len(cases) - len(missed)}/{len(cases)} first right; "
                    f"no-shared-word {len(lonely) - len(missed_lonely)}/{len(lonely)}"
                )
                if args.verbose:
                    for question in missed:
                        print(f"      miss: {question!r} → {first(question)}")


if __name__ == "__main__":
    main()
