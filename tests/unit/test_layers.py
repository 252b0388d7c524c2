"""The web edge stays an edge: nothing below `ied_workflow/web/` imports the web stack."""

from __future__ import annotations

import ast
from pathlib import Path

import ied_workflow

WEB_STACK = {"fastapi", "starlette", "prometheus_client"}


def test_only_the_web_package_imports_fastapi() -> None:
    root = Path(ied_workflow.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if root / "web" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in WEB_STACK
            ]
    assert offenders == []
