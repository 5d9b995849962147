"""A 1,000,000-point panel in Chromium with software rendering, measured in the browser test
harness (tests/test_browser_scale.py): first render after the layout is cached, and the
frame intervals while panning and zooming. Prints the JSON the test wrote."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "tests/test_browser_scale.py"], cwd=ROOT, check=True, capture_output=True)
    print(json.dumps({"benchmark": "map_browser", **json.loads((ROOT / "artifacts" / "map-1m.json").read_text())},
                     indent=1))
