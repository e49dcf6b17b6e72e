from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from accounts import views as accounts_views
from website import views as website_views

# Not Django's own: its 404 page is handed the path asked for; ours names nothing of the request.
handler404 = "website.views.not_found"

admin.site.site_header = "RegenClinic administration"
admin.site.site_title = "RegenClinic"
# The admin has no sign-in of its own: its sign-in page sends to the staff one (password, then second step).
admin.site.login = accounts_views.admin_sign_in  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", website_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

# English at /, Spanish at /es/.
urlpatterns += i18n_patterns(
    path("", include("accounts.urls")),
    path("accounts/passkeys/", include((accounts_urls.webauthn_urlpatterns, "otp_webauthn"))),
    path("", include("scheduling.urls")),
    path("", include("patients.urls")),
    path("", include("procedures.urls")),
    path("", include("outcomes.urls")),
    path("", include("interop.urls")),
    path("", include("website.urls")),
    prefix_default_language=False,
)
