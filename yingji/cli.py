"""The `yingji` command: Django's manage.py under the project's name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    from django.core.management import execute_from_command_line

    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        sys.argv[1] = sys.argv[1].replace("-", "_")  # `yingji cap-import` runs cap_import
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
