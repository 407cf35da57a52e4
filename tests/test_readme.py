"""The README's "Bring your own book" section stays true: its column table and its example export."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from krg_liquidity.book.columns import column_table
from krg_liquidity.cli import app
from krg_liquidity.core.status import STATUSES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_column_table_is_the_code_table():
    assert column_table(markdown=True) in README


def test_ci_runs_the_readme_test_commands():
    """The README's default test command and its command for the slow tests are the ones .ci/run runs, and
    .ci/run runs no other test command: what the README calls CI is CI."""
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    default = re.search(r'&& (python -m pytest -m "not slow" [^\n]+)', README).group(1)
    slow = re.search(r"\n    (python -m pytest -m slow [^\n]+)", README).group(1)
    run = [line[line.index("python -m pytest"):] for line in ci.splitlines() if "python -m pytest" in line]
    assert run == [default, slow]


def test_every_status_is_documented():
    table = README[README.index("## Statuses"):]
    assert all(f"| `{status}` |" in table for status in STATUSES)


def test_example_export_runs(tmp_path):
    block = re.search(r"\n    (Ticker,Quantity.*?)\n\n", README, re.S).group(1)
    (tmp_path / "book.csv").write_text("\n".join(line.strip() for line in block.splitlines()) + "\n")
    out = tmp_path / "answer.xlsx"
    result = CliRunner().invoke(app, ["liquidate", str(tmp_path / "book.csv"), "--cash", "1e8", "--trade-time", "1",
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "cash raised" in result.output


def test_bundled_example_commands_run(tmp_path, monkeypatch):
    """The README's two commands on the bundled example, as written (the data folder beside them)."""
    import shlex
    import shutil

    from krg_liquidity.book.datasets import data_path

    block = re.search(r"The bundled example, from a checkout:\n\n(.*?)\n\n", README, re.S).group(1)
    commands = [shlex.split(command) for command in block.replace("\\\n", " ").splitlines()]
    assert [c[:2] for c in commands] == [["krg-liquidity", "liquidate"], ["krg-liquidity", "schedule"]]
    shutil.copytree(data_path("example_portfolio.csv").parent, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = CliRunner().invoke(app, command[1:])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "answer.xlsx").exists() and (tmp_path / "plan.xlsx").exists()


def test_worked_example_prints_what_the_readme_shows():
    """The worked example's summary and impossible-request message, as printed in the README (the method
    line's milliseconds aside; "..." stands for lines or text left out)."""
    import krg_liquidity as krg

    book = krg.Portfolio(*krg.load_example())
    limits = {"risk_band": (0.9, 1.1), "max_total_mi_bps": 50}
    block = re.search(r"```\n\n((?:    .*\n)+)\n\"liquidity\" is", README).group(1)
    shown = [line[4:] for line in block.splitlines()]
    printed = krg.liquidate(book, 1e9, **limits).summary().splitlines()
    assert [line for line in shown if not line.startswith("method")] == \
        [line for line in printed[:len(shown)] if not line.startswith("method")]
    block = re.search(r"\n((?:    cannot raise \$6,000,000,000.*\n)(?:    .*\n)+)", README).group(1)
    with pytest.raises(krg.InfeasibleLiquidation) as info:
        krg.liquidate(book, 6e9, **limits)
    message = str(info.value).splitlines()
    for line in (line[4:] for line in block.splitlines()):  # the same words; numbers (a conic re-solve's) to 0.1%
        found = [got for got in message if re.fullmatch(_loose(line), got)]
        assert found, line
        if "..." not in line:
            values = [[float(n.replace(",", "")) for n in re.findall(NUMBER, text)] for text in (line, found[0])]
            assert values[0] == pytest.approx(values[1], rel=1e-3), (line, found[0])


NUMBER = r"\d[\d,]*(?:\.\d+)?"


def _loose(line: str) -> str:
    """A regex for a printed line as the README shows it: "..." for text left out, any number where it has one."""
    parts = re.split(f"(\\.\\.\\.|{NUMBER})", line)
    return "".join(".*" if part == "..." else NUMBER if re.fullmatch(NUMBER, part) else re.escape(part)
                   for part in parts)


def test_synthetic_universe_recipe_makes_cli_files(tmp_path, monkeypatch):
    """Issue 16 trial item 23: the README's recipe turns synthetic_universe into a holdings CSV and a
    factor-model workbook the CLI reads, with the same answer as Python."""
    import json

    import krg_liquidity as krg

    block = re.search(r"## Data\n.*?```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(block, scope)
    assert "factor_model=model" in block
    result = CliRunner().invoke(app, ["liquidate", "synthetic_book.csv", "--factor-model", "synthetic_factors.xlsx",
                                      "--cash", "10%", "--exact-shares", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["cost_usd"] == pytest.approx(krg.liquidate(scope["book"], "10%").cost_usd, rel=1e-9)


def test_the_group_limits_example_runs_as_written():
    """The README's group example once asked for 60% of a book whose limits allow 16%, by a column it lacks."""
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    block = next(b for b in blocks if 'group_column="Sector"' in b)
    scope: dict = {"krg": __import__("krg_liquidity")}
    exec(block, scope)  # noqa: S102 - the README's own code
    result = scope["result"]
    assert result.status == "optimal"
    assert (result.groups["limit_reached"] != "").any() and list(result.liquidity_left.index) == ["today", "after"]


def test_the_per_name_defaults_example_runs_as_written():
    """The defaults' block runs on the book of the block before it, and the defaults change the answer."""
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    shape = next(b for b in blocks if 'group_column="Sector"' in b)
    block = next(b for b in blocks if "max_sold_fraction=0.5" in b)
    scope: dict = {"krg": __import__("krg_liquidity")}
    exec(shape, scope)  # noqa: S102 - the README's own code
    exec(block, scope)  # noqa: S102
    result, book = scope["result"], scope["book"]
    assert result.status == "optimal" and result.request["max_sold_fraction"] == 0.5
    plain = scope["krg"].liquidate(book, "10%")
    assert result.cost_usd > plain.cost_usd * (1 + 1e-6)
