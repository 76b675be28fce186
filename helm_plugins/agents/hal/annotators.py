"""The rubric judge of HAL's trace inspection: a HELM deployment reads a transcript excerpt of each task whose
trace a prefilter flagged (or of every task with `judge_all`) and returns a JSON verdict per flag.

The annotation keeps HAL's record (HELM replaces a state's annotations with the annotators' outputs, so this
annotator is named `hal` and returns the executor's record with `judge` and the judged `flags` added). A reply
without a readable verdict leaves the prefilter's flags in place and is counted (judge status missing/garbled).
"""

from pathlib import Path
from typing import Any, Dict

from helm.benchmark.adaptation.request_state import RequestState

from helm_plugins.agents.hal.flags import RubricVerdict, final_flags, read_trace, transcript
from helm_plugins.common.judges import JudgeAnnotator, JudgeUsage, parse_json_verdict, record


class TraceRubricAnnotator(JudgeAnnotator):
    name = "hal"
    template_folder = Path(__file__).parent / "prompts"

    def __init__(self, auto_client, judge: str = "", judge_all: bool = False, temperature: float = 0.0,
                 max_tokens: int = 256, seed: int = 0):
        super().__init__(auto_client, judge, temperature, max_tokens, seed)
        self.judge_all = judge_all

    def annotate(self, request_state: RequestState) -> Dict[str, Any]:
        hal = dict((request_state.annotations or {})["hal"])
        if not (self.judge_all or hal["prefilter"]):
            return hal
        judge = self.judge_for(request_state)
        usage = JudgeUsage()
        excerpt = transcript(read_trace(Path(hal["trace_path"])))
        prompt, truncated = judge.fit(self.templates, "rubric", "transcript", task=request_state.instance.input.text,
                                      prefilter=", ".join(sorted(hal["prefilter"])) or "nothing", transcript=excerpt)
        reply = judge.ask(prompt, f"hal-rubric/{self.seed}/{request_state.instance.id}", truncated, usage)
        verdict = parse_json_verdict(reply.text, RubricVerdict) if reply.success else None
        status = verdict.status if verdict is not None else "failed"
        judged = {"status": status, "verdict": verdict.value.model_dump() if status == "ok" else None,
                  "call": record(reply, verdict), "usage": usage.to_dict(), "judge": judge.deployment}
        hal["judge"] = judged
        hal["flags"] = final_flags(hal["prefilter"], judged)
        return hal
