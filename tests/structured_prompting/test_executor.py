"""DSPy programs run per instance through a HELM request function (in process, planted fake model)."""

import dataclasses
import json
from types import SimpleNamespace

import dspy
import pytest
from helm.benchmark.adaptation.adapters.adapter_factory import AdapterFactory
from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment
from helm.benchmark.model_metadata_registry import ModelMetadata, register_model_metadata
from helm.benchmark.run_spec import get_run_spec_function
from helm.benchmark.scenarios.scenario import create_scenario
from helm.common.request import GeneratedOutput, Request, RequestResult

import helm_plugins.plugin  # noqa: F401
from helm_plugins.common.run_entries import RunEntryError
from helm_plugins.structured_prompting.benchmarks import LeakageError, check_disjoint, extract_answer
from helm_plugins.structured_prompting.executor import ANNOTATION, DSPyExecution
from helm_plugins.structured_prompting.lm import HELMLM, LMRequestFailed
from helm_plugins.structured_prompting.programs import ProgramError, build_program, load_program
from tests.structured_prompting.fake_openai import FakeOpenAI, synthetic_answer_key

MODEL = "fakeorg/in-process"
NUM = 8


@pytest.fixture(scope="module", autouse=True)
def fake_deployment():
    register_model_metadata(ModelMetadata(
        name=MODEL, creator_organization_name="fakeorg", display_name="in-process", description="test",
        access="open", release_date=None, tags=["TEXT_MODEL_TAG", "INSTRUCTION_FOLLOWING_MODEL_TAG"],
    ))
    register_model_deployment(ModelDeployment(name=MODEL, model_name=MODEL,
                                              client_spec=ClientSpec("helm.clients.simple_client.SimpleClient")))


@pytest.fixture(scope="module")
def key():
    return synthetic_answer_key(num_instances=NUM)


class Endpoint:
    """A HELM request function answering like the fake OpenAI server, recording every request."""

    def __init__(self, key, malformed=(), fail=False, accuracy=None):
        self.fake = FakeOpenAI(*key, accuracy or {"helm": 0.5, "predict": 0.5, "cot": 0.9}, malformed=malformed)
        self.fake.httpd.server_close()  # only its reply logic is used
        self.requests = []
        self.fail = fail

    def make_request(self, request: Request) -> RequestResult:
        self.requests.append(request)
        if self.fail:
            return RequestResult(success=False, cached=False, error="planted provider error", completions=[], embedding=[])
        text = self.fake.reply_to(request.messages)
        return RequestResult(success=True, cached=False, request_time=0.0, embedding=[],
                             completions=[GeneratedOutput(text=text, logprob=0.0, tokens=[])] * request.num_completions)

    def tokenize(self, request):
        raise RuntimeError("no tokenizer")


def run(method, endpoint, benchmark="synthetic_arithmetic", tmp_path=None, **kwargs):
    spec = get_run_spec_function("hp_structured_prompting")(benchmark=benchmark, method=method, num_instances=NUM,
                                                            **kwargs)
    adapter_spec = dataclasses.replace(spec.adapter_spec, model=MODEL, model_deployment=MODEL)
    instances = create_scenario(spec.scenario_spec).get_instances("")
    states = AdapterFactory.get_adapter(adapter_spec, None).adapt(instances, 1)
    executor = SimpleNamespace(context=endpoint, execution_spec=SimpleNamespace(parallelism=2))
    result = DSPyExecution(executor, adapter_spec).execute(ScenarioState(adapter_spec, states, []))
    return result.request_states


def system_fields(request: Request):
    system = request.messages[0]["content"]
    return system.split("Your output fields are:")[1].split("All interactions")[0]


