"""Writes the notebooks of this folder from the cell sources below (nbformat 4, no outputs).

    python notebooks/make_notebooks.py

Edit the cells here and rerun: `tests/test_notebooks.py` checks that the `.ipynb` files hold
exactly these cells, and executes every code cell of every notebook in order. No Jupyter
package is needed to write or test them.
"""

import json
import os
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))


def md(text):
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text):
    return ("code", textwrap.dedent(text).strip("\n"))


QUICKSTART = [
    md("""
    # fkeras quickstart

    fkeras is the Keras API on JAX. This notebook trains a small `Sequential` model on
    scikit-learn's bundled 8x8 handwritten digits (no download), plots its training history,
    and saves and reloads it. The code is plain Keras: only the import names fkeras.
    """),
    code("""
    import numpy as np

    import fkeras as keras
    from fkeras.datasets import digits
    from fkeras.layers import Dense, Dropout
    from fkeras.models import Sequential

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2)
    x_train = x_train.reshape(-1, 64).astype("float32") / 16.0  # 17 gray levels, 0-16
    x_test = x_test.reshape(-1, 64).astype("float32") / 16.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    print(x_train.shape, y_train.shape, x_test.shape, y_test.shape)
    """),
    md("""
    ## A model, compiled and trained

    `verbose=2` prints one line per epoch, which reads well in a notebook.
    """),
    code("""
    model = Sequential()
    model.add(Dense(64, activation="relu", input_shape=(64,)))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    """),
    code("""
    history = model.fit(x_train, y_train, epochs=15, batch_size=32, validation_split=0.1,
                        verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    assert accuracy > 0.85
    """),
    md("""
    ## The history, plotted

    `history.history` maps each metric to its per-epoch values. The plot needs matplotlib
    (`pip install matplotlib`); outside Jupyter it uses the Agg backend and only saves the PNG.
    Without matplotlib the cell prints the numbers instead.
    """),
    code("""
    import sys

    try:
        import matplotlib
    except ImportError:
        matplotlib = None

    if matplotlib is None:
        print("matplotlib is not installed; the history as a table:")
        print("epoch  loss    val_loss  accuracy  val_accuracy")
        for epoch, row in enumerate(zip(*(history.history[k] for k in
                                          ("loss", "val_loss", "accuracy", "val_accuracy")))):
            print(f"{epoch + 1:5d}  " + "  ".join(f"{v:.4f}" for v in row))
    else:
        if "ipykernel" not in sys.modules:
            matplotlib.use("Agg")  # headless: draw to files only
        import matplotlib.pyplot as plt

        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
        epochs = range(1, len(history.history["loss"]) + 1)
        ax_loss.plot(epochs, history.history["loss"], label="training")
        ax_loss.plot(epochs, history.history["val_loss"], label="validation")
        ax_loss.set(title="loss", xlabel="epoch")
        ax_acc.plot(epochs, history.history["accuracy"], label="training")
        ax_acc.plot(epochs, history.history["val_accuracy"], label="validation")
        ax_acc.set(title="accuracy", xlabel="epoch")
        ax_acc.legend()
        fig.tight_layout()
        fig.savefig("history.png", dpi=80)
        print("saved history.png")
    """),
    md("""
    ## Predictions, saving and loading
    """),
    code("""
    probs = model.predict(x_test[:8], verbose=0)
    print("predicted:", probs.argmax(axis=-1))
    print("true:     ", y_test[:8].argmax(axis=-1))

    model.save("digits.keras")
    restored = keras.models.load_model("digits.keras")
    np.testing.assert_allclose(restored.predict(x_test[:8], verbose=0), probs, rtol=1e-6)
    print("the reloaded model predicts the same")
    """),
]

