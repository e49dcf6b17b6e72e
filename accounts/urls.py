"""The `accounts` namespace: staff sign-in and sign-out (/accounts/), a patient's access report (/staff/patients/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/sign-in/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("accounts/sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("staff/patients/<uuid:uuid>/access/", views.access_report, name="access_report"),
    path("staff/patients/<uuid:uuid>/access/report.csv", views.access_report_csv, name="access_report_csv"),
]
