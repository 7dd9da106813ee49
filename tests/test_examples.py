"""The scripts in examples/: each runs with `--quick` and prints its final metric line; their
numpy stand-ins for Keras preprocessing agree with Keras; missing data falls back to synthetic
data unless `--require-data`; real dataset files are read when present. Also `plot_model` /
`model_to_dot`, which the notebooks use, checked on the DOT text (no Graphviz needed).

Scripts run in this process (`runpy` with `sys.argv` patched), from an empty folder, with
`FKERAS_DATA` pointing at an empty folder so no cached dataset is picked up.
"""

import argparse
import os
import pathlib
import re
import runpy
import stat
import sys

import numpy as np
import pytest

from fkeras.layers import LSTM, Concatenate, Dense, Embedding, Flatten, Input, concatenate
from fkeras.models import Model, Sequential
from fkeras.utils import _plot_model
from fkeras.utils._plot_model import dot_source, model_to_dot, plot_model

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parent.parent / "examples"
ACCURACY = r"^Test accuracy: (0(\.\d+)?|1(\.0+)?)$"

# script -> (arguments, the final line it must print, what it says when it made up data)
RUNS = {
    "mnist_mlp.py": (["--quick"], ACCURACY, "SYNTHETIC"),
    "mnist_cnn.py": (["--quick"], ACCURACY, "SYNTHETIC"),
    "cifar10_cnn.py": (["--quick"], ACCURACY, "SYNTHETIC"),
    "imdb_lstm.py": (["--quick"], ACCURACY, "SYNTHETIC"),
    "reuters_mlp.py": (["--quick"], ACCURACY, "SYNTHETIC"),
    "lstm_text_generation.py": (["--quick"], r"^Final loss: \d+\.\d+$", "built-in text"),
    "research_pure_jax.py": (["--quick", "--members", "3"], r"^Ensemble test accuracy: 0\.\d+$",
                             None),
    "digits_mlp.py": (["--epochs", "3"], ACCURACY, None),
}
DATASET_SCRIPTS = ["mnist_mlp.py", "mnist_cnn.py", "cifar10_cnn.py", "imdb_lstm.py",
                   "reuters_mlp.py", "lstm_text_generation.py"]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """An empty working folder and an empty dataset folder; downloads off."""
    data = tmp_path / "datasets"
    data.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("FKERAS_DATA", str(data))
    monkeypatch.delenv("FKERAS_DOWNLOAD", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return data


def run_example(name, args, monkeypatch, capsys) -> list[str]:
    """Runs examples/<name> as `python examples/<name> args...`; returns its output lines."""
    path = str(EXAMPLES_DIR / name)
    monkeypatch.setattr(sys, "argv", [path, *args])
    runpy.run_path(path, run_name="__main__")
    return capsys.readouterr().out.splitlines()


def script_namespace(name) -> dict:
    """The script's functions and constants, without running `main`."""
    return runpy.run_path(str(EXAMPLES_DIR / name), run_name="examples_under_test")


def test_every_example_is_exercised():
    assert sorted(p.name for p in EXAMPLES_DIR.glob("*.py")) == sorted(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs_quick(name, sandbox, monkeypatch, capsys):
    args, final_line, synthetic_note = RUNS[name]
    lines = run_example(name, args, monkeypatch, capsys)
    metric_lines = [line for line in lines if re.match(final_line, line.strip())]
    assert metric_lines, f"{name} printed no line matching {final_line!r}:\n" + "\n".join(
        lines[-15:])
    if synthetic_note:
        assert any(synthetic_note in line for line in lines)
    assert os.listdir(".") == [], "examples write nothing unless asked"


@pytest.mark.parametrize("name", DATASET_SCRIPTS)
def test_require_data_refuses_missing_files(name, sandbox, monkeypatch, capsys):
    with pytest.raises(SystemExit) as info:
        run_example(name, ["--quick", "--require-data"], monkeypatch, capsys)
    assert str(info.value).startswith("--require-data:")
    assert str(sandbox) in str(info.value)  # the error says where it looked


# ---------------------------------------------------------------------------------------------
# Real dataset files, in Keras's formats, are read when present.


def _object_array(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, seq in enumerate(seqs):
        out[i] = list(seq)
    return out


def _write_mnist(folder, n_train=64, n_test=32):
    rng = np.random.default_rng(0)
    np.savez(folder / "mnist.npz",
             x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
             x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, n_test, dtype=np.uint8))


def _seqs(rng, n, high):
    return _object_array([rng.integers(1, high, rng.integers(3, 30)).tolist() for _ in range(n)])


def _write_imdb(folder):
    rng = np.random.default_rng(1)
    np.savez(folder / "imdb.npz", x_train=_seqs(rng, 20, 30000), y_train=rng.integers(0, 2, 20),
             x_test=_seqs(rng, 10, 30000), y_test=rng.integers(0, 2, 10))


def _write_reuters(folder):
    rng = np.random.default_rng(2)
    np.savez(folder / "reuters.npz", x=_seqs(rng, 50, 5000), y=rng.integers(0, 46, 50))


def _write_cifar10_bin(folder):
    rng = np.random.default_rng(3)
    batches = folder / "cifar-10-batches-bin"
    batches.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = rng.integers(0, 256, (4, 1 + 3072), dtype=np.uint8)
        records[:, 0] %= 10
        (batches / name).write_bytes(records.tobytes())


def test_mnist_mlp_trains_on_the_real_file(sandbox, monkeypatch, capsys):
    _write_mnist(sandbox)
    lines = run_example("mnist_mlp.py", ["--quick", "--require-data"], monkeypatch, capsys)
    assert "64 train samples" in lines and "32 test samples" in lines
    assert not any("SYNTHETIC" in line for line in lines)
    assert any(re.match(ACCURACY, line) for line in lines)


@pytest.mark.parametrize("name, write, n_train, x_shape", [
    ("mnist_cnn.py", _write_mnist, 64, (64, 28, 28)),
    ("imdb_lstm.py", _write_imdb, 20, (20,)),
    ("reuters_mlp.py", _write_reuters, 40, (40,)),
    ("cifar10_cnn.py", _write_cifar10_bin, 20, (20, 32, 32, 3)),
])
def test_load_data_reads_real_files_and_slices(name, write, n_train, x_shape, sandbox, capsys):
    write(sandbox)
    args = argparse.Namespace(require_data=True, seed=0)
    load_data = script_namespace(name)["load_data"]
    (x_train, y_train), _ = load_data(args, 1000, 1000)
    assert x_train.shape == x_shape and len(y_train) == n_train
    assert "SYNTHETIC" not in capsys.readouterr().out
    (x_small, y_small), (x_test_small, _) = load_data(args, 3, 2)
    assert len(x_small) == len(y_small) == 3 and len(x_test_small) == 2


@pytest.mark.parametrize("name, synthetic, x_dtype", [
    ("mnist_mlp.py", "synthetic_mnist", np.uint8),
    ("cifar10_cnn.py", "synthetic_cifar10", np.uint8),
])
def test_synthetic_images_have_the_real_format(name, synthetic, x_dtype):
    (x_train, y_train), (x_test, _) = script_namespace(name)[synthetic](10, 6)
    real = {"mnist_mlp.py": ((28, 28), (10,)), "cifar10_cnn.py": ((32, 32, 3), (10, 1))}[name]
    assert x_train.dtype == x_dtype and x_train.shape[1:] == real[0]
    assert y_train.shape == real[1] and y_train.dtype == np.uint8 and len(x_test) == 6
    assert y_train.max() < 10


@pytest.mark.parametrize("name, synthetic, classes", [
    ("imdb_lstm.py", "synthetic_imdb", 2),
    ("reuters_mlp.py", "synthetic_reuters", 46),
])
def test_synthetic_sequences_have_the_real_format(name, synthetic, classes):
    (x_train, y_train), _ = script_namespace(name)[synthetic](30, 5, 500)
    assert x_train.dtype == object and x_train.shape == (30,)
    assert all(seq[0] == 1 and max(seq) < 500 and min(seq[1:]) >= 4 for seq in x_train)
    assert y_train.dtype == np.int64 and 0 <= y_train.min() and y_train.max() < classes


def test_text_generation_reads_text_file_then_nietzsche(sandbox, tmp_path):
    read_corpus = script_namespace("lstm_text_generation.py")["read_corpus"]
    book = tmp_path / "book.txt"
    book.write_text("Some Text, in UTF-8: é.", encoding="utf-8")
    assert read_corpus(argparse.Namespace(text=str(book), require_data=True)) == (
        "some text, in utf-8: é.")
    (sandbox / "nietzsche.txt").write_text("PREFACE\nSupposing", encoding="utf-8")
    assert read_corpus(argparse.Namespace(text=None, require_data=True)) == "preface\nsupposing"


# ---------------------------------------------------------------------------------------------
# Keras's preprocessing as the examples use it.


def test_tokenizer_reads_the_datasets_object_arrays():
    """reuters/imdb `load_data` give object arrays of lists, as the example passes them."""
    from fkeras.preprocessing.text import Tokenizer

    seqs = _object_array([[1, 3, 3, 9], [], [0, 2, 2, 2]])
    np.testing.assert_array_equal(Tokenizer(num_words=5).sequences_to_matrix(seqs, "binary"),
                                  [[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 1, 0, 0]])


def _shifted(image, flip, dy, dx, s):
    image = image[:, ::-1] if flip else image
    padded = np.pad(image, ((s, s), (s, s), (0, 0)), mode="edge")
    h, w = image.shape[:2]
    return padded[s + dy:s + dy + h, s + dx:s + dx + w]


def test_augment_is_a_flip_and_an_edge_filled_shift():
    ns = script_namespace("cifar10_cnn.py")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 8, 9, 3)).astype("float32")
    out = ns["augment"](x, np.random.default_rng(1), max_shift=2)
    assert out.shape == x.shape and out.dtype == x.dtype
    seen = set()
    for image, result in zip(x, out):
        matches = [(f, dy, dx) for f in (False, True) for dy in range(-2, 3)
                   for dx in range(-2, 3) if np.array_equal(_shifted(image, f, dy, dx, 2), result)]
        assert matches, "each output is its input flipped and/or shifted"
        seen.add(matches[0])
    assert len(seen) > 1


