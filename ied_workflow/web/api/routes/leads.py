"""/api/v1/leads: the host application's leads, mirrored (follow-ups never write them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ied_workflow.web.api.dependencies import AsOperator, AsViewer
from ied_workflow.web.api.routes import PREFIX
from ied_workflow.web.api.schemas import ID_PATTERN, LeadIn, LeadOut

router = APIRouter(prefix=f"{PREFIX}/leads", tags=["leads"])
LeadId = Annotated[str, Path(alias="leadId", pattern=ID_PATTERN, max_length=64)]


@router.put("/{leadId}", response_model=LeadOut)
async def upsert_lead(lead_id: LeadId, body: LeadIn, act: AsOperator) -> LeadOut:
    """Create or update the mirror of a lead (status and installer)."""
    lead = await act(
        lambda wf, who: wf.upsert_lead(lead_id, status=body.status, installer_id=body.installer_id)
    )
    return LeadOut.model_validate(lead)


@router.get("/{leadId}", response_model=LeadOut)
async def get_lead(lead_id: LeadId, act: AsViewer) -> LeadOut:
    """One lead as last mirrored."""
    return LeadOut.model_validate(await act(lambda wf, who: wf.lead(lead_id)))
