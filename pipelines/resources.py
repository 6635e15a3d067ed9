"""Data files the pure analytics need, read at the edge: lexicons, stop words, the jieba
user dictionary and the product/promotion catalogue named in ``settings.text``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_text_resources(settings, data_dir: Path = ROOT / "data"):
    """Read the lexicons, stop words, user dictionary and catalogue named in ``settings.text``."""
    from analytics.marts import TextResources

    t = settings.text
    return TextResources.from_texts(
        settings,
        {n: (data_dir / "lexicons" / f).read_text("utf-8") for n, f in t.lexicon_files.items()},
        (data_dir / "lexicons" / t.stopwords_file).read_text("utf-8"),
        (data_dir / t.userdict_file).read_text("utf-8"),
        (data_dir / t.products_file).read_text("utf-8"),
    )