def test_predict_and_cot_prompt_structure(key):
    for method, fields in (("predict", ["output"]), ("cot", ["reasoning", "output"])):
        endpoint = Endpoint(key)
        states = run(method, endpoint)
        assert len(endpoint.requests) == NUM
        # inputs = HELM's whole rendered prompt of the instance (requests arrive in thread order, not instance order)
        [request] = [r for r in endpoint.requests if states[0].request.prompt in r.messages[1]["content"]]
        assert [m["role"] for m in request.messages] == ["system", "user"]
        declared = system_fields(request)
        assert [f for f in ("reasoning", "output") if f"`{f}`" in declared] == fields
        assert "Given the fields `inputs`, produce the fields `output`." in request.messages[0]["content"]
        thinking = states[0].result.completions[0].thinking
        assert (thinking is not None) == (method == "cot")


def test_helm_method_is_helms_own_run_spec():
    spec = get_run_spec_function("hp_structured_prompting")(benchmark="synthetic_arithmetic", method="helm")
    own = get_run_spec_function("hp_synthetic_arithmetic")()
    assert spec.adapter_spec == own.adapter_spec and spec.scenario_spec == own.scenario_spec
    assert spec.groups == ["hp_sp_synthetic_arithmetic_helm"]


def test_scores_follow_the_planted_skill(key):
    endpoint = Endpoint(key, accuracy={"predict": 0.0, "cot": 1.0})
    for method, expected in (("predict", 0), ("cot", NUM)):
        states = run(method, endpoint)
        golds = [s.instance.references[0].output.text.split()[-1].rstrip(".") for s in states]
        correct = sum(s.result.completions[0].text == g for s, g in zip(states, golds))
        assert correct == expected