def test_augmented_batches_cover_the_data_and_change_each_epoch():
    ns = script_namespace("cifar10_cnn.py")
    x = np.arange(10 * 4 * 4 * 3, dtype="float32").reshape(10, 4, 4, 3)
    y = np.arange(10)
    batches = ns["AugmentedBatches"](x, y, batch_size=4, seed=0)
    assert len(batches) == 3
    first = [batches[i] for i in range(3)]
    assert sorted(np.concatenate([b[1] for b in first]).tolist()) == list(range(10))
    assert first[2][0].shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(batches[0][0], first[0][0])  # same epoch: same batch
    batches.on_epoch_end()
    assert not np.array_equal(batches[0][1], first[0][1]) or not np.array_equal(
        batches[0][0], first[0][0])


def test_sample_picks_the_mode_at_low_temperature():
    sample = script_namespace("lstm_text_generation.py")["sample"]
    np.random.seed(0)
    assert sample(np.array([0.1, 0.7, 0.2]), temperature=0.01) == 1
    assert {sample(np.array([0.5, 0.5]), 1.0) for _ in range(50)} == {0, 1}


# ---------------------------------------------------------------------------------------------
# plot_model / model_to_dot on the DOT text.

NODE = re.compile(r'^\s*"([^"]+)" \[label="((?:[^"\\]|\\.)*)"\];$', re.MULTILINE)
EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)";$', re.MULTILINE)


