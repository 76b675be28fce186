import os
import subprocess
import sys

from helm_plugins.common import offline


def test_fallback_is_added_only_when_no_punkt_tab_exists(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "nltk_search_path", lambda: [tmp_path / "user_nltk_data"])
    monkeypatch.setenv("NLTK_DATA", "/somewhere")
    assert offline.install_punkt_tab_fallback()
    assert os.environ["NLTK_DATA"] == os.pathsep.join(["/somewhere", str(offline.FALLBACK_NLTK_DATA)])

    (tmp_path / "user_nltk_data" / "tokenizers" / "punkt_tab").mkdir(parents=True)
    monkeypatch.setenv("NLTK_DATA", "/somewhere")
    assert not offline.install_punkt_tab_fallback()
    assert os.environ["NLTK_DATA"] == "/somewhere"


def test_helm_word_tokenization_works_offline_with_the_fallback(tmp_path):
    """HELM's BLEU metrics call nltk.word_tokenize, which needs punkt_tab; with the plugin loaded it runs offline."""
    code = (
        "import helm_plugins.plugin, nltk\n"
        "print(nltk.word_tokenize('The cat sat. The dog ran.'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NLTK_DATA"}
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**env, "HOME": str(tmp_path)})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "['The', 'cat', 'sat', '.', 'The', 'dog', 'ran', '.']" in completed.stdout