def test_request_parameters_reach_the_request():
    seen = []

    def make_request(request):
        seen.append(request)
        return RequestResult(success=True, cached=False, embedding=[], completions=[
            GeneratedOutput(text="[[ ## output ## ]]\n7\n\n[[ ## completed ## ]]", logprob=0, tokens=[])] * request.num_completions)

    lm = HELMLM(make_request, MODEL, MODEL, max_tokens=77, temperature=0.5, stop_sequences=["END"], num_outputs=2)
    with dspy.context(lm=lm):
        dspy.Predict("inputs -> output")(inputs="x")
    assert (seen[0].max_tokens, seen[0].temperature, seen[0].stop_sequences, seen[0].num_completions) == (77, 0.5, ["END"], 2)
    with dspy.context(lm=lm):
        dspy.Predict("inputs -> output")(inputs="y", config={"temperature": 0.9})
    assert seen[-1].temperature == 0.9  # a module's own setting is what is sent (and cached)
    base = HELMLM(make_request, MODEL, MODEL, max_tokens=500, temperature=0.0, chat=False, context_window=300,
                  count_tokens=lambda text: len(text) // 10)
    with dspy.context(lm=base):
        dspy.Predict("inputs -> output")(inputs="z")
    assert seen[-1].messages is None and "[[ ## inputs ## ]]" in seen[-1].prompt  # base model: one text prompt
    assert seen[-1].max_tokens == 300 - len("\n".join([seen[-1].prompt])) // 10  # capped to the context window


def test_malformed_answers_are_scored_wrong_and_counted(key):
    questions = list(key[0])
    endpoint = Endpoint(key, malformed=questions, accuracy={"cot": 1.0})
    states = run("cot", endpoint)
    notes = [s.annotations[ANNOTATION] for s in states]
    assert all(n["status"] == "parse_failure" for n in notes)
    assert all(s.result.completions[0].text == "" for s in states)
    assert all(n["lm_calls"] == 2 for n in notes)  # ChatAdapter's JSON retry is a counted call


def test_provider_error_is_recorded_not_raised(key):
    states = run("predict", Endpoint(key, fail=True))
    notes = [s.annotations[ANNOTATION] for s in states]
    assert [n["status"] for n in notes] == ["request_failure"] * NUM
    assert "planted provider error" in notes[0]["error"]
    with pytest.raises(LMRequestFailed, match="planted provider error"):
        lm = HELMLM(Endpoint(key, fail=True).make_request, MODEL, MODEL, max_tokens=10, temperature=0)
        lm.forward(prompt="x")


def test_bfrs_and_miprov2_end_to_end(key, tmp_path):
    for method in ("bfrs", "miprov2"):
        endpoint = Endpoint(key, accuracy={"predict": 0.5, "cot": 0.9})
        states = run(method, endpoint, programs_dir=str(tmp_path), candidates=2)
        [meta_path] = list(tmp_path.glob(f"*/*/{method}/seed0/*.meta.json"))
        meta = json.loads(meta_path.read_text())
        assert meta["lm_calls"] > 20 and meta["val_size"] == 10 and meta["train_size"] == 10
        assert meta["dspy_version"] == dspy.__version__ and meta["model"] == MODEL
        assert meta_path.with_name(meta_path.name.replace(".meta", "")).exists()
        assert states[0].annotations[ANNOTATION]["optimisation"]["lm_calls"] == meta["lm_calls"]
        before = len(endpoint.requests)
        run(method, endpoint, programs_dir=str(tmp_path), candidates=2)
        assert len(endpoint.requests) - before == NUM  # the saved program is reused: evaluation calls only


def test_missing_program_without_optimisation_is_a_clear_error(key, tmp_path):
    with pytest.raises(ProgramError, match="helm-plugins optimize --benchmark synthetic_arithmetic"):
        run("bfrs", Endpoint(key), programs_dir=str(tmp_path), optimize="never")


def test_program_of_another_module_structure_is_rejected(tmp_path):
    path = tmp_path / "predict.json"
    build_program("predict").save(str(path))
    with pytest.raises(ProgramError, match="another module structure"):
        load_program("bfrs", path)


def test_leakage_guard_fires_on_overlap():
    instances = create_scenario(get_run_spec_function("hp_synthetic_arithmetic")(num_instances=5).scenario_spec).get_instances("")
    train = [i for i in instances if i.split == "train"]
    test = [i for i in instances if i.split == "test"]
    check_disjoint(test, train, "synthetic")  # disjoint by construction
    with pytest.raises(LeakageError, match="1 shared instance ids"):
        check_disjoint(test, train + test[:1], "ids")
    with pytest.raises(LeakageError, match="1 shared question texts"):
        check_disjoint(test, [dataclasses.replace(test[0], id="renamed")], "texts")


def test_strict_extraction():
    assert extract_answer("letter", "", "ABCD") is None and extract_answer("letter", None, "ABCD") is None
    assert extract_answer("letter", "B. Leeds", "ABCD") == "B"
    assert extract_answer("letter", "so the answer is (C)", "ABCD") == "C"
    assert extract_answer("letter", "E", "ABCD") is None
    assert extract_answer("number", "no idea", ()) is None and extract_answer("number", "It is 42.", ()) == "It is 42."


def test_bad_run_entries_name_the_problem():
    function = get_run_spec_function("hp_structured_prompting")
    with pytest.raises(RunEntryError, match="benchmark"):
        function(benchmark="gsm9k")
    with pytest.raises(RunEntryError, match="method"):
        function(benchmark="synthetic_arithmetic", method="fewshot")


def test_program_loaded_from_a_local_path(key, tmp_path):
    endpoint = Endpoint(key)
    run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2)
    [saved] = [p for p in tmp_path.glob("*/*/bfrs/seed0/*.json") if not p.name.endswith(".meta.json")]
    moved = tmp_path / "elsewhere.json"
    saved.rename(moved)
    before = len(endpoint.requests)
    states = run("bfrs", endpoint, programs_dir=str(tmp_path / "empty"), program=str(moved))
    assert len(endpoint.requests) - before == NUM  # no optimisation: the given program is evaluated
    assert states[0].annotations[ANNOTATION]["optimisation"]["lm_calls"] is None  # its metadata stayed behind
    with pytest.raises(ProgramError, match="does not exist"):
        run("bfrs", endpoint, program=str(tmp_path / "missing.json"))


