"""The outcomes dashboard: one indication's figures, for physicians, PAs, the practice manager and researchers.

Counts, means and shares only, no patient named (`OUTCOMES_DASHBOARD` in the policy, a
de-identified record like the safety summary). The selection is a GET form; an invalid
choice is shown beside its field with what was typed kept, and no figures are drawn
from a selection that is not the one asked for. One "view" row per page, naming the
indication.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts import access
from accounts.access import Act, Record
from outcomes import charts, dashboard
from outcomes.forms.dashboard import DashboardForm
from patients.models import Indication


@never_cache
@login_required
@require_safe
def dashboard_page(request: HttpRequest) -> HttpResponse:
    access.require(request, Act.VIEW, Record.OUTCOMES_DASHBOARD)
    form = DashboardForm(request.GET if request.GET else {"indication": Indication.OSTEOARTHRITIS})
    figures = None
    change_charts: list = []
    survival_chart = None
    if form.is_valid():
        indication, filters = form.selection()
        figures = dashboard.figures(indication, filters=filters)
        change_charts = [
            (line, charts.change_chart(line, chart_id=f"change-{index}")) for index, line in enumerate(figures.changes)
        ]
        survival_chart = charts.survival_chart(figures.survival, chart_id="survival")
        access.audit_list(request, record=Record.OUTCOMES_DASHBOARD, ref=f"dashboard:{indication}")
    else:
        access.audit_list(request, record=Record.OUTCOMES_DASHBOARD, ref="dashboard:invalid-selection")
    return render(
        request,
        "outcomes/dashboard/dashboard.html",
        {
            "form": form,
            "figures": figures,
            "indication_label": dict(Indication.choices).get(form.data.get("indication", ""), ""),
            "change_charts": change_charts,
            "survival_chart": survival_chart,
        },
    )
