"""README sections generated from records (issue 18 items 7 and 8): the bad-input table from the
tests' catalogue (the figures' twin is in test_bench_all.py). It fails while the README is
behind, and says the command that brings it up to date."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest

from ascension.cli import main
from ascension.docs import (
    BAD_INPUTS_MARKERS,
    CATALOGUE,
    README,
    ROOT,
    Row,
    category,
    dump_catalogue,
    load_catalogue,
    render_bad_inputs,
    replace_between,
    section,
)
from tests.utils.bad_inputs import Recorder, describe_answer, describe_request, normalise

pytestmark = pytest.mark.unit


def test_the_readme_bad_input_table_is_the_catalogue() -> None:
    rendered = render_bad_inputs(load_catalogue(ROOT / CATALOGUE))
    assert section(README.read_text(), BAD_INPUTS_MARKERS) == rendered, (
        "the README's bad-input table differs from tests/data/bad_inputs.json: "
        "run `ascension docs bad-inputs` and commit README.md"
    )


def test_the_catalogue_covers_every_kind_of_bad_input_with_a_4xx_in_the_error_shape() -> None:
    rows = load_catalogue(ROOT / CATALOGUE)
    assert all(400 <= row.status < 500 or 4000 <= row.status < 5000 for row in rows)
    assert all(row.code and row.message for row in rows), "an answer without code or message"
    kinds = {category(row) for row in rows}
    for kind in (
        "Files: presigned uploads to the object store",
        "Sizes",
        "Headers",
        "Hold maps",
        "Tokens and sign-in",
        "JSON bodies and parameters",
    ):
        assert kind in kinds, kind
    # What differs between runs is masked: no raw UUID, token or signature in a row.
    text = (ROOT / CATALOGUE).read_text()
    assert "eyJ" not in text  # a JWT's header
    assert "X-Amz-Signature=" not in text and "X-Signature=…" in text


def test_docs_check_exits_1_on_a_stale_readme_and_the_command_rewrites_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    begin, end = BAD_INPUTS_MARKERS
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{begin}\n| an old row |\n{end}\n\nafter\n")
    assert main(["docs", "bad-inputs", "--readme", str(stale), "--check"]) == 1
    assert "| an old row |" in stale.read_text()  # --check changes nothing
    assert main(["docs", "bad-inputs", "--readme", str(stale)]) == 0
    assert main(["docs", "bad-inputs", "--readme", str(stale), "--check"]) == 0
    text = stale.read_text()
    assert "| an old row |" not in text and text.endswith(f"{end}\n\nafter\n")
    unmarked = tmp_path / "plain.md"
    unmarked.write_text("# no markers\n")
    assert main(["docs", "bad-inputs", "--readme", str(unmarked)]) == 2
    assert "no <!-- bad-inputs:begin -->" in capsys.readouterr().out


def test_replace_between_keeps_what_lies_outside_the_markers() -> None:
    markers = ("<!-- a -->", "<!-- b -->")
    text = "before\n<!-- a -->\nold\n<!-- b -->\nafter\n"
    assert replace_between(text, markers, "new\n") == "before\n<!-- a -->\nnew\n<!-- b -->\nafter\n"
    with pytest.raises(ValueError):
        replace_between("nothing here", markers, "x")


def test_the_recorder_masks_what_changes_between_runs() -> None:
    assert normalise("uploads/0b9d6c1e-8f27-4a53-9c1d-2f3e4a5b6c7d/x.mp4") == "uploads/{id}/x.mp4"
    assert normalise("climber-3104b916e2b0@example.com") == "climber-{hex}@example.com"
    assert normalise("aaaaaaaaaa") == "aaaaaaaaaa"  # padding is text, not a random suffix
    assert normalise("try again in 37 s") == "try again in N s"
    request = httpx.Request(
        "POST",
        "http://api/api/v1/auth/refresh?X-Signature=abc&page=2",
        json={"refresh_token": "r" * 43, "email": "nul\x00@example.com", "pad": "a" * 100},
        headers={
            "Authorization": "Bearer aaaaaaaaaa.bbbbbbbbbb.cccccccccc",
            "X-Forwarded-For": "1",
        },
    )
    described = describe_request(request)
    assert described["target"] == "/api/v1/auth/refresh?X-Signature=…&page=2"
    assert described["headers"] == "authorization: Bearer <JWT>, x-forwarded-for: 1"
    body = json.loads(described["body"])
    assert body == {
        "refresh_token": "<43-char token>",
        "email": "nul\x00@example.com",
        "pad": "<'a' x 100>",
    }
    s3 = httpx.Response(403, text="<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>")
    assert describe_answer(s3) == ("SignatureDoesNotMatch", "no")
    ours = httpx.Response(422, json={"error": {"code": "invalid_request", "message": "m"}})
    assert describe_answer(ours) == ("invalid_request", "m")


class _Config:
    """What the recorder reads of pytest's config."""

    def __init__(self, root: Path) -> None:
        self.rootpath = root

    def getoption(self, name: str) -> bool:
        return name == "bad_inputs_update"


def test_updating_keeps_rows_of_tests_not_run_and_drops_those_of_deleted_tests(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests" / "data").mkdir(parents=True)
    (tmp_path / "tests" / "test_x.py").write_text("def test_kept():\n    pass\n")
    row = Row("tests/test_x.py::test_kept", "GET", "/a", "", "", 404, "not_found", "gone")
    deleted = dataclasses.replace(row, test="tests/test_x.py::test_removed")
    catalogue = tmp_path / CATALOGUE
    dump_catalogue(catalogue, [row, deleted])
    recorder = Recorder(_Config(tmp_path))  # type: ignore[arg-type]
    recorder.write()  # nothing ran: a partial run leaves other tests' rows alone
    assert load_catalogue(catalogue) == [row]
