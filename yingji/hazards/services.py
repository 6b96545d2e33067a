"""The hazard rectification loop: report → order → evidence → re-inspection → closed."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from yingji.core import attachments, audit
from yingji.core.notify import notify
from yingji.core.numbering import issue_number
from yingji.core.roles import Role
from yingji.enterprises.models import Enterprise
from yingji.hazards.models import Evidence, Hazard, RectificationOrder, Reinspection, Reminder
from yingji.inspections.models import Inspection

STAFF_ACTORS = {Role.LEADER, Role.INSPECTOR, Role.ADMIN}
REMIND_DAYS_BEFORE = 3


def _is_staff(user) -> bool:
    return user.is_active and user.role in STAFF_ACTORS


def _enterprise_users(enterprise: Enterprise):
    return [a.user for a in enterprise.accounts.select_related("user") if a.user.is_active]


def _own_enterprise(user, enterprise: Enterprise) -> bool:
    return user.role == Role.ENTERPRISE and enterprise.accounts.filter(user=user).exists()


@transaction.atomic
def report_hazard(
    *,
    by,
    enterprise: Enterprise,
    found_on: datetime.date,
    description: str,
    level: str = Hazard.Level.GENERAL,
    category: str = "other",
    legal_basis: str = "",
    inspection: Inspection | None = None,
    photos=(),
) -> Hazard:
    """Record a hazard found in an inspection or reported by the enterprise itself."""
    if inspection is not None:
        from yingji.inspections.services import _is_inspector_of

        if not _is_inspector_of(inspection, by):
            raise PermissionDenied
        if inspection.status != Inspection.Status.IN_PROGRESS:
            raise ValidationError(_("Findings are recorded while the inspection is under way."))
        if inspection.enterprise_id != enterprise.pk:
            raise ValidationError(
                {"enterprise": _("The finding must be about the inspected enterprise.")}
            )
        source = (
            Hazard.Source.SELF_REPORT if inspection.self_inspection else Hazard.Source.INSPECTION
        )
    elif _own_enterprise(by, enterprise):
        source = Hazard.Source.SELF_REPORT
    else:
        raise PermissionDenied
    errors = {}
    if found_on > timezone.localdate():
        errors.setdefault("found_on", []).append(_("The date found cannot be in the future."))
    if inspection is not None and found_on < inspection.date:
        errors.setdefault("found_on", []).append(
            _("The date found cannot be before the inspection.")
        )
    if errors:
        raise ValidationError(errors)
    photos = attachments.prepare_all(photos)
    hazard = Hazard(
        enterprise=enterprise,
        inspection=inspection,
        found_on=found_on,
        level=level,
        category=category,
        description=description.strip(),
        legal_basis=legal_basis.strip(),
        source=source,
        reported_by=by,
        responsible=by if by.role in STAFF_ACTORS else None,
    )
    hazard.full_clean()
    hazard.save()
    audit.created(hazard, actor=by)
    for photo in photos:
        attachments.attach(hazard, photo, by=by)  # checked with prepare_all before the row
    if source == Hazard.Source.SELF_REPORT and inspection is None:
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.filter(role=Role.INSPECTOR, is_active=True)
        notify(
            staff,
            _("Self-reported hazard: %(e)s") % {"e": enterprise.name},
            hazard.description,
            link=reverse("hazards-detail", args=[hazard.pk]),
            channels=["inapp"],
        )
    return hazard


@transaction.atomic
def issue_order(
    hazards: list[Hazard],
    *,
    by,
    deadline: datetime.date,
    requirements: str = "",
    issued_on: datetime.date | None = None,
) -> RectificationOrder:
    """Order rectification by a deadline (责令限期整改指令书); the hazards become open."""
    if not _is_staff(by):
        raise PermissionDenied
    issued_on = issued_on or timezone.localdate()
    hazards = list(
        Hazard.objects.select_for_update()
        .filter(pk__in=[h.pk for h in hazards])
        .select_related("enterprise")
    )
    if not hazards:
        raise ValidationError({"hazards": _("Choose at least one hazard.")})
    if len({h.enterprise_id for h in hazards}) != 1:
        raise ValidationError({"hazards": _("One order covers hazards of one enterprise.")})
    if any(h.status != Hazard.Status.REPORTED for h in hazards):
        raise ValidationError(
            {"hazards": _("An order can only be issued for newly found hazards.")}
        )
    found = max(h.found_on for h in hazards)
    errors = {}
    if issued_on > timezone.localdate() or issued_on < found:
        errors["issued_on"] = _("The order date must lie between the finding and today.")
    if deadline < found or deadline < issued_on:
        errors["deadline"] = _(
            "The deadline cannot be before the hazard was found or before the order is issued."
        )
    if errors:
        raise ValidationError(errors)
    enterprise = hazards[0].enterprise
    number = issue_number(
        "rectification_order", issued_on.year, by=by, subject=enterprise.name
    ).text
    # The order names the inspection only when every hazard on it came from that one visit.
    visits = {h.inspection_id for h in hazards}
    order = RectificationOrder(
        enterprise=enterprise,
        inspection=hazards[0].inspection if len(visits) == 1 else None,
        number=number,
        issued_on=issued_on,
        deadline=deadline,
        issued_by=by,
        requirements=requirements,
    )
    order.save()
    audit.created(order, actor=by)
    for hazard in hazards:
        with audit.tracking(hazard, actor=by, note=number):
            hazard.status, hazard.deadline, hazard.order = Hazard.Status.OPEN, deadline, order
            hazard.responsible = hazard.responsible or by
            hazard.save(update_fields=["status", "deadline", "order", "responsible"])
    notify(
        _enterprise_users(enterprise),
        _("Rectification order %(n)s") % {"n": number},
        _("Rectify %(count)d hazard(s) by %(date)s.")
        % {"count": len(hazards), "date": deadline.isoformat()},
        link=reverse("hazards-list"),
    )
    return order


@transaction.atomic
def submit_evidence(hazard: Hazard, *, by, note: str, files=()) -> Evidence:
    """The enterprise shows the hazard is fixed; the inspector re-inspects next."""
    hazard = Hazard.objects.select_for_update().select_related("enterprise").get(pk=hazard.pk)
    if not (_own_enterprise(by, hazard.enterprise) or _is_staff(by)):
        raise PermissionDenied
    if hazard.status != Hazard.Status.OPEN:
        raise ValidationError(_("Evidence can be submitted while the hazard is being rectified."))
    if not note.strip():
        raise ValidationError({"note": _("Describe what was done.")})
    files = attachments.prepare_all(files)
    evidence = Evidence.objects.create(hazard=hazard, note=note.strip(), submitted_by=by)
    audit.created(evidence, actor=by)
    for f in files:
        attachments.attach(evidence, f, by=by)
    with audit.tracking(hazard, actor=by):
        hazard.status = Hazard.Status.SUBMITTED
        hazard.save(update_fields=["status"])
    if hazard.responsible:
        notify(
            [hazard.responsible],
            _("Evidence submitted: %(e)s") % {"e": hazard.enterprise.name},
            note,
            link=reverse("hazards-detail", args=[hazard.pk]),
        )
    return evidence


@transaction.atomic
def reinspect(
    hazard: Hazard,
    *,
    by,
    passed: bool,
    opinion: str,
    date: datetime.date | None = None,
    new_deadline: datetime.date | None = None,
) -> Reinspection:
    """复查: pass closes the hazard (销号); fail reopens it with a new deadline."""
    if not _is_staff(by):
        raise PermissionDenied
    hazard = Hazard.objects.select_for_update().select_related("enterprise").get(pk=hazard.pk)
    date = date or timezone.localdate()
    errors = {}
    if hazard.status not in (Hazard.Status.OPEN, Hazard.Status.SUBMITTED):
        raise ValidationError(_("Only a hazard under rectification can be re-inspected."))
    if not opinion.strip():
        errors["opinion"] = _("Write the re-inspection opinion.")
    if date < hazard.found_on or date > timezone.localdate():
        errors["date"] = _("The date must lie between the finding and today.")
    if passed and hazard.level == Hazard.Level.MAJOR and hazard.signed_off_at is None:
        errors["passed"] = _("A major hazard can only be closed after a leader has signed it off.")
    if not passed and (
        new_deadline is None or new_deadline <= date or new_deadline < timezone.localdate()
    ):
        errors["new_deadline"] = _(
            "A failed re-inspection needs a new deadline after the re-inspection date, "
            "not in the past."
        )
    if errors:
        raise ValidationError(errors)
    number = issue_number(
        "reinspection_opinion", date.year, by=by, subject=hazard.enterprise.name
    ).text
    re = Reinspection.objects.create(
        hazard=hazard,
        date=date,
        passed=passed,
        opinion=opinion.strip(),
        number=number,
        by=by,
        new_deadline=None if passed else new_deadline,
    )
    audit.created(re, actor=by)
    with audit.tracking(hazard, actor=by, note=number):
        if passed:
            hazard.status, hazard.closed_on = Hazard.Status.CLOSED, date
        else:
            hazard.status, hazard.deadline = Hazard.Status.OPEN, new_deadline
        hazard.save(update_fields=["status", "closed_on", "deadline"])
    notify(
        _enterprise_users(hazard.enterprise),
        (_("Hazard closed: %(d)s") if passed else _("Re-inspection failed: %(d)s"))
        % {"d": hazard.description[:60]},
        opinion,
        link=reverse("hazards-detail", args=[hazard.pk]),
    )
    return re


@transaction.atomic
def sign_off_major(hazard: Hazard, *, by) -> Hazard:
    """A leader signs off a major hazard, which puts it under listed supervision (挂牌督办)."""
    if not by.is_active or by.role != Role.LEADER:
        raise PermissionDenied
    hazard = Hazard.objects.select_for_update().get(pk=hazard.pk)
    if hazard.level != Hazard.Level.MAJOR:
        raise ValidationError(_("Only major hazards need a leader's sign-off."))
    if hazard.signed_off_at is not None:
        raise ValidationError(_("This hazard is already signed off."))
    with audit.tracking(hazard, actor=by, note="signed off"):
        hazard.signed_off_by, hazard.signed_off_at = by, timezone.now()
        hazard.supervised = True
        hazard.save(update_fields=["signed_off_by", "signed_off_at", "supervised"])
    return hazard


def send_deadline_reminders(on: datetime.date | None = None) -> int:
    """Remind the inspector and the enterprise before and on the deadline, once each."""
    on = on or timezone.localdate()
    sent = 0
    due = {
        "before": Hazard.objects.due_within(REMIND_DAYS_BEFORE, on).exclude(deadline=on),
        "due": Hazard.objects.exclude(status=Hazard.Status.CLOSED).filter(deadline=on),
    }
    for kind, qs in due.items():
        for hazard in qs.select_related("enterprise", "responsible").iterator(chunk_size=500):
            try:
                with transaction.atomic():
                    Reminder.objects.create(hazard=hazard, kind=kind, deadline=hazard.deadline)
                    users = _enterprise_users(hazard.enterprise)
                    if hazard.responsible:
                        users.append(hazard.responsible)
                    subject = (
                        _("Deadline on %(d)s: %(e)s")
                        if kind == "before"
                        else _("Deadline today: %(e)s")
                    ) % {"d": hazard.deadline.isoformat(), "e": hazard.enterprise.name}
                    notify(
                        users,
                        subject,
                        hazard.description,
                        link=reverse("hazards-detail", args=[hazard.pk]),
                    )
                    sent += 1
            except IntegrityError:
                continue  # already reminded (a restarted worker does not repeat itself)
    return sent


@task()
def remind_deadlines() -> int:
    """Daily: send reminders, then queue tomorrow's run."""
    sent = send_deadline_reminders()
    tomorrow = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    ensure_reminders_scheduled(tomorrow + datetime.timedelta(days=1))
    return sent


def ensure_reminders_scheduled(at: datetime.datetime | None = None) -> None:
    """Queue the reminder task unless one is already waiting (the worker calls this on start)."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=remind_deadlines.module_path, status="READY")
    if not waiting.exists():
        remind_deadlines.using(run_after=at or timezone.now()).enqueue()
