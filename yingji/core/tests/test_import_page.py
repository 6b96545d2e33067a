import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from conftest import make_uscc
from yingji.core.models import ImportJob
from yingji.enterprises.models import Enterprise


def jsonl(*records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def ent(ref, n, **extra):
    return {
        "type": "enterprise",
        "ref": ref,
        "name": f"导入企业{n}",
        "uscc": make_uscc(n),
        "sector": "other",
        "region": "V1",
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_import_runs_in_the_worker_and_reports_its_result(world, client):
    client.force_login(world.inspector)
    upload = SimpleUploadedFile("batch.jsonl", jsonl(ent("N1", 301), ent("N2", 302)))
    response = client.post("/imports/", {"file": upload})
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/"
    assert job.status == "queued"
    page = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in page  # the status box keeps polling until done
    call_command("worker", batch=True, verbosity=0)
    job.refresh_from_db()
    assert job.status == "done"
    assert job.result == {"records": 2, "created": 2, "updated": 0, "unchanged": 0}
    assert Enterprise.objects.filter(ref__in=["N1", "N2"]).count() == 2
    page = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in page


@pytest.mark.django_db(transaction=True)
def test_a_failed_import_lists_every_error_and_writes_nothing(world, client):
    client.force_login(world.inspector)
    body = jsonl(ent("N1", 301), ent("N2", 302, uscc="BAD"), ent("N3", 303, region="NOPE"))
    client.post("/imports/", {"file": SimpleUploadedFile("bad.jsonl", body)})
    call_command("worker", batch=True, verbosity=0)
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert [e.split(":")[0:2] for e in job.errors] == [["line 2", " uscc"], ["line 3", " region"]]
    assert not Enterprise.objects.filter(ref__startswith="N").exists()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "line 2: uscc" in page


def test_only_importers_may_upload_and_only_csv_like_files_pass(world, client):
    client.force_login(world.duty)
    assert (
        client.post("/imports/", {"file": SimpleUploadedFile("a.jsonl", b"{}")}).status_code == 403
    )
    client.force_login(world.inspector)
    response = client.post("/imports/", {"file": SimpleUploadedFile("a.csv", b"x,y")})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["file"]
    assert not ImportJob.objects.exists()


def test_someone_elses_import_is_not_shown(world, client):
    client.force_login(world.inspector)
    client.post("/imports/", {"file": SimpleUploadedFile("a.jsonl", jsonl(ent("N1", 301)))})
    job = ImportJob.objects.get()
    client.force_login(world.admin)  # may read every import (audit right)
    assert client.get(f"/imports/{job.pk}/").status_code == 200
    client.force_login(world.leader)
    assert client.get(f"/imports/{job.pk}/").status_code == 200
    from yingji.core.services import create_user

    other = create_user(
        by=None, username="inspector9", password="x-long-password-1", role="inspector"
    )
    client.force_login(other)
    assert client.get(f"/imports/{job.pk}/").status_code == 403
