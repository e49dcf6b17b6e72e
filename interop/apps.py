from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = "Reports and exports"

    def ready(self) -> None:
        from interop import jobs  # noqa: F401  (registers the bulk exports' sweep with the worker)
