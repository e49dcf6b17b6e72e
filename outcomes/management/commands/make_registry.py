import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outcomes import registry


class Command(BaseCommand):
    # Its own checks are the registry's; the project's (URLs, their imports) would add seconds to every run.
    requires_system_checks: list[str] = []
    help = (
        "Build a synthetic practice for benchmarks and demos: treated episodes with their procedures, follow-ups, "
        "answers and scores (see outcomes/registry.py). Its patients are marked: last name Synthetic, MRN SYN-."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--episodes", type=int, required=True, help="How many episodes (about 13 responses each).")
        parser.add_argument(
            "--seed", type=int, default=1, help=f"0 to {registry.MAX_SEED}; the same seed, the same rows."
        )
        parser.add_argument(
            "--force", action="store_true", help="Build even though the database holds patients that are not synthetic."
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing (and succeed) when the registry of this seed is on file already, as `make run` asks.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        others = registry.patients_not_synthetic()
        if others and not options["force"]:
            raise CommandError(
                f"The database holds {others} patient(s) that are not synthetic; "
                "use a database of its own, or --force to mix them."
            )
        started = time.perf_counter()
        try:
            counts = registry.make_registry(options["episodes"], seed=options["seed"])
        except registry.RegistryExists as error:
            if options["if_missing"]:
                self.stdout.write(f"make_registry: seed {options['seed']} is on file already; nothing to do")
                return
            raise CommandError(str(error)) from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        seconds = time.perf_counter() - started
        self.stdout.write(f"make_registry: {counts} in {seconds:.1f}s ({counts.responses / seconds:,.0f} responses/s)")
