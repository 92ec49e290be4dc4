"""Names and Role Provisioning Services: the course roster, page by page through the Link header."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .ags import ServiceError, service_request
from .db import Launch, Platform, RosterMember, now
from .outbound import OutboundClient

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 1000


def sync_roster(session: Session, launch: Launch, client: OutboundClient) -> int:
    """Fetch every page of the launch's context roster and store it. Returns the number of members."""
    if not launch.nrps_url:
        raise ServiceError("the platform offers no roster service for this course", retry=False)
    platform = session.get(Platform, launch.platform_id)
    url, count, pages = launch.nrps_url, 0, 0
    existing = {m.user_id: m for m in session.scalars(select(RosterMember).where(
        RosterMember.platform_id == platform.id, RosterMember.context_id == launch.context_id))}
    while url and pages < MAX_PAGES:
        # Moodle: an Accept header must carry exactly one media type.
        response = service_request(session, platform, [NRPS_SCOPE], client, "GET", url, headers={"Accept": NRPS_TYPE})
        if response.status_code != 200:
            raise ServiceError(f"the roster service answered {response.status_code}", retry=False)
        try:
            members = response.json().get("members", [])
        except ValueError:
            raise ServiceError("the roster service answered with no JSON", retry=False) from None
        for member in members:
            user_id = str(member.get("user_id") or "")
            if not user_id:
                continue
            row = existing.get(user_id)
            if row is None:
                row = RosterMember(platform_id=platform.id, context_id=launch.context_id, user_id=user_id,
                                   region="", group_name="")
                session.add(row)
                existing[user_id] = row
            row.name = str(member.get("name") or " ".join(filter(None, [member.get("given_name"),
                                                                         member.get("family_name")])))
            row.email = str(member.get("email") or "")
            row.username = str(member.get("ext_user_username") or member.get("lis_person_sourcedid") or "")
            row.roles = [str(r) for r in member.get("roles") or []]
            row.status = str(member.get("status") or "Active")
            row.synced_at = now()
            count += 1
        url = response.links.get("next", {}).get("url")
        pages += 1
    session.commit()
    return count
