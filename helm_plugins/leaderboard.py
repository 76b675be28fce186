"""`helm-plugins leaderboard`: turn a summarized suite into a leaderboard a researcher can read.

`helm-plugins summarize` ends with this; run it alone to link more report plots (`--plots`) into a summarized
suite. It rewrites files of `benchmark_output/runs/<suite>/` only, and running it again changes nothing:

- The landing group (the schema's first group, `helm_plugins`) becomes a table of contents: one row per capability
  (its subgroups in the schema), with the paper, what was measured, the headline number with its interval, the
  runs and models behind it, its plots, and a link to its group. The capability list, and each capability's
  headline metric (`environment: {main_name, main_split, main_group}`), come from the schema alone: adding a
  capability is adding one group to the landing group's subgroups.
- Every other group table keeps only the rows and columns that have at least one value (a model that did not run a
  table's scenarios has no row in it, a subgroup without runs no column); its mean win rate is kept only where every column measures the same metric in the
  same direction and some column compares two models; each column name says which direction is better (↑ or ↓).
- Plots: every PNG in a run folder, and the PNGs of report folders given with `--plots GROUP=DIR` (copied into
  `runs/<suite>/plots/<GROUP>/`), are linked from the description of their group and of its capability, so a
  click from the leaderboard opens them (helm-server serves the whole output folder).

    helm-plugins summarize --suite demo --plots hp_audio=demo_output/audio-report
    helm-plugins leaderboard --suite demo --plots hp_structured_prompting=demo_output/ceiling
"""

import argparse
import hashlib
import json
import math
import shutil
import sys
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from helm_plugins.cli import add_subcommand
from helm_plugins.summarize import plots_argument, schema_path

UP, DOWN = "↑", "↓"
# environment `main_order` of a capability: which run's value is its headline (default: the best by the metric's
# direction; `nearest_zero` for signed errors such as EntCE, `lowest` for the strongest evidence of a p-value)
ORDERS = {"lowest": (lambda v: v, "lowest"), "highest": (lambda v: -v, "highest"),
          "nearest_zero": (abs, "nearest zero")}
WIN_RATE_HEADER = "Mean win rate"
PLOTS_FOLDER = "plots"


@dataclass
class Capability:
    """One row of the landing table: a group of the schema listed under the landing group."""

    name: str
    display_name: str
    description: str
    short_description: str
    headline_metric: Optional[str]
    headline_split: str
    headline_groups: List[str]  # the runs that give the headline (default: all of the capability's)
    groups: List[str]  # the capability group and all its descendants
    headline_order: Optional[str] = None  # which run gives the headline: lowest, highest, nearest_zero (see ORDERS)
    runs: List[dict] = field(default_factory=list)
    plots: List[Tuple[str, str]] = field(default_factory=list)  # (label, url)


def arrow(lower_is_better: Optional[bool]) -> str:
    return "" if lower_is_better is None else (DOWN if lower_is_better else UP)


def with_arrow(name: str, lower_is_better: Optional[bool]) -> str:
    """`name ↓` for lower-is-better columns, `name ↑` for higher-is-better ones; unchanged if undirected or marked."""
    mark = arrow(lower_is_better)
    if not mark or name.endswith(UP) or name.endswith(DOWN):
        return name
    return f"{name} {mark}"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read it as JSON ({error}); run `helm-plugins summarize` first") from error


def _write_json(path: Path, value) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


# ----- schema -----


def expand(groups_by_name: Dict[str, dict], name: str) -> List[str]:
    """`name` and all its descendants (each once), as HELM's summarizer expands subgroups."""
    seen: List[str] = []
    stack = [name]
    while stack:
        current = stack.pop(0)
        if current in seen or current not in groups_by_name:
            continue
        seen.append(current)
        stack.extend(groups_by_name[current].get("subgroups") or [])
    return seen


def landing_group(schema: dict) -> dict:
    """The group the leaderboard opens on: HELM's frontend shows the first group of the first category."""
    groups = schema.get("run_groups") or []
    if not groups:
        raise ValueError("the schema has no run_groups")
    return groups[0]


def capabilities(schema: dict) -> List[Capability]:
    groups_by_name = {g["name"]: g for g in schema["run_groups"]}
    landing = landing_group(schema)
    result = []
    for name in landing.get("subgroups") or []:
        if name not in groups_by_name:
            raise ValueError(f"landing group {landing['name']}: subgroup {name!r} is not a run group of the schema")
        group = groups_by_name[name]
        environment = group.get("environment") or {}
        result.append(Capability(
            name=name, display_name=group.get("display_name") or name, description=group.get("description") or "",
            short_description=group.get("short_description") or "", headline_metric=environment.get("main_name"),
            headline_split=environment.get("main_split", "test"), headline_groups=expand(groups_by_name, environment["main_group"]) if environment.get("main_group") else [],
            groups=expand(groups_by_name, name), headline_order=environment.get("main_order"),
        ))
        if result[-1].headline_order not in (None, *ORDERS):
            raise ValueError(f"run group {name}: environment main_order {result[-1].headline_order!r} is not one of "
                             f"{', '.join(ORDERS)}")
    return result


