"""Read a program file: TOML syntax, then the schema, then the cross-key checks.

Every problem becomes a `ProgramIssue` with its line (when it can be found), the key, French and
English text and a fix; `load_program` raises one `ProgramError` listing all of them.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

from pydantic import ValidationError

from hub.program.checks import cross_check
from hub.program.errors import ProgramError, ProgramIssue, explain, format_loc
from hub.program.locator import Locator
from hub.program.rules import Program
from hub.program.schema import ProgramFile

__all__ = ["ProgramError", "ProgramIssue", "demo_program_text", "load_program"]

_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def _syntax_issue(exc: tomllib.TOMLDecodeError, text: str) -> ProgramIssue:
    message = str(exc)
    match = _POSITION.search(message)
    line = int(match.group(1)) if match else (text.count("\n") + 1 if "end of document" in message else None)
    detail = _POSITION.sub("", message).replace("(at end of document)", "").strip()
    return ProgramIssue(
        line=line,
        key="",
        fr=f"erreur de syntaxe TOML ({detail})",
        en=f"TOML syntax error ({detail})",
        fix_fr="vérifiez les guillemets, les crochets, les virgules et le signe = de cette ligne",
        fix_en="check the quotes, brackets, commas and the = sign on this line",
    )


def load_program(text: str, source: str = "program.toml") -> Program:
    """Validate a program file's text and build the `Program`; raises `ProgramError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError([_syntax_issue(exc, text)], source) from None
    locator = Locator(text)
    try:
        cfg = ProgramFile.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc, fr, en, fix_fr, fix_en = explain(dict(error))
            issues.append(ProgramIssue(locator.line(loc), format_loc(loc), fr, en, fix_fr, fix_en))
        raise ProgramError(_sorted(issues), source) from None
    findings = cross_check(cfg)
    if findings:
        issues = [
            ProgramIssue(locator.line(f.loc), format_loc(f.loc), f.fr, f.en, f.fix_fr, f.fix_en)
            for f in findings
        ]
        raise ProgramError(_sorted(issues), source)
    return Program(text, cfg)


def _sorted(issues: list[ProgramIssue]) -> list[ProgramIssue]:
    return sorted(issues, key=lambda i: (i.line is not None, i.line or 0))


def demo_program_text() -> str:
    """The default program `fidelio-hub init` installs."""
    return resources.files("hub.program").joinpath("demo.toml").read_text(encoding="utf-8")
