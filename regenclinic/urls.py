from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from scheduling import staff_urls
from scheduling import urls as booking_urls
from website import views as website_views

admin.site.site_header = "RegenClinic administration"
admin.site.site_title = "RegenClinic"

urlpatterns = [
    path("healthz", website_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

# The public booking pages and the staff calendar share the one `scheduling` namespace.
scheduling_patterns = (
    [path("book/", include(booking_urls.urlpatterns)), path("staff/calendar/", include(staff_urls.urlpatterns))],
    "scheduling",
)

# English at /, Spanish at /es/.
urlpatterns += i18n_patterns(
    path("accounts/", include("accounts.urls")),
    path("", include(scheduling_patterns)),
    path("", include("website.urls")),
    prefix_default_language=False,
)
