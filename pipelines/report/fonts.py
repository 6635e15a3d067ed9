"""A CJK font for matplotlib charts (notebooks), found by FILE, not through matplotlib's cache.

matplotlib's font cache lists the fonts that were installed when it was built; a CJK font
installed later is missing from it until the cache is rebuilt by hand, and every Chinese label
then draws as tofu boxes. :func:`use_cjk_font` finds a CJK font file itself (``KEFU_CJK_FONT``,
fontconfig's ``fc-match``, the usual font folders), registers it with ``addfont`` and puts its
family first in ``font.sans-serif`` — a stale cache cannot get in the way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# family names and file-name fragments of CJK fonts, preferred first
CJK_FILE_HINTS = ("NotoSansCJK", "NotoSansSC", "SourceHanSans", "wqy-microhei", "wqy-zenhei", "msyh", "simhei",
                  "PingFang", "STHeiti", "DroidSansFallback", "uming", "ukai")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"),
             str(Path.home() / ".local/share/fonts"), "/System/Library/Fonts", "/Library/Fonts",
             "C:/Windows/Fonts")
_SUFFIXES = (".ttf", ".ttc", ".otf")


def _fc_match() -> Path | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif:lang=zh-cn"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    p = Path(out) if out else None
    return p if p and p.is_file() and any(h.lower() in p.name.lower() for h in CJK_FILE_HINTS) else None


def cjk_font_file() -> Path | None:
    """Path of an installed CJK font file, or None."""
    env = os.environ.get("KEFU_CJK_FONT")
    if env and Path(env).is_file():
        return Path(env)
    found = _fc_match()
    if found:
        return found
    for hint in CJK_FILE_HINTS:
        for d in FONT_DIRS:
            root = Path(d)
            if not root.is_dir():
                continue
            for p in sorted(root.rglob("*")):
                if p.suffix.lower() in _SUFFIXES and hint.lower() in p.name.lower():
                    return p
    return None


def use_cjk_font() -> str | None:
    """Register a CJK font file with matplotlib and make it the first sans-serif family.
    Returns the family name, or None when no CJK font is installed (labels then show boxes)."""
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    path = cjk_font_file()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [name, *[f for f in plt.rcParams["font.sans-serif"] if f != name]]
    plt.rcParams["axes.unicode_minus"] = False
    return name
