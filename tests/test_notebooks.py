"""The notebooks in notebooks/: valid nbformat 4, in step with make_notebooks.py, and every code
cell runs, in order, in one fresh namespace per notebook, from an empty temporary folder."""

import json
import os
import pathlib
import re
import runpy
import time

import pytest

NOTEBOOKS_DIR = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
TIME_BUDGET_S = 60  # per notebook; each is meant to take well under 20 s on a 2-core CPU


def load(name: str) -> dict:
    with open(NOTEBOOKS_DIR / name, encoding="utf-8") as f:
        return json.load(f)


def cell_source(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def test_the_three_notebooks_are_there():
    assert {"quickstart.ipynb", "functional_api_tour.ipynb", "pure_jax_research.ipynb"} <= set(
        NOTEBOOKS
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_nbformat4_without_outputs(name):
    nb = load(name)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    ids = [cell["id"] for cell in nb["cells"]]
    assert len(set(ids)) == len(ids)
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code")
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            assert not cell_source(cell).lstrip().startswith(("%", "!")), "no IPython magics"


def test_notebooks_match_their_generator():
    make = runpy.run_path(str(NOTEBOOKS_DIR / "make_notebooks.py"))
    assert sorted(make["NOTEBOOKS"]) == NOTEBOOKS
    for name, cells in make["NOTEBOOKS"].items():
        stored = [(c["cell_type"], cell_source(c)) for c in load(name)["cells"]]
        assert stored == list(cells), (
            f"{name} differs from notebooks/make_notebooks.py: run `python "
            "notebooks/make_notebooks.py` after editing the cells there."
        )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FKERAS_DATA", str(tmp_path / "no-datasets"))
    monkeypatch.delenv("FKERAS_DOWNLOAD", raising=False)
    namespace = {"__name__": "__main__"}
    start = time.perf_counter()
    for index, cell in enumerate(load(name)["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = cell_source(cell)
        try:
            exec(compile(source, f"<{name} cell {index}>", "exec"), namespace)  # noqa: S102
        except Exception as err:  # noqa: BLE001 - any error fails the test, with its cell
            pytest.fail(f"{name}, cell {index} raised {type(err).__name__}: {err}\n\n{source}")
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_BUDGET_S, f"{name} took {elapsed:.1f}s"
    out = capsys.readouterr().out
    if name == "quickstart.ipynb":
        assert "test accuracy" in out
        assert ("saved history.png" in out) == os.path.exists(tmp_path / "history.png")
    if name == "functional_api_tour.ipynb":
        dot = (tmp_path / "news_model.dot").read_text()  # auto names may carry a suffix
        assert re.search(r'"main_input" -> "embedding(_\d+)?";', dot)
        assert re.search(r'"lstm(_\d+)?" -> "aux_output";', dot)
        assert "subgraph" in (tmp_path / "pair.dot").read_text()
    if name == "pure_jax_research.ipynb":
        assert "model.evaluate" in out
