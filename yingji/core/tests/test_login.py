import pytest
from django.contrib.auth.hashers import identify_hasher

from conftest import PASSWORD


def test_login_and_logout(world, client):
    response = client.post("/login/", {"username": "inspector", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_it_throttles_password_guessing(world, client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post("/login/", {"username": "inspector", "password": "wrong"})
        assert response.status_code == 200
    # Even the right password is refused while the account is locked.
    response = client.post("/login/", {"username": "inspector", "password": PASSWORD})
    assert response.status_code == 200
    assert "分钟" in response.content.decode() or "minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not yet affected.
    response = client.post("/login/", {"username": "leader", "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_users_cannot_log_in(world, client):
    world.inspector.is_active = False
    world.inspector.save()
    response = client.post("/login/", {"username": "inspector", "password": PASSWORD})
    assert response.status_code == 200


def test_password_change(world, client):
    client.force_login(world.inspector)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-7",
            "new_password2": "a-new-long-passphrase-7",
        },
    )
    assert response.status_code == 302
    world.inspector.refresh_from_db()
    assert world.inspector.check_password("a-new-long-passphrase-7")


@pytest.mark.django_db
def test_production_hashes_passwords_with_argon2():
    from django.conf import settings as real
    from django.test import override_settings

    from yingji import settings as project_settings

    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        from django.contrib.auth.hashers import make_password

        assert identify_hasher(make_password("x-long-password")).algorithm == "argon2"
    assert real.PASSWORD_HASHERS  # the test settings swap in a fast hasher
