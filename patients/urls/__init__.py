"""The `patients` namespace: the staff chart, intake, episodes and candidacy, consent; and the patients' own pages.

Staff pages live under /staff/patients/; the pages a patient opens from a link under
/intake/ and /consent/ (the token in the URL, nothing about health).
"""

from patients.urls import chart, consent, episodes, intake

app_name = "patients"

urlpatterns = [*chart.urlpatterns, *intake.urlpatterns, *episodes.urlpatterns, *consent.urlpatterns]
