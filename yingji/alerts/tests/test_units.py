"""The unit edits (units.py) and their pages: ladders, robots, rescue teams."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yingji.alerts import units as unit_services
from yingji.alerts.models import Contact, Unit
from yingji.core.models import AuditEntry


def ladder(unit) -> list[str]:
    return list(unit.contacts.order_by("position").values_list("name", flat=True))


def positions(unit) -> list[int]:
    return list(unit.contacts.order_by("position").values_list("position", flat=True))


def test_a_contact_is_added_at_the_bottom_with_the_phone_normalised(world, units):
    t1 = units["T1"]
    contact = unit_services.add_contact(
        t1, by=world.duty, role="other", name="应急队长", phone="+86 139-0000-1111"
    )
    assert contact.phone == "13900001111"
    assert ladder(t1)[-1] == "应急队长" and positions(t1) == [1, 2, 3, 4]
    assert AuditEntry.objects.filter(
        target_type="alerts.contact", target_id=str(contact.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "0971-1234567"}, "phone"),  # a landline gets no SMS
        ({"email": "not-an-email"}, "email"),
        ({"phone": "", "email": ""}, "phone"),  # nobody could reach them
        ({"role": "boss"}, "role"),
    ],
)
def test_bad_contact_details_are_refused_field_by_field_and_change_nothing(
    world, units, fields, field
):
    t1 = units["T1"]
    before = list(t1.contacts.values_list("pk", "name", "phone", "email", "position"))
    entries = AuditEntry.objects.count()
    data = {"role": "other", "name": "新人", "phone": "13900002222", "email": "", **fields}
    with pytest.raises(ValidationError) as exc:
        unit_services.add_contact(t1, by=world.duty, **data)
    assert field in exc.value.message_dict
    first = t1.contacts.order_by("position").first()
    with pytest.raises(ValidationError):
        unit_services.update_contact(first, by=world.duty, **data)
    assert list(t1.contacts.values_list("pk", "name", "phone", "email", "position")) == before
    assert AuditEntry.objects.count() == entries


def test_moving_and_removing_keep_the_ladder_numbered_from_one(world, units):
    t1 = units["T1"]
    duty, head, deputy = t1.contacts.order_by("position")
    unit_services.move_contact(deputy, by=world.duty, offset=-1)
    assert ladder(t1) == [duty.name, deputy.name, head.name]
    with pytest.raises(ValidationError):
        unit_services.move_contact(duty, by=world.duty, offset=-1)  # already at the top
    unit_services.remove_contact(duty, by=world.duty)
    assert ladder(t1) == [deputy.name, head.name] and positions(t1) == [1, 2]
    assert AuditEntry.objects.filter(target_type="alerts.contact", action="delete").count() == 1
    with pytest.raises(ValidationError):
        unit_services.remove_contact(duty, by=world.duty)


def test_the_robot_needs_a_kind_and_an_address_and_its_address_stays_out_of_the_log(world, units):
    t2 = units["T2"]
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY"
    with pytest.raises(ValidationError) as exc:
        unit_services.update_unit(t2, by=world.duty, robot_kind="wecom", robot_url="")
    assert "robot_url" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        unit_services.update_unit(t2, by=world.duty, robot_kind="wecom", robot_url="ftp://x")
    assert "robot_url" in exc.value.message_dict
    t2.refresh_from_db()
    assert (t2.robot_kind, t2.robot_url) == ("", "")
    unit_services.update_unit(t2, by=world.duty, robot_kind="wecom", robot_url=url)
    # An empty address keeps the stored one (the form never shows the key back).
    unit_services.update_unit(t2, by=world.duty, robot_kind="wecom", robot_url="", active=True)
    t2.refresh_from_db()
    assert (t2.robot_kind, t2.robot_url) == ("wecom", url)
    logged = AuditEntry.objects.filter(target_type="alerts.unit", target_id=str(t2.pk))
    assert logged.exists() and all("SECRET-KEY" not in str(e.after) for e in logged)
    unit_services.update_unit(t2, by=world.duty, clear_robot=True)
    t2.refresh_from_db()
    assert (t2.robot_kind, t2.robot_url) == ("", "")


def test_only_teams_and_other_bodies_are_created_here(world):
    team = unit_services.create_unit(by=world.duty, name="区应急救援大队", kind="team")
    assert team.kind == "team" and team.active
    with pytest.raises(ValidationError) as exc:
        unit_services.create_unit(by=world.duty, name="某村", kind="region")
    assert "kind" in exc.value.message_dict
    assert Unit.objects.count() == 1


@pytest.mark.parametrize("role", ["inspector", "legal", "town", "village", "ent_a", "expert"])
def test_roles_without_the_capability_may_not_edit_units(world, units, role):
    user = world.users[role]
    t1 = units["T1"]
    with pytest.raises(PermissionDenied):
        unit_services.add_contact(t1, by=user, role="other", name="x", phone="13900003333")
    with pytest.raises(PermissionDenied):
        unit_services.create_unit(by=user, name="队", kind="team")
    assert Contact.objects.filter(name="x").count() == 0


# -- the pages ------------------------------------------------------------------------------------
def test_the_unit_page_edits_the_ladder(world, units, login):
    client = login(world.duty)
    t1 = units["T1"]
    url = f"/alerts/units/{t1.pk}/"
    response = client.post(
        url, {"action": "add", "role": "other", "name": "网格员", "phone": "13900004444"}
    )
    assert response.status_code == 302
    added = t1.contacts.get(name="网格员")
    response = client.post(url, {"action": "up", "contact": added.pk})
    assert ladder(t1)[2] == "网格员"
    response = client.post(
        url,
        {
            "action": "edit",
            "contact": added.pk,
            f"c{added.pk}-role": "other",
            f"c{added.pk}-name": "网格员",
            f"c{added.pk}-phone": "123",
        },
    )
    assert response.status_code == 422
    assert "phone" in response.context["ladder"][2][1].errors
    added.refresh_from_db()
    assert added.phone == "13900004444"
    client.post(url, {"action": "remove", "contact": added.pk})
    assert not t1.contacts.filter(name="网格员").exists()
    # A contact of another unit is not reachable through this unit's page.
    other = units["T2"].contacts.first()
    assert client.post(url, {"action": "remove", "contact": other.pk}).status_code == 404
    assert Contact.objects.filter(pk=other.pk).exists()


def test_a_team_is_added_from_the_list(world, login):
    client = login(world.duty)
    response = client.post("/alerts/units/", {"name": "", "kind": "team"})
    assert response.status_code == 422 and "name" in response.context["form"].errors
    response = client.post("/alerts/units/", {"name": "蓝天救援队", "kind": "team"})
    team = Unit.objects.get(name="蓝天救援队")
    assert response.status_code == 302 and response["Location"] == f"/alerts/units/{team.pk}/"
