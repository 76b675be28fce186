"""helm-plugins summarize: HELM's schema templates rendered from many threads at once never fail."""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from helm.benchmark.presentation.schema import MetricNameMatcher

from helm_plugins.summarize import patch_helm_summarizer, render_template


@pytest.fixture
def fast_thread_switching():
    """Switch threads as often as possible: on CPython 3.11.7 compiling mako templates from 8 threads this way
    fails with 'AST constructor recursion depth mismatch' about 10 times in 4,800 renders without the lock."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_schema_templates_render_from_many_threads_at_once(fast_thread_switching):
    patch_helm_summarizer()
    matcher = MetricNameMatcher(name="${main_name}", split="${main_split}", perturbation_name="${perturbation}")
    environment = {"main_name": "exact_match", "main_split": "test", "perturbation": "typos"}
    errors = []

    def render_many(_):
        for _ in range(200):
            try:
                assert matcher.substitute(environment) == MetricNameMatcher(name="exact_match", split="test", perturbation_name="typos")
            except Exception as error:  # the race raises mako's SyntaxException wrapping a SystemError
                errors.append(error)

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(render_many, range(8)))
    assert errors == []


def test_each_template_is_compiled_once_and_renders_its_environment():
    assert render_template("${a}-${b}", {"a": "x", "b": "y"}) == "x-y"
    assert render_template("${a}-${b}", {"a": "1", "b": "2"}) == "1-2"
    assert render_template("plain", {}) == "plain"


def test_loading_the_plugin_compiles_templates_under_the_lock_without_loading_the_summarizer():
    """Any summarizer in a process that loaded the plugin (not only `helm-plugins summarize`) is safe, and the
    plugin import stays light: HELM's summarize module (which loads torch) is not imported by it."""
    import subprocess

    code = (
        "import sys, helm_plugins.plugin, helm_plugins.summarize as ours\n"
        "from helm.benchmark.presentation.schema import MetricNameMatcher\n"
        "matched = MetricNameMatcher(name='${main_name}', split='test').substitute({'main_name': 'wer'})\n"
        "print(matched.name, '${main_name}' in ours._TEMPLATES, 'helm.benchmark.presentation.summarize' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["wer", "True", "False"]
