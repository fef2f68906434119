"""scripts/setup as scripts/serve and scripts/test use it: serving never touches apt (it works
while apt is locked), pip runs only when pyproject.toml changed, and the browser belongs to the
test set-up. Run in a scratch copy with a recording stand-in for the venv's python and apt."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'


def scratch(tmp_path: Path, apt_exit: int = 100) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "repo"
    (work / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup", work / "scripts" / "setup")
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("apt-get",):  # 100: a locked apt, every call fails
        (fake_bin / name).write_text(RECORDER + f"exit {apt_exit}\n")
        (fake_bin / name).chmod(0o755)
    venv_bin = work / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text(RECORDER)
    (venv_bin / "python").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake_bin}:/usr/bin:/bin", CALLS=str(tmp_path / "calls"))
    return work, env


def run(work: Path, env: dict[str, str], *args: str) -> list[str]:
    calls = Path(env["CALLS"])
    calls.unlink(missing_ok=True)
    done = subprocess.run(["bash", "scripts/setup", *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def test_serving_setup_never_calls_apt_and_skips_pip_when_nothing_changed(tmp_path) -> None:
    work, env = scratch(tmp_path)
    first = run(work, env)
    assert first == ["python -m pip install -q -e ."]  # no apt, no browser, no dev tools
    assert run(work, env) == []  # nothing changed: no pip at all
    with (work / "pyproject.toml").open("a") as handle:
        handle.write("\n# changed\n")
    assert run(work, env) == ["python -m pip install -q -e ."]


def test_test_setup_installs_the_dev_tools_once_and_serving_reuses_them(tmp_path) -> None:
    work, env = scratch(tmp_path, apt_exit=0)  # whatever Debian packages are missing install
    dev = run(work, env, "--dev")
    assert 'python -m pip install -q -e .[dev]' in dev
    assert run(work, env, "--dev") == []
    assert run(work, env) == []  # the dev set-up holds what serving needs
