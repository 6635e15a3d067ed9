"""The layering of docs/architecture.md, checked on the import statements of the code."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imports(folder: str, root: Path = ROOT) -> dict[str, set[str]]:
    """module file → fully qualified modules it imports (absolute and relative)."""
    out: dict[str, set[str]] = {}
    for path in (root / folder).rglob("*.py"):
        pkg = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
        found = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.rsplit(".", node.level - 1)[0] if node.level > 1 else pkg
                    found.add(f"{base}.{node.module}" if node.module else base)
                else:
                    found.add(node.module or "")
        out[str(path.relative_to(root))] = found
    return out


def offenders(folder: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return sorted(f"{f}: {m}" for f, mods in imports(folder, root).items() for m in mods if m.startswith(forbidden))


def test_pure_core_never_imports_the_edge():
    assert offenders("analytics", ("pipelines",)) == []
    assert offenders("scoring", ("pipelines",)) == []


def test_contracts_import_nothing_of_the_project():
    assert offenders("contracts", ("pipelines", "analytics", "scoring")) == []


def test_readers_do_not_import_the_sla_glue():
    """readers/sla_* once imported pipelines.sla.layout, which imported readers.base (a loop)."""
    assert offenders("pipelines/readers", ("pipelines.sla", "pipelines.monthly", "pipelines.ingest", "pipelines.publish")) == []


def test_the_check_sees_forbidden_imports(tmp_path):
    (tmp_path / "contracts" / "sub").mkdir(parents=True)
    (tmp_path / "contracts" / "a.py").write_text("from pipelines import warehouse\nimport polars\n", "utf-8")
    (tmp_path / "contracts" / "sub" / "b.py").write_text("from ..x import y\nimport analytics.sla\n", "utf-8")
    assert offenders("contracts", ("pipelines", "analytics"), tmp_path) == ["contracts/a.py: pipelines", "contracts/sub/b.py: analytics.sla"]
    assert "contracts.x" in imports("contracts", tmp_path)["contracts/sub/b.py"]
