"""The booking pages under /book/ and the staff calendar under /staff/calendar/, in the one `scheduling` namespace."""

from django.urls import include, path

from scheduling.views import public, staff

app_name = "scheduling"

booking = [
    path("", public.start, name="start"),
    path("callback/thanks/", public.callback_thanks, name="callback_thanks"),
    path("manage/<str:token>/", public.manage, name="manage"),
    path("manage/<str:token>/booked/", public.booked, name="booked"),
    path("manage/<str:token>/cancel/", public.cancel, name="cancel"),
    path("manage/<str:token>/reschedule/", public.reschedule, name="reschedule"),
    path("manage/<str:token>/calendar.ics", public.calendar, name="calendar"),
    path("<slug:office_slug>/", public.office_times, name="office"),
    path("<slug:office_slug>/details/", public.details, name="details"),
    path("<slug:office_slug>/callback/", public.callback, name="callback"),
]

calendar = [
    path("", staff.calendar, name="staff_calendar"),
    path("new/", staff.appointment_new, name="staff_new"),
    path("appointments/<uuid:uuid>/", staff.appointment_detail, name="staff_appointment"),
    path("appointments/<uuid:uuid>/move/", staff.appointment_move, name="staff_move"),
    path("appointments/<uuid:uuid>/cancel/", staff.appointment_cancel, name="staff_cancel"),
    path("appointments/<uuid:uuid>/status/", staff.appointment_status, name="staff_status"),
    path("arrivals/", staff.arrivals, name="staff_arrivals"),
    path("callbacks/", staff.callbacks, name="staff_callbacks"),
    path("callbacks/<uuid:uuid>/done/", staff.callback_done, name="staff_callback_done"),
]

urlpatterns = [path("book/", include(booking)), path("staff/calendar/", include(calendar))]