def nodes_and_edges(text):
    return dict(NODE.findall(text)), set(EDGE.findall(text))


def news_model():
    """The functional API guide's two-input, two-output model, small."""
    main_input = Input(shape=(10,), dtype="int32", name="main_input")
    x = Embedding(output_dim=8, input_dim=50, name="embedding")(main_input)
    lstm_out = LSTM(4, name="lstm")(x)
    aux_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    aux_input = Input(shape=(5,), name="aux_input")
    x = concatenate([lstm_out, aux_input], name="concatenate")
    x = Dense(6, activation="relu", name="hidden")(x)
    main_output = Dense(1, activation="sigmoid", name="main_output")(x)
    return Model(inputs=[main_input, aux_input], outputs=[main_output, aux_output])


def test_dot_of_a_multi_input_multi_output_model():
    text = dot_source(news_model())
    nodes, edges = nodes_and_edges(text)
    assert nodes == {
        "main_input": "main_input: InputLayer", "embedding": "embedding: Embedding",
        "lstm": "lstm: LSTM", "aux_output": "aux_output: Dense",
        "aux_input": "aux_input: InputLayer", "concatenate": "concatenate: Concatenate",
        "hidden": "hidden: Dense", "main_output": "main_output: Dense",
    }
    assert edges == {
        ("main_input", "embedding"), ("embedding", "lstm"), ("lstm", "aux_output"),
        ("lstm", "concatenate"), ("aux_input", "concatenate"), ("concatenate", "hidden"),
        ("hidden", "main_output"),
    }
    assert text.startswith("digraph G {") and 'rankdir="TB";' in text and "dpi=96;" in text
    assert "node [shape=record];" in text


