"""The container engine the image tests drive: Docker when an engine answers, else Podman.

Every command that fails stops the test with the command, its exit status and its output, and
every container and volume a run makes carries the run's label, so the run removes them all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LABEL = "gridboard-image-test"
GUARD_SECONDS = 180  # a wait that ends sooner on success; a guard against hanging, not a timing
# Podman's default runtime and cgroup manager need systemd and nested cgroups that CI machines
# (containers themselves) often lack; runc with plain cgroupfs runs anywhere as root.
PODMAN_OPTIONS = ("--runtime", "runc", "--cgroup-manager", "cgroupfs")


def pick_engine() -> str:
    """GRIDBOARD_ENGINE, else docker when its engine answers (`docker info`), else podman."""
    chosen = os.environ.get("GRIDBOARD_ENGINE", "")
    if chosen:
        return chosen
    if shutil.which("docker"):
        answered = subprocess.run(["docker", "info"], capture_output=True, check=False)
        if answered.returncode == 0:
            return "docker"
    return "podman"


def _shown(result: subprocess.CompletedProcess[str]) -> str:
    return f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"


@dataclass(frozen=True)
class Engine:
    program: str  # docker or podman
    image: str
    run_id: str

    def argv(self, *args: str) -> list[str]:
        options = PODMAN_OPTIONS if self.program == "podman" else ()
        return [self.program, *options, *args]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.program == "podman":  # the defaults ask for limits CI machines do not permit
            env.setdefault("CONTAINERS_CONF", str(HERE / "containers.conf"))
        return env

    def run(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = GUARD_SECONDS,
    ) -> subprocess.CompletedProcess[str]:
        command = self.argv(*args)
        result = subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` exited with {result.returncode}\n{_shown(result)}")
        return result

    def image_run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A throwaway container of the image: ``run --rm ... IMAGE args``."""
        return self.run("run", "--rm", "--label", f"{LABEL}={self.run_id}", *args, check=check)

    def volume(self, role: str) -> str:
        name = f"gridboard-it-{self.run_id}-{role}"
        self.run("volume", "create", "--label", f"{LABEL}={self.run_id}", name)
        return name

    def start(
        self, role: str, options: Sequence[str] = (), command: Sequence[str] = ()
    ) -> Container:
        """A detached container named after ``role``, with ``options`` before the image."""
        name = f"gridboard-it-{self.run_id}-{role}"
        self.run(
            "run", "-d", "--name", name, "--label", f"{LABEL}={self.run_id}",
            *options, self.image, *command,
        )  # fmt: skip
        return Container(self, name)

    def remove_everything(self) -> None:
        """Every container and volume of this run, running or not."""
        found = self.run("ps", "-a", "-q", "--filter", f"label={LABEL}={self.run_id}")
        if ids := found.stdout.split():
            self.run("rm", "-f", "-v", *ids, check=False)  # -v: their anonymous volumes too
        volumes = self.run("volume", "ls", "-q", "--filter", f"label={LABEL}={self.run_id}")
        if names := volumes.stdout.split():
            self.run("volume", "rm", "-f", *names, check=False)

    def containers(self) -> list[Container]:
        found = self.run(
            "ps", "-a", "--format", "{{.Names}}", "--filter", f"label={LABEL}={self.run_id}"
        )
        return [Container(self, name) for name in found.stdout.split()]


@dataclass(frozen=True)
class Container:
    engine: Engine
    name: str

    def exec(
        self, *command: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        interactive = ("-i",) if input is not None else ()
        return self.engine.run("exec", *interactive, self.name, *command, input=input, check=check)

    def inspect(self, template: str) -> str:
        return self.engine.run("inspect", "--format", template, self.name).stdout.strip()

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def logs(self) -> str:
        result = self.engine.run("logs", self.name, check=False)
        return result.stdout + result.stderr

    def stop(self, grace_seconds: int) -> tuple[int, float]:
        """``stop`` (SIGTERM, then SIGKILL after ``grace_seconds``): exit status, seconds taken."""
        started = time.monotonic()
        self.engine.run("stop", "-t", str(grace_seconds), self.name, timeout=grace_seconds + 60)
        took = time.monotonic() - started
        return int(self.inspect("{{.State.ExitCode}}")), took

    def wait_for_http(self, url: str, *, ok_statuses: Sequence[int] = (200,)) -> None:
        """Until ``url`` answers with one of ``ok_statuses``; fails with the logs if the
        container stops or nothing answers within the guard."""
        deadline = time.monotonic() + GUARD_SECONDS
        while time.monotonic() < deadline:
            if not self.running():
                pytest.fail(f"{self.name} stopped before {url} answered:\n{self.logs()[-6000:]}")
            try:
                with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310 (localhost)
                    if answer.status in ok_statuses:
                        return
            except urllib.error.HTTPError as error:
                if error.code in ok_statuses:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"{url} did not answer within {GUARD_SECONDS} s:\n{self.logs()[-6000:]}")

    def wait_for_log(self, text: str) -> str:
        """Until the container's output holds ``text``; returns the output."""
        deadline = time.monotonic() + GUARD_SECONDS
        while time.monotonic() < deadline:
            output = self.logs()
            if text in output:
                return output
            time.sleep(0.3)
        pytest.fail(f"{self.name} never wrote {text!r}:\n{self.logs()[-6000:]}")
