from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox and jobs"

    def ready(self) -> None:
        from outbox import jobs  # noqa: F401  (registers the outbox's own sweep)