# ----- runs -----


def read_runs(suite_dir: Path) -> List[dict]:
    """{name, path, groups, model, stats} of every complete run of the suite (run_spec.json and stats.json)."""
    runs = []
    for path in sorted(p for p in suite_dir.iterdir() if p.is_dir()):
        if not (path / "run_spec.json").is_file() or not (path / "stats.json").is_file():
            continue
        spec = _read_json(path / "run_spec.json")
        runs.append({"name": spec["name"], "path": path, "groups": spec.get("groups", []),
                     "model": spec.get("adapter_spec", {}).get("model", ""), "stats": _read_json(path / "stats.json")})
    return runs


def find_stat(stats: Iterable[dict], metric: str, split: str) -> Optional[dict]:
    for stat in stats:
        name = stat["name"]
        if name["name"] == metric and name.get("split") == split and not name.get("perturbation") \
                and not name.get("sub_split") and stat.get("count"):
            return stat
    return None


def interval_text(run: dict, stat: dict, metric: str, split: str) -> str:
    """`value [low, high] (95% CI, n=...)` over the run's instances (Wilson's interval for 0/1 values, Student's t
    otherwise, as the demo's headlines), or the bare value where the run has no per-instance values of this stat
    whose mean is the run's value (aggregates such as a speedup or a pooled loss)."""
    from helm_plugins.demo import instance_values, mean_interval

    values = instance_values(run["path"], metric, split)
    value = stat["sum"] / stat["count"]
    if len(values) >= 2 and math.isclose(sum(values) / len(values), value, rel_tol=1e-6, abs_tol=1e-9):
        return f"{mean_interval(values)} (95% CI, n={len(values)})"
    return f"{value:.3g} (one value, no interval)"


def headline(capability: Capability, metrics: Dict[str, dict], model_names: Dict[str, str]) -> str:
    """The best model's value of the capability's headline metric, with its interval and instance count."""
    metric = capability.headline_metric
    if not metric:
        return "no headline metric in the schema"
    groups = set(capability.headline_groups or capability.groups)
    values = []
    for run in capability.runs:
        if groups & set(run["groups"]):
            stat = find_stat(run["stats"], metric, capability.headline_split)
            if stat is not None and math.isfinite(stat["mean"]):
                values.append((run, stat))
    info = metrics.get(metric, {})
    label = with_arrow(info.get("short_display_name") or info.get("display_name") or metric,
                       info.get("lower_is_better"))
    if not values:
        return f"{label}: no run of this suite"
    order = capability.headline_order or ("lowest" if info.get("lower_is_better") else "highest")
    key, words = ORDERS[order]
    run, stat = min(values, key=lambda pair: key(pair[1]["mean"]))
    model = model_names.get(run["model"], run["model"])
    text = f"{label} {interval_text(run, stat, metric, capability.headline_split)}"
    return f"{text}, {model}" + (f"; {words} of {len(values)} runs" if len(values) > 1 else "")


# ----- plots -----


def plot_url(suite_dir: Path, path: Path) -> str:
    """The URL helm-server serves `path` at (`/benchmark_output/runs/<suite>/...`)."""
    relative = path.relative_to(suite_dir.parent.parent)
    return "/benchmark_output/" + urllib.parse.quote(relative.as_posix())


def copy_report_plots(suite_dir: Path, plots: Sequence[Tuple[str, Path]]) -> Dict[str, List[Path]]:
    """Copy every PNG of each report folder into runs/<suite>/plots/<group>/; {group: copied paths}."""
    copied: Dict[str, List[Path]] = defaultdict(list)
    for group, folder in plots:
        if not folder.is_dir():  # a report that was not made (yet): the rest of the leaderboard still stands
            print(f"warning: --plots {group}={folder}: no such folder, no plots linked from it", file=sys.stderr)
            continue
        target = suite_dir / PLOTS_FOLDER / group
        target.mkdir(parents=True, exist_ok=True)
        for png in sorted(folder.rglob("*.png")):
            destination = target / png.name
            if destination.resolve() != png.resolve():
                shutil.copy(png, destination)
            copied[group].append(destination)
    for group_dir in sorted((suite_dir / PLOTS_FOLDER).glob("*")) if (suite_dir / PLOTS_FOLDER).is_dir() else []:
        for png in sorted(group_dir.glob("*.png")):
            if png not in copied[group_dir.name]:
                copied[group_dir.name].append(png)
    return copied


