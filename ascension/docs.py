"""`ascension docs ...`: README sections generated from what the tests and benches recorded.

``bad-inputs`` renders ``tests/data/bad_inputs.json`` (written by the tests' recorder,
``tests/utils/bad_inputs.py``) into the README between its markers; ``figures`` does the same for
a ``bench all --json`` report. Generated, not written: the tables cannot drift from what the code
answers, and ``--check`` (what the tests run) says when the README is behind.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CATALOGUE = "tests/data/bad_inputs.json"
BAD_INPUTS_MARKERS = ("<!-- bad-inputs:begin -->", "<!-- bad-inputs:end -->")


@dataclass(frozen=True, order=True)
class Row:
    """One refused request a test made, and the answer it got (normalised between runs)."""

    test: str
    """The test's node id: its name says what it tries (see `tried_by`)."""
    method: str
    target: str
    """Path and query (ids as ``{id}``), or ``presigned KEY`` for a PUT to the object store."""
    headers: str
    """Headers a client chose (tokens shown by shape only)."""
    body: str
    status: int
    code: str
    """The error body's ``code`` (S3's ``<Code>`` for the object store)."""
    message: str

    @property
    def key(self) -> tuple[str, ...]:
        return (self.method, self.target, self.headers, self.body)

    @property
    def answer(self) -> tuple[int, str, str]:
        return (self.status, self.code, self.message)


def load_catalogue(path: Path) -> list[Row]:
    if not path.exists():
        return []
    names = {field.name for field in fields(Row)}
    return [
        Row(**{k: v for k, v in row.items() if k in names}) for row in json.loads(path.read_text())
    ]


def dump_catalogue(path: Path, rows: list[Row]) -> None:
    document = [asdict(row) for row in sorted(set(rows))]
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


#: (title, test on a row), first match wins: what kind of input the client got wrong.
CATEGORIES: list[tuple[str, Any]] = [
    ("WebSocket: closed with an application code", lambda r: r.method == "WebSocket"),
    ("Files: presigned uploads to the object store", lambda r: r.target.startswith("presigned")),
    ("Sizes", lambda r: r.status == 413),
    ("Headers", lambda r: any(h in r.headers for h in ("x-forwarded-for", "origin", "if-"))),
    ("Hold maps", lambda r: "/holds" in r.target and r.status == 422),
    ("Tokens and sign-in", lambda r: r.status == 401),
    ("Plans, roles and quotas", lambda r: r.status in (402, 403)),
    ("Rates", lambda r: r.status == 429),
    ("JSON bodies and parameters", lambda r: r.status in (400, 415, 422)),
    ("Ids: missing or someone else's", lambda r: r.status == 404),
    ("State: too early, twice, or not uploaded", lambda r: r.status == 409),
    ("Other", lambda r: True),
]


def category(row: Row) -> str:
    return next(title for title, matches in CATEGORIES if matches(row))


def tried_by(test: str) -> str:
    """A test's node id in words: its name is a sentence; its parameter id and file after it."""
    path, _, name = test.rpartition("::")
    name, _, param = name.partition("[")
    words = name.removeprefix("test_").replace("_", " ")
    if param:
        words += f" [{param.rstrip(']')}]"
    return f"{words} (`{path.split('::')[0].rsplit('/', 1)[-1]}`)"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text else ""


def render_bad_inputs(rows: list[Row]) -> str:
    """Markdown: one table per category; each row the request, its answer and the test."""
    by_category: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: (r.test, r.method, r.target, r.body, r.answer)):
        by_category.setdefault(category(row), []).append(row)
    tests = len({row.test for row in rows})
    lines = [
        f"{len(rows)} refused requests from {tests} tests (`{CATALOGUE}`), each with the answer",
        "the API (or the object store, for presigned uploads) gave. Regenerate after changing",
        "a test or an answer: `pytest --bad-inputs-update TESTS && ascension docs bad-inputs`.",
    ]
    for title, _ in CATEGORIES:
        if title not in by_category:
            continue
        lines += ["", f"**{title}**", ""]
        lines += ["| request | status | code | message | tried by |", "|---|---|---|---|---|"]
        for row in by_category[title]:
            request = f"{row.method} {row.target}"
            extra = "; ".join(part for part in (row.headers, row.body) if part)
            if len(extra) > 140:  # a hold map or a profile: its start says which
                extra = extra[:140] + "…"
            sent = _code(request) + (f" {_code(extra)}" if extra else "")
            tried = _cell(tried_by(row.test))
            lines.append(
                f"| {sent} | {row.status} | {_code(row.code)} | {_cell(row.message)} | {tried} |"
            )
    return "\n".join(lines)


def replace_between(text: str, markers: tuple[str, str], body: str) -> str:
    """``text`` with what lies between the two marker lines replaced by ``body``."""
    begin, end = markers
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the README has no {begin} ... {end} section")
    return text[: start + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[stop:]


def section(text: str, markers: tuple[str, str]) -> str:
    begin, end = markers
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the README has no {begin} ... {end} section")
    return text[start + len(begin) : stop].strip("\n")


def add_parser(sub: Any) -> None:
    docs = sub.add_parser("docs", help="regenerate README sections from test and bench records")
    pages = docs.add_subparsers(dest="docs", required=True)
    bad = pages.add_parser("bad-inputs", help=f"the bad-input table, from {CATALOGUE}")
    figures = pages.add_parser(
        "figures", help="the figures table, from a `bench all --json` report"
    )
    figures.add_argument("report", type=Path, help="the report's JSON file")
    for each in (bad, figures):
        each.add_argument("--readme", type=Path, default=README)
        each.add_argument(
            "--check", action="store_true", help="change nothing; exit 1 if the README differs"
        )


def cmd_docs(args: argparse.Namespace) -> int:
    """Rewrite (or check) one generated README section."""
    if args.docs == "bad-inputs":
        markers = BAD_INPUTS_MARKERS
        body = render_bad_inputs(load_catalogue(ROOT / CATALOGUE))
    else:
        from ascension.bench.all import FIGURES_MARKERS, render_figures

        markers = FIGURES_MARKERS
        body = render_figures(json.loads(args.report.read_text()), source=args.report)
    text = args.readme.read_text()
    try:
        updated = replace_between(text, markers, body)
    except ValueError as error:
        print(f"ascension docs: {error}")
        return 2
    if args.check:
        if updated != text:
            print(f"{args.readme} is behind: run `ascension docs {args.docs}` and commit it")
            return 1
        return 0
    args.readme.write_text(updated)
    print(f"{args.readme}: {args.docs} section written")
    return 0
