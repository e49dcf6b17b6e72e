"""The staff calendar's pages, under /staff/calendar/.

Joined with the public booking pages (scheduling/urls.py) into the one `scheduling`
namespace in regenclinic/urls.py; names start with `staff_`.
"""

from django.urls import path

from scheduling import staff_views

urlpatterns = [
    path("", staff_views.calendar, name="staff_calendar"),
    path("new/", staff_views.appointment_new, name="staff_new"),
    path("appointments/<uuid:uuid>/", staff_views.appointment_detail, name="staff_appointment"),
    path("appointments/<uuid:uuid>/move/", staff_views.appointment_move, name="staff_move"),
    path("appointments/<uuid:uuid>/cancel/", staff_views.appointment_cancel, name="staff_cancel"),
    path("appointments/<uuid:uuid>/status/", staff_views.appointment_status, name="staff_status"),
    path("arrivals/", staff_views.arrivals, name="staff_arrivals"),
    path("callbacks/", staff_views.callbacks, name="staff_callbacks"),
    path("callbacks/<uuid:uuid>/done/", staff_views.callback_done, name="staff_callback_done"),
]