def group_plots(suite_dir: Path, runs: List[dict], report_plots: Dict[str, List[Path]]) -> Dict[str, List[Tuple[str, str]]]:
    """{group: [(label, url)]}: the PNGs of each run folder under each of the run's groups, and the reports'."""
    result: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    seen = set()  # a runner that copies one plot into each of its runs is linked once
    for run in runs:
        for png in sorted(run["path"].glob("*.png")):
            digest = hashlib.sha256(png.read_bytes()).hexdigest()
            label = f"{png.stem.replace('_', ' ')} ({run['model'].rsplit('/', 1)[-1]})"
            for group in run["groups"]:
                if (group, digest) not in seen:
                    seen.add((group, digest))
                    result[group].append((label, plot_url(suite_dir, png)))
    for group, paths in report_plots.items():
        for png in paths:
            digest = hashlib.sha256(png.read_bytes()).hexdigest()
            if (group, digest) not in seen:  # a report's copy of a plot already in a run folder is linked once
                seen.add((group, digest))
                result[group].append((png.stem.replace("_", " "), plot_url(suite_dir, png)))
    return result


def plot_links(plots: List[Tuple[str, str]]) -> str:
    return ", ".join(f"[{label}]({url})" for label, url in plots)


# ----- tables -----


ACROSS_SCENARIOS = "Win rate, mean over scenarios"


