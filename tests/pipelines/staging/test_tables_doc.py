from pathlib import Path

from pipelines.staging.tables_doc import render


def test_docs_tables_md_is_in_sync_with_the_schemas():
    doc = Path(__file__).resolve().parents[3] / "docs" / "tables.md"
    assert doc.read_text("utf-8") == render(), "run: python -m pipelines.staging.tables_doc > docs/tables.md"
