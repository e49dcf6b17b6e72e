from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.start, name="start"),
    path("callback/thanks/", views.callback_thanks, name="callback_thanks"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/booked/", views.booked, name="booked"),
    path("manage/<str:token>/cancel/", views.cancel, name="cancel"),
    path("manage/<str:token>/reschedule/", views.reschedule, name="reschedule"),
    path("manage/<str:token>/calendar.ics", views.calendar, name="calendar"),
    path("<slug:office_slug>/", views.office_times, name="office"),
    path("<slug:office_slug>/details/", views.details, name="details"),
    path("<slug:office_slug>/callback/", views.callback, name="callback"),
]
