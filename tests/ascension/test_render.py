"""The overlay's text: OpenCV's fonts draw ASCII only, so advice must reach them spelled out."""

from __future__ import annotations

import pytest

from ascension.render import drawable

pytestmark = pytest.mark.unit


def test_advice_text_is_spelled_in_what_the_font_can_draw() -> None:
    line = "You rested 2.1 s with your arms bent (84\u00b0) \u2013 straighten them\u2026"
    assert drawable(line) == "You rested 2.1 s with your arms bent (84 deg) - straighten them..."
    assert drawable("plain ASCII stays as it is") == "plain ASCII stays as it is"
    assert drawable("crimp 頑張れ").isascii()
