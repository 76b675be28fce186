"""Offline defaults applied when the plugin loads; each only fills a gap and never overrides the user.

- NLTK's punkt_tab (needed by HELM's BLEU metrics) is downloaded at run time by NLTK. When no copy is found in
  NLTK's search path, a fallback with empty parameter files is appended to NLTK_DATA: sentence splitting then
  uses no abbreviation list (it splits after "Dr." and "e.g."), so BLEU can differ slightly from a run with
  the real punkt_tab. Install the real one (`python -m nltk.downloader punkt_tab`) where a network exists.
- LiteLLM fetches its model cost map from GitHub at import unless LITELLM_LOCAL_MODEL_COST_MAP is set; offline
  that costs a retry of about 10 s, so the bundled map is used unless the user chose otherwise.
"""

import os
import sys
from pathlib import Path
from typing import List

FALLBACK_NLTK_DATA = Path(__file__).parent / "nltk_data"


def nltk_search_path() -> List[Path]:
    """NLTK's default data path (nltk.data.path), computed without importing nltk."""
    env = [Path(p) for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    prefixes = [Path(sys.prefix) / sub for sub in ("nltk_data", "share/nltk_data", "lib/nltk_data")]
    system = [Path(p) for p in ("/usr/share/nltk_data", "/usr/local/share/nltk_data", "/usr/lib/nltk_data", "/usr/local/lib/nltk_data")]
    return env + [Path.home() / "nltk_data"] + prefixes + system


def install_punkt_tab_fallback() -> bool:
    """Append the fallback punkt_tab to NLTK's path if no punkt_tab is installed; True if it was added."""
    if any((directory / "tokenizers" / "punkt_tab").is_dir() for directory in nltk_search_path()):
        return False
    existing = os.environ.get("NLTK_DATA")
    os.environ["NLTK_DATA"] = os.pathsep.join(filter(None, [existing, str(FALLBACK_NLTK_DATA)]))
    if "nltk" in sys.modules:
        sys.modules["nltk"].data.path.append(str(FALLBACK_NLTK_DATA))
    return True


def apply_offline_defaults() -> None:
    install_punkt_tab_fallback()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
