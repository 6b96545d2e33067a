"""Shared test personas (after healthchecks' alice/bob/charlie) and test settings."""

import pytest

from yingji.lib import uscc

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGE_CODE = "zh-hans"


def make_uscc(n: int) -> str:
    return uscc.make(f"91630103{n:09d}")


class World:
    """A small district: 2 towns with a village each, enterprises A (town 1) and B (town 2),
    and one user per role."""

    def __init__(self) -> None:
        from yingji.core.models import Region
        from yingji.core.services import create_user
        from yingji.enterprises.models import Enterprise, EnterpriseAccount

        mk = Region.objects.create
        self.district = mk(ref="630103", name="城中区", level="district", code="630103")
        self.town1 = mk(ref="T1", name="人民街街道", level="town", parent=self.district)
        self.town2 = mk(ref="T2", name="总寨镇", level="town", parent=self.district)
        self.village1 = mk(ref="V1", name="南关社区", level="village", parent=self.town1)
        self.village2 = mk(ref="V2", name="谢家寨村", level="village", parent=self.town2)
        self.ent_a = Enterprise.objects.create(
            ref="E-A",
            name="青海甲工贸有限公司",
            uscc=make_uscc(1),
            sector="industrial_trade",
            region=self.village1,
            features=",dust_explosion,",
        )
        self.ent_b = Enterprise.objects.create(
            ref="E-B",
            name="青海乙化工有限公司",
            uscc=make_uscc(2),
            sector="hazardous_chemicals",
            region=self.village2,
            risk_grade="red",
        )

        def user(username, role, region=None):
            return create_user(
                by=None,
                username=username,
                password=PASSWORD,
                role=role,
                email=f"{username}@example.test",
                region=region,
            )

        self.leader = user("leader", "leader")
        self.inspector = user("inspector", "inspector")
        self.duty = user("duty", "duty_officer")
        self.legal = user("legal", "legal")
        self.town_officer = user("town1", "town_officer", self.town1)
        self.village_officer = user("village2", "village_officer", self.village2)
        self.ent_user_a = user("ent_a", "enterprise")
        self.ent_user_b = user("ent_b", "enterprise")
        self.expert = user("expert", "expert")
        self.admin = user("admin", "admin")
        EnterpriseAccount.objects.create(user=self.ent_user_a, enterprise=self.ent_a)
        EnterpriseAccount.objects.create(user=self.ent_user_b, enterprise=self.ent_b)

    @property
    def users(self) -> dict:
        return {
            "leader": self.leader,
            "inspector": self.inspector,
            "duty": self.duty,
            "legal": self.legal,
            "town": self.town_officer,
            "village": self.village_officer,
            "ent_a": self.ent_user_a,
            "ent_b": self.ent_user_b,
            "expert": self.expert,
            "admin": self.admin,
        }


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
