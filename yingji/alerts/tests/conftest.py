"""Shared fixtures of the alerts tests: the test world's towns and villages as recipient
units, each with a ladder of three contacts."""

import pytest

from yingji.alerts.models import Contact, Unit


@pytest.fixture
def units(world) -> dict[str, Unit]:
    """T1, T2, V1, V2 as units; T1's duty contact is the town officer's account and V2's the
    village officer's, so they can acknowledge in the app."""
    made = {}
    for region in (world.town1, world.town2, world.village1, world.village2):
        unit = Unit.objects.create(name=region.name, kind=Unit.Kind.REGION, region=region)
        for position, role in enumerate(("duty", "head", "deputy"), start=1):
            Contact.objects.create(
                unit=unit,
                position=position,
                role=role,
                name=f"{region.ref}-{role}",
                phone=f"1380000{position}{region.pk:03d}",
                email=f"{region.ref.lower()}-{role}@example.test",
            )
        made[region.ref] = unit
    Contact.objects.filter(unit=made["T1"], role="duty").update(user=world.town_officer)
    Contact.objects.filter(unit=made["V2"], role="duty").update(user=world.village_officer)
    return made
