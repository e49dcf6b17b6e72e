"""`make audit`: the locked dependencies against the package index's advisories (pip-audit), failing on a fixable one.

pip-audit reads the lock files as they are (exact pins, `--no-deps`, no pip needed) and asks
PyPI's JSON API for each pinned version's known vulnerabilities (`--vulnerability-service
pypi`: only the package index is contacted). It reports a dependency it could not check as
skipped and still exits 0; here a skipped dependency fails the audit, since "nothing found"
about a package never looked at proves nothing. A vulnerability with a fixed version fails
it; one without a fix yet is printed, and does not.

    python -m lib.dependency_audit requirements.lock requirements-dev.lock
"""

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an audit found: the dependencies checked, and the lines that fail it or are only worth knowing."""

    checked: int
    fixable: list[str] = field(default_factory=list)
    unfixed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.fixable and not self.skipped

    def summary(self) -> str:
        return (
            f"audit: {self.checked} locked dependencies checked against PyPI's advisories, "
            f"{len(self.fixable)} fixable vulnerabilities, {len(self.unfixed)} without a fix yet, "
            f"{len(self.skipped)} not checked"
        )


def audit_verdict(report: dict[str, Any]) -> Verdict:
    """Judge pip-audit's JSON report (`pip-audit -f json`)."""
    checked, fixable, unfixed, skipped = 0, [], [], []
    for dependency in report.get("dependencies", []):
        name = dependency["name"]
        if "skip_reason" in dependency:
            skipped.append(f"{name}: {dependency['skip_reason']}")
            continue
        checked += 1
        for vuln in dependency.get("vulns", []):
            aliases = f" ({', '.join(vuln['aliases'])})" if vuln.get("aliases") else ""
            line = f"{name} {dependency['version']}: {vuln['id']}{aliases}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line}, fixed in {', '.join(vuln['fix_versions'])}")
            else:
                unfixed.append(f"{line}, no fixed version yet")
    return Verdict(checked=checked, fixable=fixable, unfixed=unfixed, skipped=skipped)


def main(lock_files: list[str]) -> int:
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "--vulnerability-service", "pypi", "--no-deps", "--disable-pip"]
        command += ["--progress-spinner", "off", "--format", "json", "--output", str(out)]
        for lock in lock_files:
            command += ["--requirement", lock]
        # pip-audit exits 1 on any vulnerability, fixable or not: the verdict below decides instead.
        run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if not out.exists():
            print(f"audit: pip-audit did not run: {run.stderr.strip()}", file=sys.stderr)
            return 2
        verdict = audit_verdict(json.loads(out.read_text()))
    for line in verdict.fixable:
        print(f"FIXABLE {line}")
    for line in verdict.unfixed:
        print(f"unfixed {line}")
    for line in verdict.skipped:
        print(f"NOT CHECKED {line}")
    print(verdict.summary())
    if verdict.skipped:
        print(
            "audit: FAILED: some dependencies could not be checked (is https://pypi.org/pypi/<name>/<version>/json "
            "reachable from here?)"
        )
    elif verdict.fixable:
        print("audit: FAILED: upgrade the dependencies above to a fixed version and regenerate the lock files")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.lock", "requirements-dev.lock"]))
