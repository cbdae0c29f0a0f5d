"""The wheel: built from the source tree, installed non-editable, run from another directory."""

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

from tests.conftest import FIXTURE_KNOWLEDGE

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """careerbot's wheel, built offline from a copy of the source tree."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("bot", "prompts"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    # No build isolation: setuptools is pinned in the dev extra, so the build needs no network.
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(src),
        ]
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = (root / "dist").glob("careerbot-*.whl")
    return found


def test_the_wheel_ships_every_module_and_the_prompts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "bot").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    # A module or data file (e.g. a migration template) missing here is missing at run time.
    assert source - names == set(), "files missing from the wheel (add package/package-data)"
    prompts = {f"bot/_prompts/{p.name}" for p in (REPO / "prompts").glob("*.md")}
    assert prompts and prompts <= names


def test_a_non_editable_install_answers_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    # A fresh virtualenv holds only the wheel; the dependencies are the test venv's, reached
    # through a .pth line. A .pth path is not a site dir, so the editable install's own .pth
    # (which would put the checkout on sys.path) is not processed: `bot` can only come from
    # the wheel. Installing ~100 dependencies afresh would take minutes for no extra truth.
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Neither the install nor the runs below see the checkout on PYTHONPATH: a
    # `careerbot.egg-info` left there by a local build would read as careerbot installed
    # already, and pip would skip the wheel.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CAREERBOT_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        env=env,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(FIXTURE_KNOWLEDGE, elsewhere / "knowledge")
    env.update(CAREERBOT_DATA_DIR=str(elsewhere / "data"))
    careerbot = str(venv / "bin" / "careerbot")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return _run([careerbot, *args], cwd=elsewhere, env=env)

    where = _run(
        [str(python), "-c", "import bot.prompts as p; print(p.__file__, p.default_prompts_dir())"],
        cwd=elsewhere,
        env=env,
    )
    module, prompts = where.stdout.split()
    assert Path(module).is_relative_to(purelib), where.stdout
    assert Path(prompts) == purelib / "bot" / "_prompts"

    ingest = run("ingest")
    assert ingest.returncode == 0, ingest.stderr
    doctor = run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"prompts: all templates valid in {prompts}" in doctor.stdout

    asked = run("ask", "--json", "How should I find my personal fit for AI safety work?")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout.strip().splitlines()[-1])
    assert answer["covered"] is True and answer["citations"]
