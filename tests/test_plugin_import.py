"""Loading the plugin (every helm-run and helm-plugins command does) stays light: run specs name their scenario,
metric and annotator classes, which HELM imports only for the runs that need them."""

import subprocess
import sys

HEAVY = ("torch", "transformers", "dspy", "nltk", "pocketsphinx", "litellm")


def test_plugin_import_loads_no_heavy_library():
    code = "import sys, helm_plugins.plugin; print(' '.join(m for m in %r if m in sys.modules))" % (HEAVY,)
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
