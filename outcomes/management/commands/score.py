import json
import sys
from argparse import RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter

from outcomes.instruments import INSTRUMENTS
from outcomes.instruments.base import Answer, Instrument, InvalidAnswers, Item

USAGE = """\
Score ONE response to an outcome instrument. Needs no database.

Input (stdin): a JSON object keyed by the item codes printed on the official form, each value the
answer's numeric code as the scoring guide assigns it, null when unanswered, or a list of codes
when several boxes were ticked. An item left out of the object counts as unanswered.

Output (stdout), one line of JSON: every score of the instrument, either under "scores" with its
value or under "not_scorable" with the reason, e.g.
  {"scores": {"ODI": 42.0}, "not_scorable": {"X": "reason"}}

Invalid JSON, an unknown instrument or item, or an impossible code: one line on stderr, exit 1.

Example: .venv/bin/python manage.py score ODI < answers.json

Instruments (item codes: answer codes; a-b is every whole number from a to b):
"""


class _Formatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's help layout, keeping the line breaks of the instrument list."""


def _codes(item: Item) -> str:
    if item.options:
        return " ".join(str(option.code) for option in item.options)
    return f"{item.low}-{item.high}"


def instrument_help(instrument: Instrument) -> str:
    """The instrument's item codes and answer codes, consecutive items with the same codes on one line."""
    lines = [f"{instrument.code}: {instrument.name}"]
    run: list[Item] = []
    for item in (*instrument.items, None):
        if item is not None and run and _codes(item) == _codes(run[0]):
            run.append(item)
            continue
        if run:
            span = run[0].code if len(run) == 1 else f"{run[0].code}-{run[-1].code}"
            lines.append(f"  {span}: {_codes(run[0])}")
        run = [item] if item is not None else []
    lines.append(f"  scores: {', '.join(score.code for score in instrument.scores)}")
    return "\n".join(lines)


def _check_shape(instrument: Instrument, answers: dict[str, Any]) -> None:
    """Values must be null, an integer or a list of integers before the instrument looks at them."""
    known = {item.code for item in instrument.items}
    for code, answer in answers.items():
        if code not in known:  # the instrument refuses it by name ("has no item '…'"), whatever its value
            continue
        if answer is None or (type(answer) is int) or (type(answer) is list and all(type(c) is int for c in answer)):
            continue
        raise CommandError(f"{instrument.code} item {code}: {answer!r} is not one of its answer codes.")


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Built from the registry when asked, so the help always lists what is registered.
        self.help = USAGE + "\n" + "\n\n".join(instrument_help(i) for _, i in sorted(INSTRUMENTS.items()))
        kwargs.setdefault("formatter_class", _Formatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instrument", help="Instrument code, e.g. ODI, LEFS, KOOS (any case).")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["instrument"].upper()
        instrument = INSTRUMENTS.get(code)
        if instrument is None:
            raise CommandError(
                f"Unknown instrument {options['instrument']!r}. Known: {', '.join(sorted(INSTRUMENTS))}."
            )
        stdin = options.get("stdin") or sys.stdin
        try:
            answers = json.loads(stdin.read())
        except json.JSONDecodeError as error:
            raise CommandError(f"The answers are not valid JSON: {error}.") from None
        if not isinstance(answers, dict):
            raise CommandError('The answers must be a JSON object keyed by item code, e.g. {"1": 3}.')
        _check_shape(instrument, answers)
        typed: dict[str, Answer] = answers
        try:
            results = instrument.score(typed)
        except InvalidAnswers as error:
            raise CommandError(str(error)) from None
        output: dict[str, dict[str, float | str]] = {"scores": {}, "not_scorable": {}}
        for score_code, result in results.items():
            if result.value is None:
                output["not_scorable"][score_code] = result.reason
            else:
                output["scores"][score_code] = result.value
        self.stdout.write(json.dumps(output))
