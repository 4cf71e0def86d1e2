"""docker-compose.yml declares the production services and parses with the compose client."""

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.services import require

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_declares_the_production_services():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert "gunicorn config.wsgi" in command_of(services["web"])
    assert "migrate" in command_of(services["web"])
    assert "celery -A config worker" in command_of(services["worker"])
    assert "celery -A config beat" in command_of(services["beat"])
    assert services["beat"]["deploy"]["replicas"] == 1


def test_every_service_restarts_and_the_long_lived_ones_have_healthchecks():
    services = compose()["services"]
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_app_services_read_env_and_data_lives_in_volumes():
    data = compose()
    for name in ("web", "worker", "beat"):
        assert data["services"][name]["env_file"] == ".env"
        assert data["services"][name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(data["volumes"]) == {"postgres-data", "redis-data"}


def test_the_compose_client_parses_it(tmp_path):
    docker = shutil.which("docker")
    v2 = docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    legacy = shutil.which("docker-compose")
    require(bool(v2 or legacy), "needs a compose client: `docker compose` or `docker-compose`")
    # The client insists the env_file exists: give it the documented example.
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    cmd = [docker, "compose"] if v2 else [legacy]
    result = subprocess.run([*cmd, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "gunicorn config.wsgi" in result.stdout