FUNCTIONAL_TOUR = [
    md("""
    # A tour of the functional API

    The multi-input, multi-output model of Keras's functional API guide, scaled down so it
    trains in seconds: a headline (a sequence of word indices) goes through an `Embedding` and an
    `LSTM`; an auxiliary output on the LSTM helps train it; auxiliary input features are
    concatenated before the main output.
    """),
    code("""
    import numpy as np

    import fkeras as keras
    from fkeras.layers import LSTM, Dense, Embedding, Input
    from fkeras.models import Model

    keras.utils.set_random_seed(0)
    vocabulary, length = 1000, 20

    main_input = Input(shape=(length,), dtype="int32", name="main_input")
    x = Embedding(output_dim=16, input_dim=vocabulary)(main_input)
    lstm_out = LSTM(8)(x)
    auxiliary_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)

    auxiliary_input = Input(shape=(5,), name="aux_input")
    x = keras.layers.concatenate([lstm_out, auxiliary_input])
    x = Dense(16, activation="relu")(x)
    x = Dense(16, activation="relu")(x)
    main_output = Dense(1, activation="sigmoid", name="main_output")(x)

    model = Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])
    model.summary()
    """),
    md("""
    ## The graph, drawn

    `plot_model` writes Graphviz's DOT language. A `.dot` file needs nothing else; PNG, SVG or
    PDF need Graphviz (and `pip install pydot`), so that part is tried and skipped if absent.
    """),
    code("""
    keras.utils.plot_model(model, to_file="news_model.dot", show_shapes=True)
    print(open("news_model.dot").read())

    try:
        keras.utils.plot_model(model, to_file="news_model.png", show_shapes=True)
        print("wrote news_model.png")
    except ImportError as err:
        print("no PNG:", err)
    """),
    md("""
    ## Training with dicts

    The inputs and outputs are named, so data, losses and loss weights can be given as dicts.
    The labels here are a function of the data, so there is something to learn.
    """),
    code("""
    rng = np.random.RandomState(0)
    headline_data = rng.randint(1, vocabulary, size=(256, length))
    additional_data = rng.randn(256, 5).astype("float32")
    headline_labels = (headline_data[:, :5] < vocabulary // 2).mean(axis=1, keepdims=True) > 0.5
    additional_labels = (additional_data.sum(axis=1, keepdims=True) > 0)
    labels = {"main_output": (headline_labels & additional_labels).astype("float32"),
              "aux_output": headline_labels.astype("float32")}

    model.compile(optimizer="rmsprop",
                  loss={"main_output": "binary_crossentropy", "aux_output": "binary_crossentropy"},
                  loss_weights={"main_output": 1.0, "aux_output": 0.2})
    history = model.fit({"main_input": headline_data, "aux_input": additional_data}, labels,
                        epochs=3, batch_size=32, verbose=2)
    print(sorted(history.history))
    """),
    code("""
    main_pred, aux_pred = model.predict({"main_input": headline_data[:4],
                                         "aux_input": additional_data[:4]}, verbose=0)
    print(main_pred.shape, aux_pred.shape)
    same = model.predict([headline_data[:4], additional_data[:4]], verbose=0)
    np.testing.assert_allclose(same[0], main_pred, rtol=1e-6)
    """),
    md("""
    ## Shared layers and nested models

    One `LSTM` object used twice shares its weights; `layer.get_output_at(i)` answers for
    each call. A model is a layer too: called on new inputs it shares its weights, and
    `plot_model(..., expand_nested=True)` draws it as a cluster.
    """),
    code("""
    tweet_a = Input(shape=(12, 32), name="tweet_a")
    tweet_b = Input(shape=(12, 32), name="tweet_b")
    shared_lstm = LSTM(16)
    encoded_a = shared_lstm(tweet_a)
    encoded_b = shared_lstm(tweet_b)
    assert shared_lstm.get_output_at(0) == encoded_a
    assert shared_lstm.get_output_at(1) == encoded_b
    merged = keras.layers.concatenate([encoded_a, encoded_b], axis=-1)
    same_author = Dense(1, activation="sigmoid")(merged)
    tweets = Model(inputs=[tweet_a, tweet_b], outputs=same_author)
    print(len(tweets.get_weights()), "weight arrays: one LSTM's, once")

    digit = Input(shape=(8, 8, 1))
    features = keras.layers.Flatten()(keras.layers.Conv2D(4, (3, 3))(digit))
    vision = Model(digit, features, name="vision")
    left, right = Input(shape=(8, 8, 1), name="left"), Input(shape=(8, 8, 1), name="right")
    both = keras.layers.concatenate([vision(left), vision(right)])
    pair = Model([left, right], Dense(1, activation="sigmoid")(both))
    keras.utils.plot_model(pair, to_file="pair.dot", expand_nested=True)
    print(open("pair.dot").read())
    """),
]

