"""`make audit`'s verdict on pip-audit's report: fixable fails, unfixed is shown, not checked fails."""

from typing import Any

from lib.dependency_audit import Verdict, audit_verdict


def dependency(name: str, version: str, *vulns: Any) -> dict[str, Any]:
    return {"name": name, "version": version, "vulns": list(vulns)}


def test_it_passes_a_lock_with_no_known_vulnerability() -> None:
    verdict = audit_verdict({"dependencies": [dependency("django", "5.2.19"), dependency("segno", "1.6.6")]})

    assert verdict == Verdict(checked=2)
    assert verdict.ok is True
    assert verdict.summary() == (
        "audit: 2 locked dependencies checked against PyPI's advisories, 0 fixable vulnerabilities, "
        "0 without a fix yet, 0 not checked"
    )


def test_it_fails_on_a_vulnerability_with_a_fixed_version() -> None:
    vuln = {"id": "PYSEC-2024-1", "aliases": ["CVE-2024-0001"], "fix_versions": ["5.2.20", "6.0.1"]}

    verdict = audit_verdict({"dependencies": [dependency("django", "5.2.19", vuln)]})

    assert verdict.fixable == ["django 5.2.19: PYSEC-2024-1 (CVE-2024-0001), fixed in 5.2.20, 6.0.1"]
    assert verdict.ok is False


def test_it_shows_but_does_not_fail_on_a_vulnerability_without_a_fix() -> None:
    vuln = {"id": "GHSA-xxxx", "aliases": [], "fix_versions": []}

    verdict = audit_verdict({"dependencies": [dependency("pillow", "13.0.0", vuln)]})

    assert verdict.unfixed == ["pillow 13.0.0: GHSA-xxxx, no fixed version yet"]
    assert verdict.ok is True


def test_it_fails_when_a_dependency_could_not_be_checked() -> None:
    # What pip-audit reports (and exits 0 on) when the index will not answer for a version.
    reason = "Dependency not found on PyPI and could not be audited: django (5.2.19)"

    verdict = audit_verdict({"dependencies": [{"name": "django", "skip_reason": reason}, dependency("segno", "1.6.6")]})

    assert verdict == Verdict(checked=1, skipped=[f"django: {reason}"])
    assert verdict.ok is False
