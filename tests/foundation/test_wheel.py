"""The wheel holds the app and the GP agent, nothing of development, and an install of it runs.

Built offline from a copy of the checkout (so no earlier `build/` can leak into it) with the setuptools of
this virtualenv, as `pip wheel --no-build-isolation --no-index` does it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("gpbill_site", "connectors", "audit", "mappings")
DEVELOPMENT_ONLY = ("sandbox/", "bench/", "tests/", "connectors/devtools/")
NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".grimp_cache"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--wheel-dir", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = (work / "dist").glob("ml_connector-*.whl")
    return built


@pytest.fixture(scope="module")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def checkout_files(folder: str, pattern: str) -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob(pattern) if p.is_file())


def test_nothing_of_development_is_in_the_wheel(names):
    shipped = sorted(n for n in names if n.startswith(DEVELOPMENT_ONLY))
    assert not shipped, f"development-only files in the wheel: {shipped[:10]}"
    for module in ("demo.py", "agreement.py", "run_sandbox.py", "sandboxes.py"):
        assert not [n for n in names if n.endswith("/" + module)], f"{module} is in the wheel"
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == set(APP_PACKAGES)


def test_every_package_of_the_app_is_in_the_wheel(names):
    """pyproject.toml lists the packages: a new one missing from the list fails here."""
    for package in APP_PACKAGES:
        for init in checkout_files(package, "__init__.py"):
            if not init.startswith("connectors/devtools/"):
                assert init in names, f"{init.rsplit('/', 1)[0]} is missing from [tool.setuptools] packages"


def test_migrations_templates_and_static_files_are_in_the_wheel(names):
    for package in ("connectors", "audit", "mappings"):
        migrations = checkout_files(f"{package}/migrations", "*.py")
        assert len(migrations) > 1 and set(migrations) <= names
    templates = checkout_files("templates", "*")
    assert "templates/ml/dashboard.html" in templates
    missing = [t for t in templates if "gpbill_site/" + t not in names]
    assert not missing, f"templates not in the wheel as gpbill_site/templates/…: {missing}"
    static = checkout_files("audit/static", "*")
    assert static and set(static) <= names


def test_the_gp_agent_and_its_command_are_in_the_wheel(wheel, names):
    assert {"connectors/agent_client/__main__.py", "connectors/agent_client/worker.py"} <= names
    with zipfile.ZipFile(wheel) as archive:
        info = {n.split("/", 1)[1]: archive.read(n).decode() for n in names if ".dist-info/" in n}
    assert "mlc-agent = connectors.agent_client.__main__:main" in info["entry_points.txt"]
    assert "Provides-Extra: agent" in info["METADATA"]


def test_an_installed_app_finds_its_templates_and_static_files_and_has_no_development_commands(
    wheel, tmp_path
):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site)]
        + [str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    probe = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.contrib.staticfiles import finders\n"
        "from django.core.management import call_command, get_commands\n"
        "from django.template.loader import get_template\n"
        "import gpbill_site\n"
        "call_command('check')\n"
        "print(json.dumps({\n"
        "  'package': gpbill_site.__file__,\n"
        "  'templates': [get_template(n).origin.name for n in ('ml/dashboard.html', 'admin/index.html')],\n"
        "  'static': finders.find('ml/screens.css'),\n"
        "  'devtools': 'connectors.devtools' in settings.INSTALLED_APPS,\n"
        "  'commands': sorted(set(get_commands()) & {'demo', 'run_sandbox', 'sync', 'replay'}),\n"
        "}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")}
    env.update(
        # The dependencies from this virtualenv, without its .pth files (`-S`): its editable install of the
        # checkout would otherwise answer for any module the installed copy lacks.
        PYTHONPATH=os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]]),
        DJANGO_SETTINGS_MODULE="gpbill_site.settings",
        VAR_DIR=str(tmp_path / "var"),
        ENV_FILE=str(tmp_path / "no-such.env"),
    )
    # Run away from the checkout: only the installed copy can be imported.
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["package"].startswith(str(site))
    assert all(name.startswith(str(site / "gpbill_site" / "templates")) for name in found["templates"])
    assert found["static"] and found["static"].startswith(str(site / "audit" / "static"))
    assert found["devtools"] is False
    assert found["commands"] == ["replay", "sync"]
