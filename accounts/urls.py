"""The `accounts` namespace: staff sign-in (both steps), sign-out and sessions (/accounts/).

Break-glass and a patient's access report live under /staff/. The passkey ceremonies
(`webauthn_urlpatterns`, /accounts/passkeys/) keep django-otp-webauthn's own namespace,
`otp_webauthn`, which its template tags and script reverse.
"""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn_views

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/sign-in/", views.SignInView.as_view(), name="login"),
    path("accounts/two-step/", views.two_step, name="two_step"),
    path("accounts/two-step/set-up/", views.two_step_set_up, name="two_step_set_up"),
    path("accounts/two-step/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("accounts/sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("accounts/sessions/", views.sessions, name="sessions"),
    path("accounts/sessions/end-others/", views.sessions_end_others, name="sessions_end_others"),
    path("accounts/sessions/<uuid:uuid>/end/", views.session_end, name="session_end"),
    path("accounts/passkeys/<int:pk>/remove/", views.passkey_remove, name="passkey_remove"),
    path("staff/break-glass/", views.break_glass_list, name="break_glass_list"),
    path("staff/patients/<uuid:uuid>/break-glass/", views.break_glass, name="break_glass"),
    path("staff/patients/<uuid:uuid>/access/", views.access_report, name="access_report"),
    path("staff/patients/<uuid:uuid>/access/report.csv", views.access_report_csv, name="access_report_csv"),
]

webauthn_urlpatterns = [
    path(
        "registration/begin/",
        views.PasskeyRegistrationBeginView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        views.PasskeyRegistrationCompleteView.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        webauthn_views.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        views.PasskeyAuthenticationCompleteView.as_view(),
        name="credential-authentication-complete",
    ),
    # The package's script's words, in the page's language.
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
