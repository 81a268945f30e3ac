"""docs/traceability.md stays true: every id is one the standard has, every code name and test exists.

The known ids below were copied from the standards themselves (OWASP ASVS 5.0.0, as published in
the OWASP repositories; RFC 8725's table of contents), each with its subject, so that a typo or an
id from an older ASVS (4.0 numbered sessions V3, 5.0 numbers them V7) is caught.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "traceability.md"
SOURCE = ROOT / "src" / "authcourse"
TESTS = ROOT / "tests"

ASVS_5 = {
    "V3.3.2": "cookie SameSite set according to its purpose",
    "V3.3.4": "HttpOnly for cookies not meant for client-side scripts",
    "V3.4.2": "CORS Access-Control-Allow-Origin fixed, or Origin validated against an allowlist",
    "V3.5.1": "cross-origin requests to sensitive functionality validated as coming from the application",
    "V3.5.2": "a CORS preflight relied upon only if no simple request can reach the functionality",
    "V3.5.3": "sensitive functionality not on safe methods, or strict Sec-Fetch-* validation",
    "V6.2.1": "user-set passwords at least 8 characters",
    "V6.2.3": "password change requires the current and the new password",
    "V6.3.8": "valid users cannot be deduced from failed authentication",
    "V7.2.1": "session token verification in a trusted backend service",
    "V7.2.3": "reference tokens unique, from a CSPRNG, at least 128 bits",
    "V7.2.4": "a new session token on authentication, the current one terminated",
    "V7.3.1": "inactivity timeout",
    "V7.3.2": "absolute maximum session lifetime",
    "V7.4.1": "termination disallows any further use of the session",
    "V7.4.3": "option to terminate all other sessions after an authentication factor changes",
    "V7.5.1": "full re-authentication before changing sensitive account attributes (email...)",
    "V7.5.2": "users view and (authenticated again) terminate any or all active sessions",
    "V7.5.3": "further authentication before highly sensitive operations",
    "V9.1.1": "self-contained tokens validated by signature or MAC before use",
    "V9.1.2": "allowlist of algorithms, never 'none', key confusion prevented",
    "V9.1.3": "key material from trusted pre-configured sources (jku, x5u, jwk)",
    "V9.2.1": "validity time span (nbf, exp) verified",
    "V9.2.2": "token of the correct type for its purpose",
    "V9.2.3": "only tokens intended for this service (aud)",
    "V9.2.4": "audience restriction when one key issues to several audiences",
    "V10.4.5": "refresh token replay mitigated: rotation, family revoked on reuse",
    "V10.4.8": "refresh tokens have an absolute expiration",
    "V11.1.1": "key management policy and lifecycle; keys not overshared (a private key: one entity)",
    "V11.2.4": "constant-time cryptographic operations",
    "V11.4.2": "passwords stored with an approved, computationally intensive KDF",
    "V11.5.1": "random values from a CSPRNG with at least 128 bits of entropy",
    "V11.6.1": "approved algorithms for key generation and digital signatures, no insecure keys",
    "V13.3.4": "secrets configured to expire and be rotated",
    "V15.4.2": "check and action as a single atomic operation (TOCTOU)",
    "V16.5.1": "generic message on unexpected or security-sensitive errors",
    "V16.5.3": "fails gracefully and securely, no fail-open",
}
RFC_8725 = {
    "2.1": "Weak Signatures and Insufficient Signature Validation",
    "2.2": "Weak Symmetric Keys",
    "2.3": "Incorrect Composition of Encryption and Signature",
    "2.4": "Plaintext Leakage through Analysis of Ciphertext Length",
    "2.5": "Insecure Use of Elliptic Curve Encryption",
    "2.6": "Multiplicity of JSON Encodings",
    "2.7": "Substitution Attacks",
    "2.8": "Cross-JWT Confusion",
    "2.9": "Indirect Attacks on the Server",
    "3.1": "Perform Algorithm Verification",
    "3.2": "Use Appropriate Algorithms",
    "3.3": "Validate All Cryptographic Operations",
    "3.4": "Validate Cryptographic Inputs",
    "3.5": "Ensure Cryptographic Keys Have Sufficient Entropy",
    "3.6": "Avoid Compression of Encryption Inputs",
    "3.7": "Use UTF-8",
    "3.8": "Validate Issuer and Subject",
    "3.9": "Use and Validate Audience",
    "3.10": "Do Not Trust Received Claims",
    "3.11": "Use Explicit Typing",
    "3.12": "Use Mutually Exclusive Validation Rules for Different Kinds of JWTs",
}
ASVS_ID = re.compile(r"^V([1-9]|1[0-7])\.[1-9]\d?\.[1-9]\d?$")  # ASVS 5.0 has chapters V1 to V17
STANDARD_CELL = re.compile(r"^(?:ASVS (V[\d.]+(?:, V[\d.]+)*))?(?:,? ?RFC 8725 (§[\d.]+(?:, §[\d.]+)*))?$")
CODE_NAME = re.compile(r"^([a-z_]+(?:/[a-z_]+)?\.py):([A-Za-z_][\w.]*)$")
TEST_NAME = re.compile(r"^(test_[a-z_]+\.py)::(test_\w+)$")


@dataclass
class Row:
    requirement: str
    asvs: list[str]
    rfc8725: list[str]
    code: list[str]
    tests: list[str]


def parse(text: str) -> list[Row]:
    rows = []
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines and lines[0].startswith("| requirement | standard | code | tests |"), "the table's header changed"
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, f"a row needs 5 cells: {line}"
        match = STANDARD_CELL.match(cells[1])
        assert match and cells[1], f"standard cell not understood: {cells[1]!r}"
        asvs = match.group(1).split(", ") if match.group(1) else []
        sections = [section.lstrip("§") for section in match.group(2).split(", ")] if match.group(2) else []
        rows.append(Row(cells[0], asvs, sections, re.findall(r"`([^`]+)`", cells[2]), re.findall(r"`([^`]+)`", cells[3])))
    return rows


def defined_names(path: Path) -> dict[str, set[str]]:
    """Top-level names of a module, each with the names defined in its body (methods of a class)."""
    names: dict[str, set[str]] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = {child.name for child in node.body if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    names[target.id] = set()
    return names


def problems_of(rows: list[Row]) -> list[str]:
    found = []
    for row in rows:
        where = row.requirement[:50]
        if not (row.asvs or row.rfc8725):
            found.append(f"{where}: no standard id")
        for identifier in row.asvs:
            if not ASVS_ID.match(identifier):
                found.append(f"{where}: {identifier} is not an ASVS 5.0 id")
            elif identifier not in ASVS_5:
                found.append(f"{where}: {identifier} is not among the ASVS 5.0 ids checked against the standard")
        for section in row.rfc8725:
            if section not in RFC_8725:
                found.append(f"{where}: RFC 8725 has no section {section}")
        if not row.code or not row.tests:
            found.append(f"{where}: no code or no test")
        for name in row.code:
            match = CODE_NAME.match(name)
            if not match or not (SOURCE / match.group(1)).exists():
                found.append(f"{where}: no module for {name}")
                continue
            top, _, member = match.group(2).partition(".")
            names = defined_names(SOURCE / match.group(1))
            if top not in names or (member and member not in names[top]):
                found.append(f"{where}: {name} is not defined")
        for name in row.tests:
            match = TEST_NAME.match(name)
            if not match or not (TESTS / match.group(1)).exists():
                found.append(f"{where}: no test file for {name}")
            elif match.group(2) not in defined_names(TESTS / match.group(1)):
                found.append(f"{where}: {name} is not a test pytest collects")
    return found


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return parse(PAGE.read_text(encoding="utf-8"))


def test_the_table_lists_the_requirements(rows):
    assert len(rows) >= 20
    assert {"V7.2.4", "V9.1.2", "V10.4.5"} <= {identifier for row in rows for identifier in row.asvs}
    assert {"3.1", "3.9", "3.10"} <= {section for row in rows for section in row.rfc8725}


def test_every_id_is_well_formed_and_real_every_code_name_and_test_exists(rows):
    assert problems_of(rows) == []


def test_every_listed_test_is_collected_by_pytest(rows):
    listed = {name for row in rows for name in row.tests}
    files = sorted({name.split("::")[0] for name in listed})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *(f"tests/{file}" for file in files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    collected = {line.split("[")[0].removeprefix("tests/") for line in result.stdout.splitlines() if "::" in line}
    assert listed - collected == set(), result.stdout[-2000:]


@pytest.mark.parametrize(
    "row, problem",
    [
        ("| r | ASVS V3.2.1 | `tokens.py:load_secret` | `test_tokens.py::test_a_secret_under_32_bytes_is_refused` | — |", "checked against"),
        ("| r | ASVS V18.1.1 | `tokens.py:load_secret` | `test_tokens.py::test_a_secret_under_32_bytes_is_refused` | — |", "not an ASVS 5.0 id"),
        ("| r | RFC 8725 §3.13 | `tokens.py:load_secret` | `test_tokens.py::test_a_secret_under_32_bytes_is_refused` | — |", "no section 3.13"),
        ("| r | RFC 8725 §3.5 | `tokens.py:load_secrets` | `test_tokens.py::test_a_secret_under_32_bytes_is_refused` | — |", "not defined"),
        ("| r | RFC 8725 §3.5 | `tokens.py:TokenService.decode` | `test_tokens.py::test_a_secret_under_32_bytes_is_refused` | — |", "not defined"),
        ("| r | RFC 8725 §3.5 | `tokens.py:load_secret` | `test_tokens.py::test_a_secret_is_strong` | — |", "not a test"),
        ("| r | RFC 8725 §3.5 | `tokens.py:load_secret` | `test_nothing.py::test_x` | — |", "no test file"),
    ],
    ids=["asvs-4-id", "no-chapter-18", "no-section", "no-function", "no-method", "no-test", "no-file"],
)
def test_the_checker_catches_a_wrong_row(row, problem):
    header = "| requirement | standard | code | tests | chapter |\n|---|---|---|---|---|\n"
    problems = problems_of(parse(header + row))
    assert any(problem in found for found in problems), problems
