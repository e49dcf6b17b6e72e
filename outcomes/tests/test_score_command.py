"""`manage.py score INSTRUMENT`: one response as JSON on stdin, its scores as JSON on stdout."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from outcomes.instruments import INSTRUMENTS


def _score(instrument: str, stdin: str) -> str:
    out = io.StringIO()
    call_command("score", instrument, stdin=io.StringIO(stdin), stdout=out)
    return out.getvalue()


def test_it_prints_the_odi_with_one_section_missing() -> None:
    # 1+2+3+2+1+2+1+2+2 = 16 over nine sections: 16 / 45 x 100.
    answers = {"1": 1, "2": 2, "3": 3, "4": 2, "5": 1, "6": 2, "7": 1, "8": None, "9": 2, "10": 2}
    assert (
        _score("ODI", json.dumps(answers)) == json.dumps({"scores": {"ODI": 16 / 45 * 100}, "not_scorable": {}}) + "\n"
    )


def test_it_prints_the_reason_when_not_scorable() -> None:
    # Sections 9 and 10 absent from the JSON: unanswered.
    answers = {"1": 1, "2": 2, "3": 3, "4": 2, "5": 1, "6": 2, "7": 1, "8": None}
    assert _score("ODI", json.dumps(answers)) == (
        '{"scores": {}, "not_scorable": {"ODI": "3 of 10 ODI sections unanswered; the ODI guide allows one."}}\n'
    )


def test_it_takes_a_list_as_several_boxes_ticked() -> None:
    # Highest of [0, 5] counts: 5 + 9 x 0 = 5; 5 / 50 x 100 = 10%.
    answers = {str(n): 0 for n in range(2, 11)} | {"1": [0, 5]}
    assert _score("odi", json.dumps(answers)) == '{"scores": {"ODI": 10.0}, "not_scorable": {}}\n'


def test_it_scores_visa_p_branch_b() -> None:
    # 6 x 5 = 30, Q7 4, Q8B 14: 48.
    answers = {"1": 5, "2": 5, "3": 5, "4": 5, "5": 5, "6": 5, "7": 4, "8B": 14}
    assert _score("VISA-P", json.dumps(answers)) == '{"scores": {"VISA-P": 48.0}, "not_scorable": {}}\n'


@pytest.mark.parametrize(
    ("instrument", "stdin", "message"),
    [
        ("ODI", "{not json", "The answers are not valid JSON: Expecting property name enclosed in double quotes"),
        ("ODI", "[1, 2]", 'The answers must be a JSON object keyed by item code, e.g. {"1": 3}.'),
        ("NOPE", "{}", "Unknown instrument 'NOPE'. Known: "),
        ("ODI", '{"11": 0}', "ODI has no item '11'."),
        # An unknown item is named as such, whatever its value, and on one line even if its code holds a newline.
        ("ODI", '{"\\n": false}', "ODI has no item '\\n'."),
        ("ODI", '{"1": 6}', "ODI item 1: 6 is not one of its answer codes."),
        ("ODI", '{"1": "3"}', "ODI item 1: '3' is not one of its answer codes."),
        ("ODI", '{"1": 2.0}', "ODI item 1: 2.0 is not one of its answer codes."),
        ("ODI", '{"1": []}', "ODI item 1: [] is not one of its answer codes."),
    ],
)
def test_it_refuses_bad_input_with_one_clear_line(instrument: str, stdin: str, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        _score(instrument, stdin)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_its_help_lists_every_registered_instrument_with_item_and_answer_codes() -> None:
    out = io.StringIO()
    command = __import__("outcomes.management.commands.score", fromlist=["Command"]).Command()
    command.create_parser("manage.py", "score").print_help(out)
    text = out.getvalue()
    for code in INSTRUMENTS:
        assert f"\n{code}: " in text
    assert "  1-10: 0 1 2 3 4 5" in text  # ODI sections
    assert "  1-20: 0 1 2 3 4" in text  # LEFS items
    assert "  8A: 0 7 14 21 30" in text  # VISA-P
    assert "  SANE: 0-100" in text
    assert '{"scores": {"ODI": 42.0}, "not_scorable": {"X": "reason"}}' in text


def test_it_runs_from_the_shell_without_a_database_and_fails_without_a_traceback(tmp_path: Path) -> None:
    manage = Path(settings.BASE_DIR) / "manage.py"
    # A database path that cannot exist: the command must not open one.
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3", "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, manage, "score", "NRS"], input='{"NRS": 4}', capture_output=True, text=True, env=env
    )
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, '{"scores": {"NRS": 4.0}, "not_scorable": {}}\n', "")
    bad = subprocess.run(
        [sys.executable, manage, "score", "NRS"], input='{"NRS": 11}', capture_output=True, text=True, env=env
    )
    assert (bad.returncode, bad.stdout, bad.stderr) == (
        1,
        "",
        "CommandError: NRS item NRS: 11 is not one of its answer codes.\n",
    )
