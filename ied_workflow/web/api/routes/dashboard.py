"""/api/v1/dashboard: the dashboard's counts, for every role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic.alias_generators import to_camel

from ied_workflow.follow_ups.queries import COUNT_CAP
from ied_workflow.web.api.dependencies import AsViewer
from ied_workflow.web.api.routes import PREFIX
from ied_workflow.web.api.schemas import DashboardOut
from ied_workflow.web.count_cache import CountCache

router = APIRouter(prefix=PREFIX, tags=["operations"])


@router.get("/dashboard", response_model=DashboardOut)
async def dashboard(request: Request, act: AsViewer) -> DashboardOut:
    """How many follow-ups each dashboard filter holds, each count stopping past COUNT_CAP
    as the console's do (an exact count of 700,000 completed ones took seconds), from the
    process's shared counts (`web/count_cache.py`), which say when they were taken."""
    snapshots: CountCache = request.app.state.count_snapshots
    zone, cap = request.app.state.workflow.settings.zone, COUNT_CAP
    counted = await act(lambda wf, who: snapshots.dashboard(wf.now(), zone, cap=cap))
    capped = [to_camel(name) for name, count in counted.counts.items() if count > cap]
    exact = {name: min(count, cap) for name, count in counted.counts.items()}
    return DashboardOut.model_validate(
        {**exact, "count_cap": cap, "capped": capped, "counted_at": counted.at}
    )
