from django.http import HttpRequest

from website.queries import practice_info


def practice(request: HttpRequest) -> dict[str, object]:
    info = practice_info()
    return {"practice": info.practice, "offices": info.offices, "social_links": info.social_links}