PURE_JAX = [
    md("""
    # Research with pure functions: init, apply, grad, vmap

    Every fkeras model is also a pair of pure functions. `model.init(key)` returns a variables
    tree `{'params': ..., 'state': ...}`; `model.apply(variables, x, training=..., rng=...)`
    returns `(outputs, new_state)` and reads or writes nothing else, so it composes with
    `jax.jit`, `jax.grad` and `jax.vmap`.
    """),
    code("""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    import fkeras as keras
    from fkeras import losses
    from fkeras.datasets import digits
    from fkeras.layers import Dense, Dropout
    from fkeras.models import Sequential

    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2)
    x_train = x_train.reshape(-1, 64).astype("float32") / 16.0
    x_test = x_test.reshape(-1, 64).astype("float32") / 16.0
    y_train, y_test = y_train.astype("int32"), y_test.astype("int32")

    model = Sequential([Dense(64, activation="relu", input_shape=(64,)), Dropout(0.1),
                        Dense(10, activation="softmax")])
    variables = model.init(jax.random.key(0))
    print(jax.tree_util.tree_map(jnp.shape, variables))
    """),
    md("""
    ## `apply` is pure

    The same variables and inputs give the same outputs, and `training=True` with an `rng`
    turns dropout on.
    """),
    code("""
    probs, new_state = model.apply(variables, x_test[:4])
    again, _ = model.apply(variables, x_test[:4])
    np.testing.assert_array_equal(probs, again)
    dropped, _ = model.apply(variables, x_test[:4], training=True, rng=jax.random.key(1))
    print("inference rows sum to", np.asarray(probs.sum(axis=-1)))
    print("dropout changes the output:", not np.allclose(probs, dropped))
    """),
    md("""
    ## `grad`: a loss over `apply`

    Only `params` are differentiated; the non-trainable `state` is passed along.
    """),
    code("""
    def loss_fn(params, state, x, y, rng):
        probs, _ = model.apply({"params": params, "state": state}, x, training=True, rng=rng)
        return jnp.mean(losses.sparse_categorical_crossentropy(y, probs))

    def global_norm(tree):
        return jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree_util.tree_leaves(tree)))

    params, state = variables["params"], variables["state"]
    grads = jax.jit(jax.grad(loss_fn))(params, state, x_train[:32], y_train[:32],
                                       jax.random.key(2))
    print(jax.tree_util.tree_map(jnp.shape, grads))
    print("gradient norm:", float(global_norm(grads)))
    """),
    md("""
    ## `vmap`: per-example gradients, and an ensemble of initialisations

    `vmap` over the data axis gives one gradient per example; `vmap` over keys gives several
    independent initialisations, stacked on a leading axis, which `vmap` over params then
    evaluates at once.
    """),
    code("""
    def example_loss(params, x, y):
        probs, _ = model.apply({"params": params, "state": state}, x[None])
        return losses.sparse_categorical_crossentropy(y[None], probs)[0]

    per_example = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))(
        params, x_train[:16], y_train[:16])
    norms = jax.vmap(global_norm)(per_example)
    print("per-example gradient norms:", np.round(np.asarray(norms), 3))

    ensemble = jax.vmap(model.init)(jax.random.split(jax.random.key(3), 5))
    print(jax.tree_util.tree_map(jnp.shape, ensemble["params"]))
    ensemble_probs = jax.vmap(lambda v: model.apply(v, x_test)[0])(ensemble)
    print("ensemble predictions:", ensemble_probs.shape)
    """),
    md("""
    ## A custom training loop

    A jitted optax step, written by hand. At the end the trained params go back into the
    Keras facade, where `evaluate` agrees with the pure computation.
    """),
    code("""
    optimizer = optax.adam(1e-3)

    @jax.jit
    def train_step(params, opt_state, x, y, rng):
        loss, grads = jax.value_and_grad(loss_fn)(params, state, x, y, rng)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    opt_state = optimizer.init(params)
    key = jax.random.key(4)
    order_rng = np.random.RandomState(0)
    for epoch in range(10):
        order = order_rng.permutation(len(x_train))
        for i in range(0, len(order) - 31, 32):
            rows = order[i:i + 32]
            key, sub = jax.random.split(key)
            params, opt_state, loss = train_step(params, opt_state, x_train[rows],
                                                 y_train[rows], sub)
        if epoch % 3 == 0 or epoch == 9:
            print(f"epoch {epoch + 1}: loss {float(loss):.4f}")

    probs, _ = jax.jit(model.apply)({"params": params, "state": state}, x_test)
    pure_accuracy = float(np.mean(np.argmax(probs, axis=-1) == y_test))
    model.set_variables({"params": params, "state": state})
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, facade_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"pure accuracy {pure_accuracy:.4f}, model.evaluate {facade_accuracy:.4f}")
    assert abs(pure_accuracy - facade_accuracy) < 1e-6 and pure_accuracy > 0.85
    """),
]

NOTEBOOKS = {
    "quickstart.ipynb": QUICKSTART,
    "functional_api_tour.ipynb": FUNCTIONAL_TOUR,
    "pure_jax_research.ipynb": PURE_JAX,
}


def to_notebook(cells):
    """An nbformat 4 notebook dict with the given (kind, source) cells and no outputs."""
    out = []
    for i, (kind, source) in enumerate(cells):
        lines = source.splitlines(keepends=True)
        cell = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": lines}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main():
    for name, cells in NOTEBOOKS.items():
        path = os.path.join(HERE, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(to_notebook(cells), f, indent=1, ensure_ascii=False)
            f.write("\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
