import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve on one machine: the web server and the worker side by side (for small sites)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("addr", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, **opts) -> None:
        self.stdout.write(f"Serving on http://{opts['addr']}/ with a worker (Ctrl-C stops both)")
        worker = subprocess.Popen([sys.executable, "-m", "yingji.cli", "worker"])
        try:
            call_command("runserver", opts["addr"], use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
