"""Choose English Wikinews articles (2019-2020) on politics, government, elections and
international affairs, and store them as raw articles of the dataset.

Input: ``wikinews_2019.csv`` and ``wikinews_2020.csv`` (columns ``url,date,title,text``) from
``/work/shared/corpus/wikinews`` (or the folder given as the first argument); see its
``SOURCE.md``. Licence CC BY 2.5.

Rule, applied to every row of both files (2019 first, each in file order); the first test that
fails is the reason a row is rejected:

1. Not a test page: the title does not start with ``TEST PAGE``.
2. Not an interview: the title does not match ``INTERVIEW_TITLE`` ("interview", "tells/tell
   Wikinews", "talks/talk to", "with Wikinews", "Wikinews discusses"), and no line of the text
   starts with a speaker tag such as ``((WN))`` or ``((Wikinews))`` (the question-and-answer
   layout of Wikinews interviews).
3. 200 to 1,500 words: the words (whitespace-separated tokens) of the text once the boilerplate
   lines are dropped: the dateline line ("Friday, January 4, 2019"), map-legend lines (starting
   with "█") and pull-quote attribution lines (an em dash glued to the speaker's name,
   "—John Hickenlooper"; the quotation itself is not in the scraped text). These are the same
   three patterns as the "Wikinews" entry of ``articles/sources.json``.
4. On topic: title + text (boilerplate dropped) contain at least ``MIN_KEYWORDS`` (3) different
   keywords of ``KEYWORDS`` and at least ``MIN_HITS`` (8) keyword occurrences in all
   (case-insensitive, whole words; each entry of ``KEYWORDS`` is one keyword).
5. Cap: of the rows passing 1-4, sorted by the sha256 of their fixed URL (hex), the first ``CAP``
   (88) are chosen; the others are rejected as "over the cap".

URLs are fixed (``//wiki/`` becomes ``/wiki/``). An article's id is
``wn-<date>-<first 8 hex digits of sha256(fixed url)>``. For each chosen article the script writes
``articles/<id>.txt`` (the CSV text cell byte for byte) and ``articles/<id>.json`` (metadata, see
``schema/article.schema.json``), after removing every earlier ``articles/wn-*`` file, and
``scripts/wikinews_rejected.tsv`` (every row not chosen: fixed url, title, reason).

Groups (``group``, the story key that keeps one story in one split): two chosen articles share a
group when (a) at least 10% of the word 5-grams of the shorter one also occur in the other
(lowercased words of the text, boilerplate dropped) or (b) both are listed under one story of
``STORIES``, a table written by reading the titles and texts of the chosen articles: the same
event or its direct follow-up (a resignation and the successor's removal, an inquiry and the
impeachment vote). Groups are the connected components of these links with two or more chosen
articles, named ``wn-story-<slug>`` after the ``STORIES`` entry (a component linked by (a) alone
with no entry stops the script: name it in the table); every other article has ``null``.

Standard library only; the output depends on the input files alone.

    python3 scripts/select_wikinews.py [corpus-folder]
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("/work/shared/corpus/wikinews")
FILES = ("wikinews_2019.csv", "wikinews_2020.csv")
ARTICLES = ROOT / "articles"
REJECTED = Path(__file__).resolve().parent / "wikinews_rejected.tsv"

SOURCE = "Wikinews"
LICENSE = "CC BY 2.5 (https://creativecommons.org/licenses/by/2.5/); credit: Wikinews"
MIN_WORDS, MAX_WORDS = 200, 1500
MIN_KEYWORDS, MIN_HITS = 3, 8
CAP = 88
SHINGLE, OVERLAP = 5, 0.10

# Boilerplate lines, matched on the stripped line (as the cleaner does): keep in step with the
# "Wikinews" entry of articles/sources.json.
BOILERPLATE = tuple(
    re.compile(p)
    for p in (
        r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?:January|February|March"
        r"|April|May|June|July|August|September|October|November|December) [1-9][0-9]?, "
        r"(?:19|20)[0-9]{2}$",
        r"^█",
        r"^—\S",
    )
)

TEST_PAGE = re.compile(r"^TEST PAGE", re.IGNORECASE)
INTERVIEW_TITLE = re.compile(
    r"interview|\btells? Wikinews\b|\btalks? to\b|\bwith Wikinews\b|\bWikinews discusses\b",
    re.IGNORECASE,
)
SPEAKER_TAG = re.compile(r"^\s*\(\([^()\n]+\)\)", re.MULTILINE)

# Topic keywords: politics, government, elections, international affairs. One entry = one keyword.
KEYWORDS = (
    r"politic\w*",
    r"government\w*",
    r"governors?|governorship",
    r"parliament\w*",
    r"congress\w*",
    r"senate|senators?|senatorial",
    r"legislat\w*",
    r"elections?|electoral|elect|elected|re-elected",
    r"vot(?:e|es|ed|ing)|voters?",
    r"ballots?",
    r"referend\w*",
    r"campaign\w*",
    r"candida\w*",
    r"primar(?:y|ies)|caucus(?:es)?",
    r"presiden\w*",
    r"prime\s+minister\w*",
    r"ministers?|ministr(?:y|ies)",
    r"cabinet",
    r"impeach\w*",
    r"opposition",
    r"democrats?|republicans?",
    r"(?:democratic|republican|conservative|labour|liberal|libertarian|green|communist|socialist)"
    r"\s+party",
    r"democra(?:cy|cies|tic)",
    r"diplomat\w*",
    r"embass(?:y|ies)|ambassadors?",
    r"treat(?:y|ies)",
    r"sanctions?",
    r"united\s+nations|UN\s+(?:General\s+Assembly|Security\s+Council)",
    r"nato",
    r"european\s+union|EU",
    r"african\s+union",
    r"g7|g20|summit",
    r"foreign\s+(?:minister|ministry|policy|affairs|powers?)",
    r"brexit",
    r"prorogu\w*|prorogation",
    r"protest\w*",
    r"sovereign\w*",
    r"mayors?",
    r"constitution\w*",
    r"military|troops",
    r"white\s+house|kremlin|downing\s+street",
    r"extradit\w*",
    r"coalition",
    r"regime|dictator\w*|authoritarian",
    r"refugees?|migrants?|asylum",
    r"ceasefire|peace\s+talks",
    r"coup",
)
KEYWORD_PATTERNS = tuple(re.compile(rf"\b(?:{k})\b", re.IGNORECASE) for k in KEYWORDS)

# Same story, by reading the chosen articles: slug -> fixed URLs.
WIKI = "https://en.wikinews.org/wiki/"
STORIES: dict[str, tuple[str, ...]] = {
    "uk-2019-prorogation": (
        WIKI + "Queen_Elizabeth_agrees_to_suspend_UK_Parliament_ahead_of_Brexit_deadline",
        WIKI + "UK_Prime_Minister_Johnson_suspends_parliament_for_five_weeks_as_Brexit_deadline_"
        "approaches",
        WIKI + "Scottish_court_finds_suspension_of_UK_parliament_unlawful",
        WIKI + "UK_Supreme_Court_rules_prorogation_of_parliament_unlawful",
    ),
    "puerto-rico-2019-governor": (
        WIKI + "Puerto_Rico_governor_announces_resignation_following_protests",
        WIKI + "Puerto_Rico%27s_governor_Rossell%C3%B3_resigns,_new_governor_sworn_in",
        WIKI + "Puerto_Rico_Supreme_Court_removes_Governor_Pierluisi;_Wanda_V%C3%A1zquez_becomes_"
        "governor",
    ),
    "us-2019-trump-impeachment": (
        WIKI + "US_Speaker_Pelosi_announces_Trump_impeachment_investigation",
        WIKI + "U.S._House_issues_subpoena_to_secretary_of_state_as_special_envoy_to_Ukraine_"
        "resigns",
        WIKI + "U.S._House_formalizes_rules_for_Trump_impeachment_proceedings",
        WIKI + "US_House_of_Representatives_impeaches_President_Trump",
    ),
    "hong-kong-2019-protests": (
        WIKI + "Hong_Kong_protesters_surround_downtown_police_complex",
        WIKI + "Hong_Kong_protests_continue_through_police_opposition,_rainstorms",
        WIKI + "Hong_Kong_leader_announces_withdrawal_of_extradition_bill",
        WIKI + "Police_shoot_teenage_protester_as_Hong_Kong_demonstrations_continue",
        WIKI + "Hong_Kong%27s_Carrie_Lam_delivers_speech_on_video_after_protests_in_legislature",
        WIKI + "Hundreds_of_Hong_Kong_district_council_seats_go_to_pro-democracy_candidates",
    ),
    "us-2019-border-wall-emergency": (
        WIKI + "President_Trump_says_he_%27can%27_and_%27may%27_put_US_into_state_of_emergency_to_"
        "build_border_wall",
        WIKI + "Sixteen_states_sue_U.S._President_Trump_to_stop_declaration_of_emergency_for_"
        "border_wall",
    ),
    "syria-2019-turkish-offensive": (
        WIKI + "US_President_Trump_announces_troop_withdrawal_from_Syria",
        WIKI + "Kurds_announce_deal_with_Assad%27s_government_as_Turkey_invades_Syria%27s_"
        "northeast",
    ),
    "samoa-2019-measles": (
        WIKI + "Samoan_government_temporarily_shuts_down_for_nationwide_measles_vaccination_drive",
        WIKI + "Samoan_government_ends_state_of_emergency_over_measles_outbreak",
    ),
    "soleimani-2020-killing": (
        WIKI + "United_States_military_kills_Qasem_Soleimani",
        WIKI + "Iraqi_Parliament_votes_for_expulsion_of_United_States_troops",
        WIKI + "Iran_issues_arrest_warrants_for_36_people,_including_US_President_Trump;_seeks_"
        "Interpol%27s_aid",
    ),
    "eastmed-2020-turkey-libya-maritime-deal": (
        WIKI + "Greek_prime_minister_reaffirms_EastMed_pipeline_project_is_open_for_other_"
        "countries_to_join",
        WIKI + "Cairo_summit_denounces_Turkish-Libyan_maritime_border_agreement",
    ),
    "us-2020-presidential-primaries": (
        WIKI + "2020_United_States_presidential_election:_Trump,_Sanders_win_New_Hampshire_"
        "primaries",
        WIKI + "Bernie_Sanders_wins_2020_Nevada_caucuses",
        WIKI + "Donald_Trump_wins_2020_US_Republican_delegates_from_Nevada",
        WIKI + "Joe_Biden_wins_2020_South_Carolina_US_Democratic_presidential_primary",
        WIKI + "Bloomberg,_Warren_end_US_presidential_campaigns_following_Super_Tuesday",
        WIKI + "Arizona,_Florida,_Illinois_hold_2020_US_presidential_primaries;_Ohio_postpones",
        WIKI + "US_state_of_Wisconsin_holds_2020_election_amidst_COVID-19_concerns",
        WIKI + "Bernie_Sanders_ends_2020_US_presidential_bid",
    ),
    "us-2020-trump-covid": (
        WIKI + "US_President_Donald_Trump_tests_positive_for_COVID-19",
        WIKI + "Second_US_Biden-Trump_debate_cancelled_amid_safety_controversy",
    ),
    "us-2020-election-result": (
        WIKI + "Joe_Biden_projected_US_president-elect",
        WIKI + "US_federal_agency_announces_plans_to_begin_presidential_transition_process_"
        "following_Trump_election_loss",
        WIKI + "Conservative_groups_hold_rally_in_Washington_D.C._claiming_U.S._elections_were_"
        "stolen_from_President_Trump",
    ),
}


def fix_url(url: str) -> str:
    return url.replace("//wiki/", "/wiki/", 1)


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def body_lines(text: str) -> list[str]:
    """The non-blank lines of ``text``, stripped, boilerplate dropped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [s for s in map(str.strip, lines) if s and not any(p.search(s) for p in BOILERPLATE)]


