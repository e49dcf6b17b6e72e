"""Routes of the consent pages (see patients/urls/__init__.py).

Staff pages name episodes and signatures by public id; the patient's pages carry only
the link's token, then nothing (the session says which consent).
"""

from django.urls import URLPattern, path

from patients.views import consent

urlpatterns: list[URLPattern] = [
    path("staff/patients/consent-documents/", consent.consent_documents, name="consent_documents"),
    path("staff/patients/episodes/<uuid:uuid>/consent/sign/", consent.consent_sign, name="consent_sign"),
    path("staff/patients/episodes/<uuid:uuid>/consent/link/", consent.consent_link_send, name="consent_link_send"),
    path("staff/patients/consents/<uuid:uuid>/verify/", consent.consent_verify, name="consent_verify"),
    path("staff/patients/consents/<uuid:uuid>/pdf/", consent.consent_pdf, name="consent_pdf"),
    path("staff/patients/consents/<uuid:uuid>/withdraw/", consent.consent_withdraw, name="consent_withdraw"),
    # The patient's pages: the fixed ones before the token's, which would otherwise match them.
    path("consent/", consent.consent_remote_sign, name="consent_remote_sign"),
    path("consent/done/", consent.consent_remote_done, name="consent_remote_done"),
    path("consent/copy.pdf", consent.consent_remote_pdf, name="consent_remote_pdf"),
    path("consent/<str:token>/", consent.consent_remote, name="consent_remote"),
]
