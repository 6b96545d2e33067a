"""Roles and what each may do. One table, read by views, the API and tests alike."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEADER = "leader", _("Leader")
    INSPECTOR = "inspector", _("Inspector")
    DUTY_OFFICER = "duty_officer", _("Duty officer")
    LEGAL = "legal", _("Legal staff")
    TOWN_OFFICER = "town_officer", _("Town officer")
    VILLAGE_OFFICER = "village_officer", _("Village officer")
    ENTERPRISE = "enterprise", _("Enterprise user")
    EXPERT = "expert", _("Expert")
    ADMIN = "admin", _("Administrator")


# Roles whose scope is the whole district.
DISTRICT_WIDE = frozenset({Role.LEADER, Role.INSPECTOR, Role.DUTY_OFFICER, Role.LEGAL, Role.ADMIN})
# Roles whose scope is the subtree of their region.
REGIONAL = frozenset({Role.TOWN_OFFICER, Role.VILLAGE_OFFICER})

# Capabilities: an action name → the roles that may do it (inside their scope).
CAPABILITIES: dict[str, frozenset[str]] = {
    "enterprise.view": frozenset(Role.values),
    "enterprise.edit": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN, Role.TOWN_OFFICER}),
    "enterprise.import": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN}),
    "enterprise.export": frozenset(
        {
            Role.LEADER,
            Role.INSPECTOR,
            Role.DUTY_OFFICER,
            Role.LEGAL,
            Role.ADMIN,
            Role.TOWN_OFFICER,
            Role.VILLAGE_OFFICER,
        }
    ),
    "attachment.upload": frozenset(
        {Role.LEADER, Role.INSPECTOR, Role.ADMIN, Role.TOWN_OFFICER, Role.ENTERPRISE}
    ),
    "region.view": frozenset(Role.values) - {Role.ENTERPRISE, Role.EXPERT},
    "audit.view": frozenset({Role.LEADER, Role.ADMIN, Role.LEGAL}),
    "token.manage": frozenset(Role.values),
    "inspection.view": frozenset(Role.values),
    "inspection.plan": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN}),
    "inspection.self": frozenset({Role.ENTERPRISE}),
    "plan.view": frozenset(Role.values) - {Role.ENTERPRISE, Role.EXPERT},
    "draw.view": DISTRICT_WIDE,
    "hazard.view": frozenset(Role.values),
    "hazard.act": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN}),
    "enforcement.view": frozenset(Role.values) - {Role.EXPERT},
    "enforcement.act": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN}),
    "tip.view": DISTRICT_WIDE | REGIONAL,
    "tip.intake": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN, Role.DUTY_OFFICER}),
    "tip.handle": frozenset({Role.LEADER, Role.INSPECTOR, Role.ADMIN}),
    # Who may see a reporter's name and contact: the leaders who approve rewards.
    "tip.identity": frozenset({Role.LEADER}),
    "hazard.board": frozenset(
        {Role.LEADER, Role.INSPECTOR, Role.ADMIN, Role.TOWN_OFFICER, Role.VILLAGE_OFFICER}
    ),
    # Warnings (docs/alerts.md): towns and villages see what was sent to their area.
    "alert.view": DISTRICT_WIDE | REGIONAL,
    "alert.issue": frozenset({Role.LEADER, Role.DUTY_OFFICER, Role.ADMIN}),
    "alert.approve": frozenset({Role.LEADER}),
    "alert.ack": REGIONAL | frozenset({Role.LEADER, Role.DUTY_OFFICER}),
    # Monitoring platforms post events and the weather service's CAP with a token of an
    # account holding this.
    "alert.ingest": frozenset({Role.LEADER, Role.DUTY_OFFICER, Role.ADMIN}),
    "alert.units": frozenset({Role.LEADER, Role.DUTY_OFFICER, Role.ADMIN}),
    "rollcall.manage": frozenset({Role.LEADER, Role.DUTY_OFFICER, Role.ADMIN}),
    # Statistics: a town officer gets the figures of their own town only.
    "stats.view": DISTRICT_WIDE | REGIONAL,
    "stats.report": DISTRICT_WIDE,
    "stats.ledger": DISTRICT_WIDE | REGIONAL,
}