def topic_score(title: str, body: str) -> tuple[int, int]:
    """(different keywords, keyword occurrences) in title + body."""
    full = f"{title}\n{body}"
    counts = [len(p.findall(full)) for p in KEYWORD_PATTERNS]
    return sum(1 for c in counts if c), sum(counts)


def read_rows(folder: Path) -> list[dict[str, str]]:
    rows = []
    for name in FILES:
        with open(folder / name, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def verdict(row: dict[str, str]) -> tuple[str | None, dict[str, object]]:
    """(reason for rejection or None, facts) for one CSV row."""
    title, text = row["title"], row["text"]
    lines = body_lines(text)
    body = "\n".join(lines)
    words = len(body.split())
    facts: dict[str, object] = {"words": words, "body": body}
    if TEST_PAGE.search(title):
        return "test page", facts
    if INTERVIEW_TITLE.search(title) or SPEAKER_TAG.search(text):
        return "interview", facts
    if words < MIN_WORDS:
        return f"too short ({words} words)", facts
    if words > MAX_WORDS:
        return f"too long ({words} words)", facts
    kinds, hits = topic_score(title, body)
    facts["topic"] = (kinds, hits)
    if kinds == 0:
        return "no topic keyword", facts
    if kinds < MIN_KEYWORDS or hits < MIN_HITS:
        return f"too few topic keywords ({kinds} different, {hits} in all)", facts
    return None, facts


def shingles(body: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", body.lower())
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def find_groups(chosen: list[dict[str, object]]) -> dict[str, str]:
    """Fixed URL -> group name, for the chosen articles that share a story."""
    urls = [str(c["url"]) for c in chosen]
    parent = {u: u for u in urls}

    def root(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    def link(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    grams = {str(c["url"]): shingles(str(c["body"])) for c in chosen}
    for i, a in enumerate(urls):
        for b in urls[i + 1 :]:
            ga, gb = grams[a], grams[b]
            if ga and gb and len(ga & gb) / min(len(ga), len(gb)) >= OVERLAP:
                link(a, b)
    story_of: dict[str, str] = {}
    for slug, members in STORIES.items():
        present = [u for u in members if u in parent]
        for u in present:
            story_of[u] = slug
        for u in present[1:]:
            link(present[0], u)
    components: dict[str, list[str]] = {}
    for u in urls:
        components.setdefault(root(u), []).append(u)
    groups: dict[str, str] = {}
    for members in components.values():
        if len(members) < 2:
            continue
        slugs = sorted({story_of[u] for u in members if u in story_of})
        if len(slugs) != 1:
            titles = "; ".join(sorted(str(c["title"]) for c in chosen if c["url"] in members))
            raise SystemExit(f"name this story in STORIES ({slugs or 'no entry'}): {titles}")
        for u in members:
            groups[u] = f"wn-story-{slugs[0]}"
    return groups


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else CORPUS
    rows = read_rows(folder)
    rejected: list[tuple[str, str, str]] = []
    passing: list[dict[str, object]] = []
    for row in rows:
        url = fix_url(row["url"])
        reason, facts = verdict(row)
        if reason is not None:
            rejected.append((url, row["title"], reason))
            continue
        passing.append({"url": url, "row": row, "title": row["title"], **facts})
    passing.sort(key=lambda c: url_hash(str(c["url"])))
    chosen, over = passing[:CAP], passing[CAP:]
    over_urls = {str(c["url"]) for c in over}
    # keep the CSV order in the rejected list
    for row in rows:
        if fix_url(row["url"]) in over_urls:
            rejected.append((fix_url(row["url"]), row["title"], "over the cap"))
    order = {fix_url(r["url"]): i for i, r in enumerate(rows)}
    rejected.sort(key=lambda r: order[r[0]])
    groups = find_groups(chosen)

    for old in sorted(ARTICLES.glob("wn-*")):
        old.unlink()
    ids = set()
    for c in sorted(chosen, key=lambda c: order[str(c["url"])]):
        row = c["row"]
        assert isinstance(row, dict)
        url = str(c["url"])
        published = row["date"]
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", published):
            raise SystemExit(f"bad date {published!r} for {url}")
        article_id = f"wn-{published}-{url_hash(url)[:8]}"
        if article_id in ids:
            raise SystemExit(f"duplicate id {article_id}")
        ids.add(article_id)
        raw = row["text"].encode("utf-8")
        (ARTICLES / f"{article_id}.txt").write_bytes(raw)
        meta = {
            "id": article_id,
            "source": SOURCE,
            "title": row["title"],
            "published": published,
            "language": "en",
            "url": url,
            "license": LICENSE,
            "group": groups.get(url),
        }
        (ARTICLES / f"{article_id}.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline=""
        )

    with open(REJECTED, "w", encoding="utf-8", newline="") as fh:
        fh.write("url\ttitle\treason\n")
        for url, title, reason in rejected:
            fh.write(f"{url}\t{title}\t{reason}\n")

    years: dict[str, int] = {}
    for c in chosen:
        year = str(c["row"]["date"])[:4]  # type: ignore[index]
        years[year] = years.get(year, 0) + 1
    print(
        f"{len(rows)} rows, {len(passing)} pass the rule, {len(chosen)} chosen "
        f"({', '.join(f'{y}: {n}' for y, n in sorted(years.items()))}), "
        f"{len(rejected)} rejected, {len(set(groups.values()))} groups"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