def clean_table(table: dict, across_metrics: bool = False) -> dict:
    """Drop rows and columns without any value; keep the win rate only where every column measures one metric in one
    direction and some column has values of two or more rows; add the direction to each column name.

    `across_metrics` (a group whose schema environment says `win_rate: across_metrics`, e.g. an AHELM aspect that
    ranks models over its scenarios' main metrics, as the paper does): keep the win rate wherever every column has a
    direction, whatever its metric."""
    header = list(table.get("header", []))
    rows = table.get("rows", [])
    win_index = next((i for i, cell in enumerate(header)  # HELM's name, or the one a previous pass gave it
                      if cell.get("value") == WIN_RATE_HEADER or str(cell.get("value")).startswith("Win rate, ")), None)
    value_columns = [i for i in range(1, len(header)) if i != win_index]
    rows = [row for row in rows if any(row[i].get("value") is not None for i in value_columns if i < len(row))]
    empty = {i for i in value_columns if all(row[i].get("value") is None for row in rows)}  # e.g. a leaf without runs
    if empty and len(empty) < len(value_columns):
        keep = [i for i in range(len(header)) if i not in empty]
        header = [header[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
        win_index = keep.index(win_index) if win_index is not None else None
        value_columns = [keep.index(i) for i in value_columns if i not in empty]
    if win_index is not None:
        metrics = {(header[i].get("metadata", {}).get("metric"), header[i].get("lower_is_better")) for i in value_columns}
        compared = any(sum(row[i].get("value") is not None for row in rows) >= 2 for i in value_columns)
        directed = all(direction is not None for _, direction in metrics)
        if across_metrics and directed and compared:
            header[win_index] = {**header[win_index], "value": with_arrow(ACROSS_SCENARIOS, False),
                                 "description": "Mean over the columns of the share of other models this model beats "
                                                "on that column's metric, each in its own direction."}
        elif len(metrics) != 1 or next(iter(metrics))[1] is None or not compared:
            header = [cell for i, cell in enumerate(header) if i != win_index]
            rows = [[cell for i, cell in enumerate(row) if i != win_index] for row in rows]
        else:
            metric = next(iter(metrics))[0]
            header[win_index] = {**header[win_index], "value": with_arrow(f"Win rate, {metric}", False),
                                 "description": f"Mean over the columns of the share of other models this model beats "
                                                f"on {metric} (every column measures it, in the same direction)."}
    header = [{**cell, "value": with_arrow(str(cell.get("value", "")), cell.get("lower_is_better"))}
              if i > 0 else cell for i, cell in enumerate(header)]
    return {**table, "header": header, "rows": rows}


def landing_table(caps: List[Capability], metrics: Dict[str, dict], model_names: Dict[str, str]) -> dict:
    """HELM's Table for the landing group: one row per capability."""
    from helm.benchmark.presentation.table import Cell, HeaderCell, Table
    from helm.common.general import asdict_without_nones

    header = [HeaderCell("Capability"), HeaderCell("#", description="Order of the schema", lower_is_better=True),
              HeaderCell("Paper and what is measured"), HeaderCell("Headline (best model)"),
              HeaderCell("Runs and models"), HeaderCell("Plots")]
    rows = []
    for index, cap in enumerate(caps, 1):
        models = sorted({model_names.get(run["model"], run["model"]) for run in cap.runs})
        rows.append([
            Cell(cap.display_name, href=f"/leaderboard/{cap.name}"),
            Cell(index),
            Cell(cap.short_description or cap.description, markdown=True),
            Cell(headline(cap, metrics, model_names)),
            Cell(f"{len(cap.runs)} runs: {', '.join(models)}" if models else "no runs in this suite"),
            Cell(plot_links(cap.plots) if cap.plots else "none in this suite", markdown=True),
        ])
    return asdict_without_nones(Table(title="Capabilities", header=header, rows=rows, name="capabilities"))


def empty_table(cap: Capability) -> dict:
    return {"title": "No runs in this suite", "name": "no_runs", "links": [],
            "header": [{"value": "Model"}, {"value": "How to add runs"}],
            "rows": [[{"value": "none"}, {"value": cap.short_description or cap.description, "markdown": True}]]}


def build(suite_dir: Path, schema_yaml: dict, plots: Sequence[Tuple[str, Path]] = ()) -> List[Capability]:
    """Rewrite the suite's landing table, group tables and group descriptions (see the module docstring)."""
    schema_json_path = suite_dir / "schema.json"
    groups_dir = suite_dir / "groups"
    if not schema_json_path.is_file() or not groups_dir.is_dir():
        raise ValueError(f"{suite_dir}: no schema.json or groups/ (run `helm-plugins summarize` on this suite first)")
    schema = _read_json(schema_json_path)
    metrics = {m["name"]: m for m in schema_yaml.get("metrics", [])}
    model_names = {m["name"]: m.get("display_name") or m["name"] for m in schema.get("models", [])}
    runs = read_runs(suite_dir)
    caps = capabilities(schema_yaml)
    plots_by_group = group_plots(suite_dir, runs, copy_report_plots(suite_dir, plots))
    for cap in caps:
        members = set(cap.groups)
        cap.runs = [run for run in runs if members & set(run["groups"])]
        cap.plots = [plot for group in cap.groups for plot in plots_by_group.get(group, [])]

    # descriptions: where the plots are
    by_name = {cap.name: cap for cap in caps}
    for group in schema.get("run_groups", []):
        links = by_name[group["name"]].plots if group["name"] in by_name else plots_by_group.get(group["name"], [])
        base = next((g.get("description") or "" for g in schema_yaml["run_groups"] if g["name"] == group["name"]),
                    group.get("description") or "")
        group["description"] = base + (f"\n\nPlots (open in a new tab): {plot_links(links)}" if links else "")
    _write_json(schema_json_path, schema)

    # tables
    landing = landing_group(schema_yaml)["name"]
    across = {g["name"] for g in schema_yaml.get("run_groups", [])
              if (g.get("environment") or {}).get("win_rate") == "across_metrics"}
    for path in sorted(groups_dir.glob("*.json")):
        if path.stem != landing:
            _write_json(path, [clean_table(table, across_metrics=path.stem in across) for table in _read_json(path)])
    _write_json(groups_dir / f"{landing}.json", [landing_table(caps, metrics, model_names)])
    for cap in caps:  # a capability without runs gets a page that says so (HELM writes no table for it)
        if not (groups_dir / f"{cap.name}.json").is_file():
            _write_json(groups_dir / f"{cap.name}.json", [empty_table(cap)])
    return caps


def load_schema(path: Path, plots: Sequence[Tuple[str, Path]] = ()) -> dict:
    """The schema YAML; every group given to --plots must be one of its run groups."""
    import yaml

    schema_yaml = yaml.safe_load(path.read_text(encoding="utf-8"))
    known = {g["name"] for g in schema_yaml["run_groups"]}
    unknown = [group for group, _ in plots if group not in known]
    if unknown:
        raise ValueError(f"--plots: {', '.join(unknown)} not a run group of {path}")
    return schema_yaml


def report(caps: List[Capability], suite_dir: Path) -> None:
    for cap in caps:
        print(f"{cap.display_name}: {len(cap.runs)} runs, {len(cap.plots)} plots")
    print(f"leaderboard written into {suite_dir}")


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "leaderboard", "make a summarized suite's leaderboard readable", __doc__, run)
    parser.add_argument("--suite", required=True, help="a suite summarized by `helm-plugins summarize`")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path")
    parser.add_argument("--plots", action="append", default=[], type=plots_argument, metavar="GROUP=FOLDER",
                        help="link the PNGs of a report folder from a group's page (repeatable)")


def run(args: argparse.Namespace) -> int:
    suite_dir = Path(args.output_path) / "runs" / args.suite
    report(build(suite_dir, load_schema(schema_path(), args.plots), args.plots), suite_dir)
    return 0
