"""Project-level promises: prod refuses to run half-configured (the schema: tests/test_docs.py)."""

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert settings.CHANNEL_LAYER_BACKENDS["pubsub"] == "realtime.layers.RedisPubSubChannelLayer"
    cache.set("probe", 1)
    assert cache.get("probe") == 1


@pytest.mark.parametrize(
    ("env", "threads"),
    [({}, 4), ({"HTTP_FETCH_THREADS": "6"}, 6), ({"MEDIA_SERVE_THREADS": "3"}, 3)],
)
def test_a_worker_reads_its_fetch_threads_under_either_name(env, threads):
    # MEDIA_SERVE_THREADS was renamed HTTP_FETCH_THREADS; a deployment that set the old name keeps its figure.
    # Both start empty (unset, as far as the settings read them), whatever this process was given.
    unset = {"HTTP_FETCH_THREADS": "", "MEDIA_SERVE_THREADS": ""}
    code = "from django.conf import settings; print(settings.HTTP_FETCH_THREADS)"
    result = manage("shell", "--no-imports", "-c", code, env={**unset, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(threads)


# Dependencies ----------------------------------------------------------------------------

APPS = ("accounts", "articles", "chat", "common", "config", "media", "microblog", "realtime", "search")
# Run only to build benchmark databases, with requirements-bench.txt installed (tqdm).
BENCH_ONLY = ("microblog/management/commands/seed_bench.py",)


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (extras dropped, names normalised)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def third_party_imports(*paths: str, skip: tuple[str, ...] = BENCH_ONLY) -> set[str]:
    first_party = {*APPS, "tests", "bench", "harness", "deploy"}
    names = set()
    for path in paths:
        sources = [ROOT / path] if path.endswith(".py") else (ROOT / path).rglob("*.py")
        for source in sources:
            if str(source.relative_to(ROOT)) in skip:
                continue
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names - first_party - set(sys.stdlib_module_names) - {"__future__"}


def distributions_of(modules: set[str]) -> set[str]:
    owners = importlib.metadata.packages_distributions()
    # A module not installed here (the bench tools, say) is taken to be its distribution's name.
    return {re.sub(r"[-_.]+", "-", owners.get(module, [module])[0]).lower() for module in modules}


def test_what_the_code_imports_is_pinned_directly():
    """A package the code imports is named in a .in file, not left to arrive as someone's dependency."""
    runtime = pins(ROOT / "requirements.in")
    dev = runtime | pins(ROOT / "requirements-dev.in")
    bench = dev | pins(ROOT / "requirements-bench.in")
    assert distributions_of(third_party_imports(*APPS)) - set(runtime) == set()
    assert distributions_of(third_party_imports("tests")) - set(dev) == set()
    assert distributions_of(third_party_imports(*BENCH_ONLY, skip=())) - set(bench) == set()


@pytest.mark.parametrize("name", ["requirements", "requirements-dev", "requirements-bench"])
def test_each_lock_holds_its_pins_with_hashes(name):
    direct, locked = pins(ROOT / f"{name}.in"), pins(ROOT / f"{name}.txt")
    assert {package: locked.get(package) for package in direct} == direct, "run `make lock`"
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / f"{name}.txt").read_text().split("\n\n# The following")[0])
    unhashed = [entry.split()[0] for entry in entries if "==" in entry and "--hash=sha256:" not in entry]
    assert unhashed == []
    below = {"requirements-dev": "requirements", "requirements-bench": "requirements-dev"}.get(name)
    if below:  # the versions of the file below are held
        held = pins(ROOT / f"{below}.txt")
        assert {package: locked[package] for package in held} == held


def test_django_axes_is_gone():
    assert "django-axes" not in pins(ROOT / "requirements.txt")
