"""The contact guard on messages it was not tuned on, and on the ones it was.

    bench guard_recall <v> ratio                 held-out set: medical messages flagged
    bench guard_specificity <v> ratio            held-out set: other messages left alone
    bench guard_urgent_recall <v> ratio          held-out set: urgent messages found urgent
    bench guard_urgent_precision <v> ratio       held-out set: urgent flags that were right
    bench guard_recall_tuning <v> ratio          tuning set (lib/tests/guard_corpus.jsonl)
    bench guard_specificity_tuning <v> ratio     tuning set
    bench guard_100k_message_ms <v> ms           one 100,000-character message, slowest of 5

The held-out set (lib/tests/guard_holdout.jsonl) was written with the tuning set, before
the guard was rewritten, and never used to tune it: its figures are the ones that say how
the guard holds up on text it has not seen. Needs no database and no server; like every
bench module, `run()` returns the figures and bench/run.py prints them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run() -> list[tuple[str, float, str]]:
    from lib.guard import assess
    from lib.guard.evaluation import HOLDOUT, TUNING, load_corpus, measure

    held_out = measure(load_corpus(HOLDOUT))
    tuning = measure(load_corpus(TUNING))
    long_message = "Is there parking near the Encino office? Since the injection my knee is red. " * 1_300
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        assess(long_message)
        timings.append((time.perf_counter() - started) * 1000)
    return [
        ("guard_recall", held_out.recall, "ratio"),
        ("guard_specificity", held_out.specificity, "ratio"),
        ("guard_urgent_recall", held_out.urgent_recall, "ratio"),
        ("guard_urgent_precision", held_out.urgent_precision, "ratio"),
        ("guard_recall_tuning", tuning.recall, "ratio"),
        ("guard_specificity_tuning", tuning.specificity, "ratio"),
        ("guard_100k_message_ms", max(timings), "ms"),
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for name, value, unit in run():
        print(f"bench {name} {value:.3g} {unit}")
