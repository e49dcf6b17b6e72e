from django.urls import path

from website import views

app_name = "website"

urlpatterns = [
    path("", views.home, name="home"),
    path("stem-cell-therapy/", views.stem_cells, name="stem_cells"),
    path("prp/", views.prp, name="prp"),
    path("offices/<slug:slug>/", views.office, name="office"),
    path("results/", views.results, name="results"),
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact_thanks"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/results/", views.results_staff, name="results_staff"),
    path("staff/results/publish/", views.results_publish, name="results_publish"),
    path("staff/inquiries/", views.inbox, name="inbox"),
    path("staff/inquiries/<uuid:uuid>/", views.inquiry_detail, name="inquiry_detail"),
    path("staff/inquiries/<uuid:uuid>/status/", views.inquiry_status, name="inquiry_status"),
]
