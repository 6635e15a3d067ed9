"""Notebook charts get a CJK font from its file, even when matplotlib's font cache is stale."""

from __future__ import annotations

import io
import warnings

import pytest


def test_cjk_font_with_a_stale_font_cache(monkeypatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from pipelines.report.fonts import cjk_font_file, use_cjk_font

    if cjk_font_file() is None:
        pytest.skip("no CJK font installed (.ci/run installs fonts-wqy-microhei)")
    # a cache built before the CJK font was installed: no CJK family in it
    stale = [f for f in font_manager.fontManager.ttflist
             if not any(k in f.name for k in ("WenQuanYi", "CJK", "Han", "Hei", "PingFang", "Droid"))]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(font_manager.fontManager, "_findfont_cached", font_manager.fontManager._findfont_cached)
    font_manager.fontManager._findfont_cached.cache_clear()
    with plt.rc_context():
        name = use_cjk_font()
        assert name and plt.rcParams["font.sans-serif"][0] == name
        fig, ax = plt.subplots()
        ax.set_title("3分钟回复率 慢响应 未回复人数")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    assert not [w for w in caught if "missing from" in str(w.message)], [str(w.message) for w in caught]
    font_manager.fontManager._findfont_cached.cache_clear()


def test_notebooks_use_the_font_helper_and_the_label_table() -> None:
    from pathlib import Path

    src = (Path(__file__).resolve().parents[2] / "notebooks" / "build_notebooks.py").read_text("utf-8")
    assert "use_cjk_font()" in src and "metric_label(" in src
