"""Every import of the project's own modules inside a function says why it is there.

An import hidden in a function is how a layer violation or an import cycle goes unseen (import-linter
still sees it, a reader does not). Each one must either move to the module top or carry a comment on the
same line or the line directly above giving the reason: "# after django.setup()", "# cycle: audit.jobs
imports this module", "# lazy: the agent must run without Django", … A run of consecutive imports may
share the comment above the first one. "# noqa" and other tool pragmas are not a reason.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("connectors", "audit", "mappings", "gpbill_site", "sandbox", "bench")
SKIPPED_DIRS = {"migrations", "tests", "__pycache__"}

# Tool pragmas: a comment made only of these gives no reason.
_PRAGMA = re.compile(r"^(noqa\b.*|type:\s*ignore\b.*|pragma\b.*|fmt:\s*\w+|isort:\s*\w+|pylint:.*)$", re.I)


def source_files() -> Iterator[Path]:
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                continue
            yield path


def is_own_module(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return True
        names = [node.module or ""]
    else:
        names = [alias.name for alias in node.names]
    return any(name.split(".")[0] in PROJECT_PACKAGES for name in names)


def reasons_by_line(source: str) -> tuple[dict[int, str], set[int]]:
    """The comment giving a reason on each line, and the lines holding nothing but a comment."""
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if len(re.findall(r"[A-Za-z]{2,}", text)) >= 2 and not _PRAGMA.match(text):
                comments[token.start[0]] = text
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(token.start[0])
    comment_only = {line for line in comments if line not in code_lines}
    return comments, comment_only


def inline_imports(tree: ast.AST) -> Iterator[list[ast.Import | ast.ImportFrom]]:
    """Each function's own-module imports, grouped in runs of consecutive import statements."""
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for block in ast.walk(function):
            for field in ("body", "orelse", "finalbody", "handlers"):
                statements = getattr(block, field, None)
                if not isinstance(statements, list):
                    continue
                run: list[ast.Import | ast.ImportFrom] = []
                for statement in statements:
                    if isinstance(statement, ast.Import | ast.ImportFrom) and is_own_module(statement):
                        if run and statement.lineno != (run[-1].end_lineno or run[-1].lineno) + 1:
                            yield run
                            run = []
                        run.append(statement)
                    else:
                        if run:
                            yield run
                        run = []
                if run:
                    yield run


def unexplained_imports(path: Path) -> set[int]:
    source = path.read_text()
    comments, comment_only = reasons_by_line(source)
    missing: set[int] = set()
    for run in inline_imports(ast.parse(source, str(path))):
        explained = run[0].lineno - 1 in comment_only
        for node in run:
            own_lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            explained = explained or any(line in comments for line in own_lines)
            if not explained:
                missing.add(node.lineno)
    return missing


def test_every_inline_import_of_the_project_says_why() -> None:
    unexplained = []
    for path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        unexplained += [f"{relative}:{line}" for line in sorted(unexplained_imports(path))]
    assert not unexplained, (
        f"{len(unexplained)} imports of the project's own modules inside a function have no comment saying "
        "why (move them to the module top, or say why on the same line or the line above):\n"
        + "\n".join(unexplained)
    )


def test_the_check_sees_a_bare_inline_import_and_accepts_a_reason(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text(
        "import os\n"
        "\n"
        "def bare():\n"
        "    from connectors.models import Tenant\n"
        "    from . import sibling  # noqa: PLC0415\n"
        "\n"
        "def explained():\n"
        "    # cycle: connectors.models imports this module\n"
        "    from connectors.models import Tenant\n"
        "    from audit.ledger import record\n"
        "\n"
        "    import json\n"
        "    from audit import words  # lazy: only the admin shows words\n"
        "\n"
        "def later():\n"
        "    x = 1\n"
        "    from mappings.models import Mapping\n"
        "\n"
        "class Screen:\n"
        "    def method(self):\n"
        "        if True:\n"
        "            from gpbill_site import urls\n"
    )
    assert unexplained_imports(module) == {4, 5, 17, 22}
