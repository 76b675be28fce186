"""The demo suite's leaderboard in helm-server, rendered by headless Chromium: the landing page is a table of
contents of the capabilities listed in the schema, each capability's page shows only models that ran its
scenarios, and the plots are one click away."""

import html
import json
import re
import urllib.request
from pathlib import Path

import pytest
import yaml

from helm_plugins.summarize import schema_path
from tests import helm_server

pytestmark = pytest.mark.slow

SCHEMA = yaml.safe_load(schema_path().read_text())
GROUPS = {g["name"]: g for g in SCHEMA["run_groups"]}
LANDING = SCHEMA["run_groups"][0]
CAPABILITIES = LANDING["subgroups"]
PLUMBING = {"hp_plumbing", "hp_sp_plumbing", "hp_judges_plumbing"}


def render(url: str, profile: Path) -> str:
    return helm_server.render(url, profile, budget_ms=8000)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return response.read()


def body_rows(dom: str):
    """The rendered table's rows, each a list of cell texts."""
    body = dom[dom.index("<tbody"):dom.index("</tbody>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def test_the_schema_lists_capabilities_without_plumbing():
    assert LANDING["category"] == "All scenarios" and len(CAPABILITIES) >= 10
    for name in CAPABILITIES:
        group = GROUPS[name]
        assert group.get("short_description") and group.get("environment", {}).get("main_name"), name
        assert PLUMBING.isdisjoint(group.get("subgroups", [])), name
    assert PLUMBING.isdisjoint(CAPABILITIES)


def test_landing_page_is_a_table_of_contents(leaderboard_server, leaderboard_suite, tmp_path):
    dom = render(f"{leaderboard_server}/#/leaderboard", tmp_path / "profile")
    assert f"Leaderboard: {LANDING['display_name']}" in dom
    assert "Mean win rate" not in dom and "Win rate" not in dom
    rows = {row[0]: row for row in body_rows(dom)}
    assert set(rows) == {GROUPS[name]["display_name"] for name in CAPABILITIES}  # one row per capability
    for name in CAPABILITIES:  # each row links to its capability's page
        assert f'href="#/leaderboard/{name}"' in dom, name
    # the headline of the capabilities this suite ran: the best model, its value and its interval
    synthetic = " ".join(rows[GROUPS["hp_synthetic"]["display_name"]])
    assert re.search(r"↑ \d\.\d+ \[\d\.\d+, \d\.\d+\] \(95% CI, n=20\), tiny-default", synthetic), synthetic
    pretraining = " ".join(rows[GROUPS["hp_pretraining"]["display_name"]])
    stats = json.loads(next((leaderboard_suite / "benchmark_output" / "runs" / "t").glob("hp_pretrain:*/stats.json"))
                       .read_text())
    val_loss = next(s["mean"] for s in stats if s["name"]["name"] == "val_loss" and s["name"]["split"] == "valid")
    assert f"↓ {val_loss:.3g}" in pretraining and "pretrain-demo" in pretraining, pretraining
    assert "no run of this suite" in " ".join(rows[GROUPS["hp_provenance"]["display_name"]])


def test_capability_pages_have_no_empty_rows_and_comparable_win_rates(leaderboard_server, tmp_path):
    suite = f"{leaderboard_server}/benchmark_output/runs/t"
    for name in CAPABILITIES:
        tables = json.loads(get(f"{suite}/groups/{name}.json"))
        assert tables, name
        for table in tables:
            for row in table["rows"]:
                assert any(cell.get("value") is not None for cell in row[1:]), (name, table["title"], row[0])
            headers = [cell["value"] for cell in table["header"]]
            assert "Mean win rate" not in headers, (name, table["title"])
            for header in table["header"][1:]:
                if header.get("lower_is_better") is not None:
                    assert header["value"].endswith("↓" if header["lower_is_better"] else "↑"), header
    # rendered: the runner models sit in their own capability, not in the evaluation tables
    synthetic = render(f"{leaderboard_server}/#/leaderboard/hp_synthetic", tmp_path / "profile")
    rows = body_rows(synthetic)
    assert rows and all(any(cell not in ("", "-") for cell in row[1:]) for row in rows)
    assert {row[0] for row in rows} == {"tiny-default"}
    pretraining = render(f"{leaderboard_server}/#/leaderboard/hp_pretraining", tmp_path / "profile")
    assert [row[0].rsplit("/", 1)[-1] for row in body_rows(pretraining)] == ["pretrain-demo"]


def test_plots_are_one_click_from_their_group(leaderboard_server, tmp_path):
    dom = render(f"{leaderboard_server}/#/leaderboard/hp_pretraining", tmp_path / "profile")
    links = re.findall(r'href="(/benchmark_output/[^"]+\.png)"', dom)
    names = {link.rsplit("/", 1)[-1] for link in links}
    assert {"loss_curve.png", "planted_report_plot.png"} <= names, links
    for link in links:
        assert get(leaderboard_server + html.unescape(link)).startswith(b"\x89PNG"), link
    speculation = render(f"{leaderboard_server}/#/leaderboard/hp_speculative_decoding", tmp_path / "profile")
    assert "speculation.png" in speculation
