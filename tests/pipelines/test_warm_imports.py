"""The analytics libraries are imported on a second thread while ingest runs."""
import subprocess
import sys

CHECK = """
import sys
from pipelines.monthly import ANALYTICS_IMPORTS, warm_analytics_imports
assert not any(m in sys.modules for m in ANALYTICS_IMPORTS), "already imported before warming"
warm_analytics_imports().join(120)
missing = [m for m in ANALYTICS_IMPORTS if m not in sys.modules]
assert not missing, missing
print("ok")
"""


def test_warm_imports_loads_scikit_learn_on_a_thread():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
