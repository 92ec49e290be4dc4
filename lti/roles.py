"""LTI 1.3 roles, parsed exactly (LTI 1.3 core, appendix A.2 "Role vocabularies").

A user's right to teacher pages comes from their role *in the context* (the course) the launch comes
from: the LIS v2 context roles `http://purl.imsglobal.org/vocab/lis/v2/membership#<Role>`, their
sub-roles `…/membership/<Role>#<SubRole>`, and the simple names of the context roles ("Instructor"),
which the spec lets tools recognise. Institution roles (`…/institution/person#…`) and system roles
(`…/system/person#…`) describe a person's standing in the institution or the platform, not in the
course; the spec derives no context role from them, so none of them makes anyone a teacher here (an
institution Administrator who teaches the course has the context role Instructor as well; Moodle sends
it to site administrators). The table is in docs/lti-security.md.
"""

from __future__ import annotations

CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership"

# Principal context roles and their sub-roles, as the LTI 1.3 vocabulary lists them (A.2.3, A.2.3.1).
SUB_ROLES: dict[str, frozenset[str]] = {
    "Administrator": frozenset({"Administrator", "Developer", "ExternalDeveloper", "ExternalSupport",
                                "ExternalSystemAdministrator", "Support", "SystemAdministrator"}),
    "ContentDeveloper": frozenset({"ContentDeveloper", "ContentExpert", "ExternalContentExpert", "Librarian"}),
    "Instructor": frozenset({"ExternalInstructor", "Grader", "GuestInstructor", "Lecturer", "PrimaryInstructor",
                             "SecondaryInstructor", "TeachingAssistant", "TeachingAssistantGroup",
                             "TeachingAssistantOffering", "TeachingAssistantSection",
                             "TeachingAssistantSectionAssociation", "TeachingAssistantTemplate"}),
    "Learner": frozenset({"ExternalLearner", "GuestLearner", "Instructor", "Learner", "NonCreditLearner"}),
    "Manager": frozenset({"AreaManager", "CourseCoordinator", "ExternalObserver", "Manager", "Observer"}),
    "Member": frozenset({"Member"}),
    "Mentor": frozenset({"Advisor", "Auditor", "ExternalAdvisor", "ExternalAuditor", "ExternalLearningFacilitator",
                         "ExternalMentor", "ExternalReviewer", "ExternalTutor", "LearningFacilitator", "Mentor",
                         "Reviewer", "Tutor"}),
    "Officer": frozenset({"Chair", "Communications", "Secretary", "Treasurer", "Vice-Chair"}),
}

TEACHING = frozenset({"Instructor", "ContentDeveloper"})  # may see teacher pages and place content


def context_role(role: str) -> str | None:
    """The principal context role a role URI (or simple name) stands for; None for anything else."""
    if role in SUB_ROLES:  # a simple name
        return role
    if role.startswith(CONTEXT + "#"):
        name = role[len(CONTEXT) + 1:]
        return name if name in SUB_ROLES else None
    if role.startswith(CONTEXT + "/"):
        principal, separator, sub = role[len(CONTEXT) + 1:].partition("#")
        if separator and sub in SUB_ROLES.get(principal, ()):
            return principal
    return None


def is_instructor(roles: list[str]) -> bool:
    """Instructor or content developer in the launch's context (or one of their sub-roles)."""
    return any(context_role(role) in TEACHING for role in roles if isinstance(role, str))


def is_learner(roles: list[str]) -> bool:
    """Learner in the context: NRPS roles come short from Moodle ("Learner"), id_token roles as full URIs."""
    return any(context_role(role) == "Learner" for role in roles if isinstance(role, str))
