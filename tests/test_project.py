"""Project-level promises: the schema is clean, prod refuses to run half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "SECRET_KEY": "Yq8#vP2m!rT6zL0wK4nC9xB7sD3fG5hJ1aE8uI2oQ6yR0tW4-pZ7eM3vN1cX5",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "tandem.example",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    inherited = {*PROD_ENV, "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


@pytest.mark.parametrize("missing", sorted(PROD_ENV))
def test_prod_settings_refuse_to_start_without(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = manage("check", "--settings=config.settings.prod", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_prod_deploy_check_is_clean():
    result = manage("check", "--deploy", "--fail-level", "WARNING", "--settings=config.settings.prod", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scale_out_settings_follow_the_environment(settings):
    from tests.conftest import skip_or_fail

    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        skip_or_fail("DATABASE_URL and REDIS_URL are not set", "REQUIRE_SERVICES")
    from django.core.cache import cache
    from django.db import connection

    assert connection.vendor == "postgresql"
    layer = os.environ.get("CHANNEL_LAYER", "pubsub")  # pubsub unless chosen otherwise
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == settings.CHANNEL_LAYER_BACKENDS[layer]
    assert settings.CHANNEL_LAYER_BACKENDS["pubsub"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    cache.set("probe", 1)
    assert cache.get("probe") == 1