def test_dot_labels_with_shapes_dtype_and_activations():
    model = news_model()
    nodes, _ = nodes_and_edges(dot_source(model, show_shapes=True, show_dtype=True,
                                          show_layer_activations=True, rankdir="LR", dpi=50))
    assert nodes["main_input"] == (
        "{main_input: InputLayer|int32}|{input:|output:}|{{(None, 10)}|{(None, 10)}}")
    assert nodes["concatenate"] == ("{concatenate: Concatenate|float32}|{input:|output:}|"
                                    "{{[(None, 4), (None, 5)]}|{(None, 9)}}")
    assert nodes["hidden"].startswith("{{hidden: Dense|relu}|float32}")
    nodes, _ = nodes_and_edges(dot_source(model, show_layer_names=False))
    assert nodes["lstm"] == "LSTM"


def test_dot_of_a_sequential_model_includes_its_input():
    model = Sequential([Dense(4, input_shape=(3,), name="d1"), Dense(2, name="d2")], name="seq")
    nodes, edges = nodes_and_edges(dot_source(model))
    (input_name,) = [n for n, label in nodes.items() if label.endswith("InputLayer")]
    assert set(nodes) == {input_name, "d1", "d2"}
    assert edges == {(input_name, "d1"), ("d1", "d2")}


def two_way_inner():
    """A nested model with two inputs and two outputs, each output from one input."""
    i1, i2 = Input(shape=(3,), name="i1"), Input(shape=(3,), name="i2")
    inner = Model([i1, i2], [Dense(2, name="p")(i1), Dense(2, name="q")(i2)], name="inner")
    x1, x2 = Input(shape=(3,), name="x1"), Input(shape=(3,), name="x2")
    y1, y2 = inner([x2, x1])  # crossed: x2 feeds i1, x1 feeds i2
    out = Concatenate(name="join")([y2, y1])
    return Model([x1, x2], out, name="outer")


def test_dot_of_a_nested_model_collapsed():
    nodes, edges = nodes_and_edges(dot_source(two_way_inner()))
    assert set(nodes) == {"x1", "x2", "inner", "join"}
    assert nodes["inner"] == "inner: Model"
    assert edges == {("x1", "inner"), ("x2", "inner"), ("inner", "join")}


def test_dot_of_a_nested_model_expanded():
    text = dot_source(two_way_inner(), expand_nested=True, show_shapes=True)
    nodes, edges = nodes_and_edges(text)
    assert set(nodes) == {"x1", "x2", "i1", "i2", "p", "q", "join"}
    assert edges == {("x2", "i1"), ("x1", "i2"), ("i1", "p"), ("i2", "q"), ("p", "join"),
                     ("q", "join")}
    cluster = text[text.index('subgraph "cluster_inner" {'):]
    cluster = cluster[:cluster.index("\n  }")]
    assert 'label="inner";' in cluster and 'style="dashed";' in cluster
    assert all(f'"{n}" [label=' in cluster for n in ("i1", "i2", "p", "q"))
    assert '"x1" [label=' not in cluster


def test_dot_of_a_nested_model_with_dict_outputs_expanded():
    i = Input(shape=(3,), name="di")
    inner = Model(i, {"zz": Dense(2, name="pz")(i), "aa": Dense(2, name="pa")(i)}, name="dict")
    x = Input(shape=(3,), name="dx")
    outputs = inner(x)  # a call flattens dict outputs in key order: aa, then zz
    model = Model(x, Dense(1, name="after_zz")(outputs["zz"]))
    _, edges = nodes_and_edges(dot_source(model, expand_nested=True))
    assert edges == {("dx", "di"), ("di", "pz"), ("di", "pa"), ("pz", "after_zz")}


