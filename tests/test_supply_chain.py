"""The lock files cover pyproject.toml: every dependency (and the dev extra's) is pinned
exactly, with hashes, at a version its range allows; the image and `make install` install
from them with --require-hashes. `make lock` regenerates them."""

import re
import tomllib

import pytest
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = settings.BASE_DIR
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def locked(name: str) -> dict[str, tuple[Version, int]]:
    """Package -> (pinned version, number of hashes) of requirements/<name>.lock."""
    text = (ROOT / "requirements" / f"{name}.lock").read_text()
    pins = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", block)
        if match:
            package = canonicalize_name(match.group(1).split("[")[0])
            pins[package] = (Version(match.group(2)), block.count("--hash=sha256:"))
    return pins


def requirements(extra: str | None) -> list[Requirement]:
    listed = PYPROJECT["project"]["dependencies"]
    if extra:
        listed = listed + PYPROJECT["project"]["optional-dependencies"][extra]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(("lock", "extra"), [("base", None), ("dev", "dev")])
def test_the_lock_pins_every_dependency_of_pyproject_within_its_range(lock, extra):
    pins = locked(lock)
    for requirement in requirements(extra):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is missing from {lock}.lock: run make lock"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock}.lock pins {name}=={version}, outside {requirement}: run make lock"
        )
        assert hashes >= 1, f"{name} has no hash in {lock}.lock"


def test_every_locked_package_has_a_hash():
    for lock in ("base", "dev"):
        for name, (_, hashes) in locked(lock).items():
            assert hashes >= 1, f"{name} in {lock}.lock"


def test_the_base_lock_agrees_with_the_dev_lock():
    """The same version of each package in the image as in the tests."""
    dev = locked("dev")
    for name, (version, _) in locked("base").items():
        assert dev[name][0] == version, name


def test_the_image_and_make_install_install_from_the_locks():
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()

    assert "pip install --require-hashes -r requirements/base.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert "pip install --quiet --require-hashes -r requirements/dev.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile


def test_the_version_has_one_source_and_a_changelog_entry():
    import portal

    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "portal.__version__"}
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{portal.__version__}]" in changelog


def test_make_sboms_command_writes_a_cyclonedx_sbom_of_the_base_lock(tmp_path):
    """What `make sbom` runs: every locked package is a component, with its version."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    makefile = (ROOT / "Makefile").read_text()
    assert "cyclonedx-py requirements requirements/base.lock --output-format JSON" in makefile
    output = tmp_path / "sbom.cdx.json"
    result = subprocess.run(  # noqa: S603
        [
            str(Path(sys.executable).with_name("cyclonedx-py")),
            "requirements",
            str(ROOT / "requirements" / "base.lock"),
            "--output-format",
            "JSON",
            "--output-file",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    sbom = json.loads(output.read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    components = {canonicalize_name(c["name"]): c["version"] for c in sbom["components"]}
    assert {name: str(version) for name, (version, _) in locked("base").items()} == components
