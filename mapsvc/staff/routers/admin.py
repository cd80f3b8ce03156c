"""Prefecture administration pages: accounts and their roles, API keys, the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mapsvc.api.deps import SessionDep, SettingsDep
from mapsvc.services import accounts, audit, keys, roles
from mapsvc.services.portal import municipalities_for
from mapsvc.services.session import Session
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.staff.access import StaffAdminDep, administrator
from mapsvc.staff.pages import render
from mapsvc.staff.text import LABELS

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
AUDIT_PAGE = 100
# The audit filter offers every action the log has words for (a new action needs its label).
AUDIT_ACTIONS = tuple(code.removeprefix("action_") for code in LABELS if code.startswith("action_"))


def _accounts_page(
    request: Request,
    session: Session,
    settings: SettingsDep,
    principal: StaffPrincipal,
    *,
    issued: accounts.OneTimeLink | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin_accounts.html",
        principal=principal,
        status_code=status_code,
        accounts=accounts.list_accounts(session),
        roles=roles.ROLES,
        link=issued.link if issued else "",
        mail=issued.mail if issued else "not_sent",
        municipalities=municipalities_for(session, principal),
        hours=settings.staff.link_valid_h,
    )


def _link_for(settings: SettingsDep) -> accounts.LinkFor:
    return accounts.links_under(settings.public_base())  # MAPSVC_PUBLIC_URL, not the Host


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, session: SessionDep, settings: SettingsDep, principal: StaffAdminDep
) -> Response:
    """Every account with its roles and state; the form to create one."""
    return _accounts_page(request, session, settings, principal)


@router.post("/accounts", response_class=HTMLResponse)
def create_account(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffAdminDep,
    login: Annotated[str, Form(max_length=200)],
    display_name: Annotated[str, Form(max_length=200)],
    municipality: Annotated[str, Form()],
    role: Annotated[str, Form()],
) -> Response:
    """Create an account; its invitation link is shown once, to hand over."""
    issued = accounts.invite(
        session,
        settings,
        login=login,
        display_name=display_name,
        roles={municipality: role},
        actor=principal.actor,
        link_for=_link_for(settings),
    )
    return _accounts_page(request, session, settings, principal, issued=issued, status_code=201)


@router.post("/accounts/{user_id}/roles")
def set_role(
    session: SessionDep,
    principal: StaffAdminDep,
    user_id: int,
    municipality: Annotated[str, Form()],
    role: Annotated[str, Form()],
) -> Response:
    """Give the account this one role (replacing what it had)."""
    accounts.set_roles(session, user_id, {municipality: role}, principal.actor)
    return RedirectResponse("/staff/admin/accounts", status_code=303)


@router.post("/accounts/{user_id}/disable")
def disable(
    session: SessionDep,
    principal: StaffAdminDep,
    user_id: int,
    disabled: Annotated[bool, Form()] = True,
) -> Response:
    """Disable (its sessions end at once) or enable an account."""
    accounts.set_disabled(session, user_id, disabled, principal.actor)
    return RedirectResponse("/staff/admin/accounts", status_code=303)


@router.post("/accounts/{user_id}/reset", response_class=HTMLResponse)
def reset(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffAdminDep,
    user_id: int,
) -> Response:
    """A new one-time link to choose a password, shown once."""
    issued = accounts.reset(
        session, settings, user_id, actor=principal.actor, link_for=_link_for(settings)
    )
    return _accounts_page(request, session, settings, principal, issued=issued)


def _keys_page(
    request: Request,
    session: Session,
    principal: StaffPrincipal,
    *,
    key: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin_keys.html",
        principal=principal,
        status_code=status_code,
        keys=keys.list_keys(session),
        key=key,
        roles=roles.ROLES,
        municipalities=municipalities_for(session, principal),
    )


@router.get("/keys", response_class=HTMLResponse)
def keys_page(request: Request, session: SessionDep, principal: StaffAdminDep) -> Response:
    """API keys of machine clients (prefixes only) and the form to make one."""
    return _keys_page(request, session, principal)


@router.post("/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffAdminDep,
    municipality: Annotated[str, Form()],
    role: Annotated[str, Form()],
    label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create a key; shown once."""
    key, _ = keys.create_key(
        session,
        keys.auth_secret(settings),
        municipality_code=municipality,
        role=role,
        label=label,
        actor=principal.actor,
    )
    return _keys_page(request, session, principal, key=key, status_code=201)


@router.post("/keys/{prefix}/revoke")
def revoke_key(session: SessionDep, principal: StaffAdminDep, prefix: str) -> Response:
    """Revoke a key at once."""
    keys.revoke_key(session, prefix, principal.actor)
    return RedirectResponse("/staff/admin/keys", status_code=303)


@dataclass(frozen=True)
class AuditFilters:
    """The audit log's filters as the page's form and the CSV link send them (declared once)."""

    actor: str = ""
    action: str = ""
    municipality: str = ""
    layer: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> dict[str, object]:
        """The filters as ``audit.entries`` takes them; a date that does not parse filters nothing."""

        def day(text: str) -> datetime | None:
            try:
                return datetime.fromisoformat(text) if text else None
            except ValueError:
                return None

        return {
            "actor": self.actor.strip(),
            "action": self.action.strip(),
            "municipality_code": self.municipality.strip(),
            "layer_id": self.layer.strip(),
            "since": day(self.since),
            "until": day(self.until),
        }


AuditFiltersDep = Annotated[AuditFilters, Depends()]


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    principal: StaffAdminDep,
    filters: AuditFiltersDep,
    offset: int = 0,
) -> Response:
    """The audit log, newest first, filtered by who, what, when, municipality and layer."""
    offset = max(0, min(offset, 10_000_000))
    rows = audit.entries(session, filters.query(), limit=AUDIT_PAGE + 1, offset=offset)
    query = request.url.include_query_params(offset=offset + AUDIT_PAGE)
    csv_url = request.url.replace(path="/staff/admin/audit.csv").remove_query_params("offset")
    return render(
        request,
        "admin_audit.html",
        principal=principal,
        rows=rows[:AUDIT_PAGE],
        numbers=audit.version_numbers(session, rows),
        actions=AUDIT_ACTIONS,
        next_url=str(query) if len(rows) > AUDIT_PAGE else "",
        csv_url=str(csv_url),
        form=asdict(filters),
    )


@router.get("/audit.csv", dependencies=[Depends(administrator)])
def audit_csv(session: SessionDep, filters: AuditFiltersDep) -> Response:
    """The filtered audit log for Excel (UTF-8 with BOM), at most 100,000 entries."""
    return Response(
        audit.entries_csv(session, filters.query()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
