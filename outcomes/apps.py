from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        from outcomes import (
            jobs,  # noqa: F401  (registers the invitations job with the worker)
            summary,
        )

        summary.connect()
