"""The HELM entry point of helm_plugins (`[project.entry-points.helm]`, or `helm-run --plugins helm_plugins.plugin`).

Importing it registers every run spec function of the package (all named `hp_*`) and the embedded default
models `helm-plugins/tiny-default` and `helm-plugins/tiny-chat`, makes HELM's run-entry errors name the entry and
checks each run's inputs before it starts, and makes HELM's summarizer compile schema templates under a lock (see
helm_plugins/summarize.py). It imports no torch: models load when HELM makes the first request.
"""

from helm_plugins.audio.run_specs import register_speech_deployments
from helm_plugins.common.offline import apply_offline_defaults
from helm_plugins.common.run_entries import add_checks_before_runs, add_run_entry_context
from helm_plugins.models.registration import register_tiny_chat, register_tiny_default, register_tiny_default_speculative
from helm_plugins.summarize import patch_schema_templates

apply_offline_defaults()
add_run_entry_context()
add_checks_before_runs()
register_tiny_default()
register_tiny_default_speculative()
register_tiny_chat()
register_speech_deployments()
patch_schema_templates()

from helm_plugins.structured_prompting.adapter_spec import install_dspy_executor  # noqa: E402

install_dspy_executor()  # runs with a DSPyAdapterSpec execute their DSPy program

# Run spec modules register their `hp_*` functions with HELM on import.
import helm_plugins.agents.hal.run_specs  # noqa: E402,F401
import helm_plugins.agents.mle_smith.run_specs  # noqa: E402,F401
import helm_plugins.audio.run_specs  # noqa: E402,F401
import helm_plugins.judges.spec_adherence.run_specs  # noqa: E402,F401
import helm_plugins.judges.uq.run_specs  # noqa: E402,F401
import helm_plugins.statistics.entropy_calibration.run_specs  # noqa: E402,F401
import helm_plugins.statistics.fairness_frontier.run_specs  # noqa: E402,F401
import helm_plugins.statistics.provenance.run_specs  # noqa: E402,F401
import helm_plugins.statistics.relative_scaling.run_specs  # noqa: E402,F401
import helm_plugins.structured_prompting.run_specs  # noqa: E402,F401
import helm_plugins.synthetic.run_specs  # noqa: E402,F401