def test_paper_benchmarks_build_on_helms_own_run_specs():
    from helm_plugins.structured_prompting.benchmarks import PAPER_BENCHMARKS
    from helm_plugins.structured_prompting.adapter_spec import DSPyAdapterSpec

    function = get_run_spec_function("hp_structured_prompting")
    assert len(PAPER_BENCHMARKS) == 7
    for benchmark in PAPER_BENCHMARKS:
        baseline = function(benchmark=benchmark, method="helm")
        metrics = {m.class_name for m in baseline.metric_specs}
        assert "helm_plugins.structured_prompting.metrics.StructuredPromptingMetric" in metrics
        for method in ("predict", "cot", "bfrs", "miprov2", "gepa"):
            spec = function(benchmark=benchmark, method=method)
            assert isinstance(spec.adapter_spec, DSPyAdapterSpec) and spec.scenario_spec == baseline.scenario_spec
            assert spec.adapter_spec.method == baseline.adapter_spec.method  # HELM renders the same prompt
            assert spec.groups == [f"hp_sp_{benchmark}_{method}"]


def test_medical_scenarios_add_their_training_data(tmp_path, monkeypatch):
    import csv

    from helm.benchmark.scenarios import medcalc_bench_scenario

    from helm_plugins.structured_prompting.scenarios import MedCalcBenchWithTrainScenario, MedecWithTrainScenario

    def row(n, split):
        return {"Question": f"What is the score ({split} {n})?", "Ground Truth Answer": str(n), "Row Number": n,
                "Patient Note": f"Patient {split} {n}.", "Category": "lab", "Upper Limit": str(n), "Lower Limit": str(n),
                "Calculator Name": "x", "Calculator ID": 1, "Note ID": n, "Note Type": "t", "Relevant Entities": "{}",
                "Ground Truth Explanation": ""}

    monkeypatch.setattr(medcalc_bench_scenario, "load_dataset",
                        lambda path: {"train": [row(n, "train") for n in range(3)], "test": [row(n, "test") for n in range(2)]})
    instances = MedCalcBenchWithTrainScenario().get_instances(str(tmp_path))
    assert sorted((i.split, i.id) for i in instances) == [
        ("test", 0), ("test", 1), ("train", "train-0"), ("train", "train-1"), ("train", "train-2")]
    check_disjoint([i for i in instances if i.split == "test"], [i for i in instances if i.split == "train"], "medcalc")

    def download(self, url, output_path, file_name):
        path = tmp_path / file_name
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, ["Text ID", "Sentences", "Error Flag", "Error Sentence ID", "Corrected Sentence"])
            writer.writeheader()
            for n in range(2):
                writer.writerow({"Text ID": n, "Sentences": f"0 Note {file_name} {n}.", "Error Flag": n % 2,
                                 "Error Sentence ID": "0" if n % 2 else "-1", "Corrected Sentence": "0 Fixed." if n % 2 else "NA"})
        return str(path)

    monkeypatch.setattr(MedecWithTrainScenario, "download_csv", download)
    medec = MedecWithTrainScenario().get_instances(str(tmp_path))
    assert [i.split for i in medec] == ["test", "test", "train", "train"]
    assert [i.references[0].output.text for i in medec if i.split == "train"] == ["CORRECT", "0 0 Fixed."]


def test_headqa_adds_its_train_split(tmp_path, monkeypatch):
    from helm.benchmark.scenarios import headqa_scenario

    from helm_plugins.structured_prompting.scenarios import HeadQAWithTrainScenario

    def example(n, split):
        return {"qtext": f"{split} question {n}?", "ra": 1, "image": None, "category": "medicine", "qid": n,
                "name": "x", "year": 2020, "answers": [{"aid": 1, "atext": "yes"}, {"aid": 2, "atext": "no"}]}

    data = {"train": [example(n, "train") for n in range(3)], "test": [example(n, "test") for n in range(2)]}
    monkeypatch.setattr(headqa_scenario, "load_dataset", lambda *args, **kwargs: data)
    instances = HeadQAWithTrainScenario().get_instances(str(tmp_path))
    assert [(i.split, i.input.text) for i in instances] == [
        ("test", "test question 0?"), ("test", "test question 1?"),
        ("train", "train question 0?"), ("train", "train question 1?"), ("train", "train question 2?")]
    assert headqa_scenario.load_dataset("x")["train"] is data["train"]  # the loader is restored
