"""UQ validators as a HELM annotator: a strategy (see strategy.py) run by a judge model on each answer.

Low-level validators are prompt templates in prompts/: correct, factlogic, relevance, final_answer, vanilla ask for
a `[[Y]]`/`[[N]]` verdict on (question, answer); cycle first asks the judge to infer the question from the answer
alone (cycle_infer), then whether the inferred and the original question ask for the same thing (cycle_compare).
Each reflection round shows the judge its previous judgement and asks it to think twice (reflection).
"""

from pathlib import Path
from typing import Any, Dict, List

from helm.benchmark.adaptation.request_state import RequestState

from helm_plugins.common.judges import FAILED, JudgeAnnotator, JudgeReply, JudgeUsage, Verdict, parse_tag_verdict, record
from helm_plugins.judges.uq.strategy import Validator, compact, evaluate, parse_strategy, stages

PROMPTS = Path(__file__).parent / "prompts"


class UQValidatorAnnotator(JudgeAnnotator):
    """Annotation: {"accepted", "stage_results", "verdicts": {status: count}, "usage", "calls": [...]}.

    target="response" judges the model's answer; target="planted" judges the instance's planted answer
    (meta-evaluation)."""

    name = "uq_validator"
    template_folder = PROMPTS

    def __init__(self, auto_client, strategy: str, judge: str = "", target: str = "response", temperature: float = 0.0,
                 max_tokens: int = 512, seed: int = 0):
        super().__init__(auto_client, judge, temperature, max_tokens, seed)
        self.strategy = parse_strategy(strategy)
        if target not in ("response", "planted"):
            raise ValueError(f"UQ validator target {target!r}: use 'response' or 'planted'")
        self.target = target

    def annotate(self, request_state: RequestState) -> Dict[str, Any]:
        instance = request_state.instance
        extra = instance.extra_data or {}
        title, body = extra.get("title") or "", extra.get("body") or instance.input.text
        if self.target == "planted":
            answer = extra["planted_answer"]
        else:
            result = request_state.result
            answer = result.completions[0].text.strip() if result and result.success and result.completions else ""
        base = {"strategy": compact(self.strategy), "answer_judged": answer}
        if not answer:  # nothing to validate: rejected without asking the judge
            return {**base, "accepted": False, "empty_answer": True, "stage_results": [False] * len(stages(self.strategy)),
                    "verdicts": {}, "usage": JudgeUsage().to_dict(), "calls": []}

        judge = self.judge_for(request_state)
        base.update(judge=judge.deployment, judge_model=judge.model)
        usage = JudgeUsage()
        calls: List[Dict[str, Any]] = []
        counts: Dict[str, int] = {}

        def ask(template: str, shrink: str, seed: str, **variables) -> JudgeReply:
            prompt, truncated = judge.fit(self.templates, template, shrink, **variables)
            return judge.ask(prompt, f"{self.seed}/{instance.id}/{seed}", truncated, usage)

        def first_reply(validator: Validator, key: str):
            """The validator's first judgement and the prompt that produced it (None if a request failed)."""
            if validator.name != "cycle":
                variables = {"title": title, "body": body, "answer": answer}
                return ask(validator.name, "answer", key, **variables), self.templates.render(validator.name, **variables)
            inferred = ask("cycle_infer", "answer", f"{key}/infer", answer=answer)
            calls.append({"validator": validator.name, "step": "infer", **record(inferred)})
            if not inferred.success:
                return inferred, None
            variables = {"title": title, "body": body, "inferred": inferred.text.strip()}
            return ask("cycle_compare", "inferred", key, **variables), self.templates.render("cycle_compare", **variables)

        def sample(validator: Validator, index: int) -> bool:
            key = f"{validator}/{index}"
            reply, prompt = first_reply(validator, key)
            for round_ in range(validator.reflections):
                if not reply.success:
                    break
                reply = ask("reflection", "prompt", f"{key}/reflect{round_}", prompt=prompt, previous=reply.text)
            verdict = parse_tag_verdict(reply.text) if reply.success else Verdict(FAILED, error=reply.error)
            label = ("accept" if verdict.value else "reject") if verdict.ok else verdict.status
            counts[label] = counts.get(label, 0) + 1
            calls.append({"validator": validator.name, "sample": index, **record(reply, verdict)})
            return verdict.ok and verdict.value is True

        outcome = evaluate(self.strategy, sample)
        return {**base, "accepted": outcome.accepted, "stage_results": outcome.stage_results,
                "stages_evaluated": outcome.stages_evaluated, "verdicts": counts, "usage": usage.to_dict(),
                "calls": calls}
