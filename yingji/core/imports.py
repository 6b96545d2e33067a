"""Imports started from the browser: queued as a task, progress kept in the shared cache.

Progress cannot live in the database: the import holds its write transaction until the
end, so nobody else would see it. The cache (a file cache by default) is outside it.
"""

from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from yingji.core.interchange import ImportFailed, import_file
from yingji.core.models import ImportJob

MAX_STORED_ERRORS = 1000


def progress_key(job_id) -> str:
    return f"import-progress:{job_id}"


def get_progress(job_id) -> dict:
    return cache.get(progress_key(job_id)) or {"phase": "queued", "done": 0, "total": None}


class _Bar:
    def __init__(self, job_id, phase: str, total: int | None) -> None:
        self.key, self.phase, self.total, self.done = progress_key(job_id), phase, total, 0
        self._publish()

    def _publish(self) -> None:
        cache.set(self.key, {"phase": self.phase, "done": self.done, "total": self.total}, 86400)

    def update(self, n: int) -> None:
        self.done += n
        if self.done % 500 < n:
            self._publish()

    def close(self) -> None:
        self._publish()


def start_import(uploaded, *, by) -> ImportJob:
    """Store the upload and queue its import (one act: the row and the task together)."""
    with transaction.atomic():
        job = ImportJob(original_name=uploaded.name[:255], created_by=by)
        job.file.save(Path(uploaded.name).name, uploaded, save=False)
        job.save()
        run_import.enqueue(str(job.pk))
    return job


@task()
def run_import(job_id: str) -> str:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.finished:
        return job.status
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    try:
        # The stored file keeps the uploaded suffix, which selects the reader.
        result = import_file(
            Path(job.file.path),
            actor=job.created_by,
            progress_factory=lambda phase, total: _Bar(job.pk, phase, total),
        )
    except ImportFailed as exc:
        job.status = ImportJob.Status.FAILED
        job.error_count = len(exc.errors)
        job.errors = [str(p) for p in exc.errors[:MAX_STORED_ERRORS]]
    except Exception as exc:  # the page must end, whatever went wrong
        job.status = ImportJob.Status.FAILED
        job.error_count = 1
        job.errors = [f"{type(exc).__name__}: {exc}"]
    else:
        job.status = ImportJob.Status.DONE
        job.result = {
            "records": result.records,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error_count", "errors", "result", "finished_at"])
    return job.status
