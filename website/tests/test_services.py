"""Website services under concurrency: the limit holds across workers."""

import threading
from functools import partial
from typing import Any

import pytest
from django.db import connections

from conftest import run_threads, together
from website import services
from website.models import Inquiry


@pytest.mark.django_db(transaction=True)
def test_the_hourly_limit_holds_when_ten_messages_arrive_at_once(practice: Any) -> None:
    barrier = together(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        try:
            barrier.wait()
            services.inquiry_submit(
                name="Rosa",
                email="rosa@example.com",
                phone="",
                preferred_office=None,
                message=f"Parking question {n}",
                language="en",
                ip_address=f"192.0.2.{n}",
            )
            result = "sent"
        except services.InquiryRateLimited:
            result = "limited"
        except Exception as error:  # reported below; any other error fails the test
            result = f"error: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    run_threads([partial(send, n) for n in range(10)])
    assert sorted(outcomes) == ["limited"] * 5 + ["sent"] * 5
    assert Inquiry.objects.count() == 5
