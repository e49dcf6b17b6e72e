from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "website"
    verbose_name = "Website"

    def ready(self) -> None:
        from website import queries  # noqa: F401  (connects the cache invalidation receivers)