def test_dot_of_a_shared_model_and_a_shared_layer():
    inner = Sequential([Dense(3, input_shape=(4,), name="s1")], name="shared_seq")
    a, b = Input(shape=(4,), name="a"), Input(shape=(4,), name="b")
    flatten = Flatten(name="flat")
    c, d = Input(shape=(2, 3), name="c"), Input(shape=(6,), name="d")
    merged = concatenate([inner(a), inner(b), flatten(c), flatten(d)], name="merged")
    model = Model([a, b, c, d], merged)
    nodes, edges = nodes_and_edges(dot_source(model, show_shapes=True))
    assert ("a", "shared_seq") in edges and ("b", "shared_seq") in edges
    assert "{{multiple}|{(None, 6)}}" in nodes["flat"]  # called on two input shapes
    nodes, edges = nodes_and_edges(dot_source(model, expand_nested=True))
    (seq_input,) = [n for n in nodes if n.startswith("shared_seq")]
    assert {("a", seq_input), ("b", seq_input), (seq_input, "s1"), ("s1", "merged")} <= edges
    assert sum(1 for e in edges if e == ("s1", "merged")) == 1  # drawn once


def test_labels_escape_record_characters():
    assert _plot_model._escape('a{b}|<c>"d"') == 'a\\{b\\}\\|\\<c\\>\\"d\\"'
    assert _plot_model._quote('x\\"y') == '"x\\"y"'
    assert _plot_model._quote('x"y') == '"x\\"y"'


def test_unbuilt_model_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="has not yet been built"):
        dot_source(Sequential([Dense(2)]))
    with pytest.raises(ValueError, match="Received: rankdir='XY'"):
        dot_source(news_model(), rankdir="XY")
    with pytest.raises(ValueError, match="layer_range"):
        model_to_dot(news_model(), layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        plot_model(news_model(), to_file="m.dot", show_trainable=True)


def test_model_to_dot_returns_text_or_pydot():
    model = news_model()
    dot = model_to_dot(model, show_shapes=True)
    if _plot_model._import_pydot() is None:
        assert dot == dot_source(model, show_shapes=True)
    else:
        assert {n.get_name().strip('"') for n in dot.get_nodes()} >= {"lstm", "aux_input"}


def test_plot_model_writes_dot_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(_plot_model.shutil, "which", lambda *_: None)
    monkeypatch.setattr(_plot_model, "_import_pydot", lambda: None)
    model = news_model()
    assert plot_model(model, to_file=tmp_path / "m.dot", show_shapes=True) is None
    assert (tmp_path / "m.dot").read_text() == dot_source(model, show_shapes=True)
    with pytest.raises(ImportError, match=r"You must install pydot .* and graphviz"):
        plot_model(model, to_file=str(tmp_path / "m.png"))
    assert not (tmp_path / "m.png").exists()


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """A `dot` program on the PATH that writes '<format>\\n<stdin>' to its -o file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "dot"
    program.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "fmt, out = sys.argv[1][2:], sys.argv[sys.argv.index('-o') + 1]\n"
        "if fmt == 'bad':\n"
        "    sys.exit('Format: \"bad\" not recognized.')\n"
        "open(out, 'w').write(fmt + '\\n' + sys.stdin.read())\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return program


@pytest.mark.parametrize("to_file, fmt", [("m.png", "png"), ("m.svg", "svg"), ("m.PDF", "pdf"),
                                          ("model", "png")])
def test_plot_model_renders_with_the_dot_program(fake_dot, tmp_path, to_file, fmt):
    model = news_model()
    plot_model(model, to_file=str(tmp_path / to_file), show_shapes=True, rankdir="LR")
    written = (tmp_path / to_file).read_text()
    assert written == fmt + "\n" + dot_source(model, show_shapes=True, rankdir="LR")


def test_plot_model_reports_a_failed_render(fake_dot, tmp_path):
    with pytest.raises(OSError, match="not recognized"):
        plot_model(news_model(), to_file=str(tmp_path / "m.bad"))


def test_dot_text_parses_with_pydot():
    pydot = pytest.importorskip("pydot")
    (graph,) = pydot.graph_from_dot_data(dot_source(two_way_inner(), expand_nested=True,
                                                    show_shapes=True))
    assert len(graph.get_subgraph_list()) == 1
    assert len(graph.get_edges()) + len(graph.get_subgraph_list()[0].get_edges()) == 6
