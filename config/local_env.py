"""The local settings file: the first `make run` writes `.env` (or ENV_FILE) from
`.env.example`, set for this machine, so every `python manage.py ...` of the README works
afterwards in the same checkout with nothing exported.

Standard library only: it runs before Django is configured. It never overwrites a file that
exists, and production stays strict (settings.py has no secret default when DEBUG is off).
"""

import os
import re
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# The example's production values that would break a laptop: DEBUG off, a public host name,
# an https SITE_URL (which turns on the SSL redirect and HSTS).
LOCAL_VALUES = {
    "DEBUG": "1",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": "http://127.0.0.1:8000",
}


def env_file() -> Path:
    """Where the settings file is: ENV_FILE when set, else `.env` beside manage.py."""
    return Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env")


def local_env_text(example: str, secret_key: str) -> str:
    """The example with the local values and a fresh secret key in place of its own lines."""
    values = {**LOCAL_VALUES, "SECRET_KEY": secret_key}
    for name, value in values.items():
        line = re.compile(rf"^#?\s*{name}=.*$", re.MULTILINE)
        if line.search(example):
            example = line.sub(f"{name}={value}", example, count=1)
        else:
            example += f"\n{name}={value}\n"
    header = "# Written by the first `make run` for local use (DEBUG on). Never deploy with it.\n"
    return header + example


def write_local_env(path: Path, example: Path) -> bool:
    """Write `path` from `example` unless it exists. True if it was written."""
    if path.exists():
        return False
    text = local_env_text(example.read_text(), secrets.token_urlsafe(50))
    # Exclusive create: two `make run` at once cannot both write, nor overwrite each other.
    with path.open("x") as file:
        file.write(text)
    path.chmod(0o600)  # it holds the secret key
    return True


def main() -> None:
    path = env_file()
    try:
        written = write_local_env(path, BASE_DIR / ".env.example")
    except FileExistsError:
        written = False
    if written:
        print(f"Wrote {path} for local use (DEBUG=1, a new SECRET_KEY); edit it to change settings.")
    else:
        print(f"Using the settings in {path} (left as it is).", file=sys.stderr)


if __name__ == "__main__":
    main()
