"""The HTML feedback page: every record shown, students' text escaped (it quotes their output)."""

from __future__ import annotations

import html
import re

from dlcourse.autograder.course.feedback import feedback_html
from dlcourse.autograder.course.records import Record

HOSTILE = "<script>alert('x')</script> & \"quoted\""


def _record(**extra) -> Record:
    record = {"student": "ann", "submission": "01_backprop.ipynb", "assignment": "01_backprop", "score": 2.5, "max_score": 4,
              "results": {"score": 2.5, "output": f"note: {HOSTILE}\n\nsecond note"},
              "units": [{"unit": "dense_forward", "status": "passed", "message": "", "score": 2.5, "max_score": 2.5},
                        {"unit": "relu_backward", "status": "not implemented", "message": HOSTILE, "score": 0,
                         "max_score": 1.5}],
              "figures": {"relu_backward": "iVBORw0KGgo+/="}}
    record.update(extra)
    return Record.from_dict(record)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_a_page_shows_scores_messages_figures_and_notes_with_students_text_escaped():
    page = feedback_html("<ann>", [_record()])
    assert "<script>" not in page and "<ann>" not in page
    text = _text(page)
    assert "Feedback for <ann>" in text and "2.5 / 4 points" in text and "0 / 1.5" in text
    assert f"relu_backward 0 / 1.5 not implemented {HOSTILE}" in text
    assert f"note: {HOSTILE}" in text and "second note" in text
    assert 'class="notimplemented"' in page
    assert 'src="data:image/png;base64,iVBORw0KGgo+/="' in page


def test_a_notebook_that_was_not_graded_says_why_once_and_notebooks_are_in_order():
    page = feedback_html("ben", [_record(), _record(submission="bundle.zip/x.ipynb", assignment=None,
                                                     error="cannot read <x>")])
    text = _text(page)
    assert "Not graded: cannot read <x>" in text and text.count("Not graded") == 1
    assert text.index("bundle.zip/x.ipynb (unrecognised)") < text.index("01_backprop.ipynb (01_backprop)")
    assert "Not graded: already said" in _text(feedback_html("ben", [_record(error="not graded: already said")]))
