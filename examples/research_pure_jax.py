"""A Keras model as pure JAX functions: a hand-written jit + optax loop, and an ensemble by vmap.

    python examples/research_pure_jax.py            # 30 epochs, 4 ensemble members
    python examples/research_pure_jax.py --quick    # 5 epochs: a smoke test
    python examples/research_pure_jax.py --members 8

The model is built with the Keras API, but nothing below calls `fit`: `model.init(key)` gives
a variables tree `{'params': ..., 'state': ...}` and `model.apply(variables, x, training=...,
rng=...)` is a pure function returning `(outputs, new_state)`. So

1. one model trains in a jitted step written by hand with optax (`jax.value_and_grad` of a loss
   over `model.apply`);
2. an ensemble of `--members` models, each from its own initialisation and with its own dropout
   and shuffling keys, trains in parallel: `jax.vmap` over the stacked params (made by
   `jax.vmap(model.init)`) of a whole epoch written as a `lax.scan` over batches;
3. the trained params go back into the Keras facade (`model.set_variables`) and
   `model.evaluate` agrees with the pure computation.

Data: scikit-learn's bundled 8x8 digits (`fkeras.datasets.digits`), no download.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import fkeras as keras
from fkeras import losses
from fkeras.datasets import digits
from fkeras.layers import Dense, Dropout
from fkeras.models import Sequential


def load_digits(seed):
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2, seed=seed)
    def scale(x):
        return (x.reshape(len(x), 64) / 16.0).astype("float32")

    return (scale(x_train), y_train.astype("int32")), (scale(x_test), y_test.astype("int32"))


def build_model():
    return Sequential([
        Dense(128, activation="relu", input_shape=(64,)),
        Dropout(0.2),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def make_functions(model, optimizer):
    """The pure pieces: loss, one training step, a scanned epoch, and accuracy."""

    def loss_fn(params, state, x, y, rng):
        variables = {"params": params, "state": state}
        probs, new_state = model.apply(variables, x, training=True, rng=rng)
        return jnp.mean(losses.sparse_categorical_crossentropy(y, probs)), new_state

    def train_step(params, opt_state, state, x, y, rng):
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, x, y, rng)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, state, loss

    def train_epoch(params, opt_state, state, x, y, rng, batch_size):
        """One shuffled pass over (x, y) as a `lax.scan` (the last partial batch is dropped)."""
        shuffle_key, step_key = jax.random.split(rng)
        steps = x.shape[0] // batch_size
        order = jax.random.permutation(shuffle_key, x.shape[0])[: steps * batch_size]
        batches = order.reshape(steps, batch_size)

        def body(carry, step):
            params, opt_state, state = carry
            rows = batches[step]
            params, opt_state, state, loss = train_step(
                params, opt_state, state, x[rows], y[rows], jax.random.fold_in(step_key, step))
            return (params, opt_state, state), loss

        (params, opt_state, state), step_losses = jax.lax.scan(
            body, (params, opt_state, state), jnp.arange(steps))
        return params, opt_state, state, jnp.mean(step_losses)

    def predict(params, state, x):
        return model.apply({"params": params, "state": state}, x)[0]

    return train_step, train_epoch, predict


def accuracy(probs, y):
    return float(np.mean(np.argmax(np.asarray(probs), axis=-1) == np.asarray(y)))


def train_single(model, fns, optimizer, data, args):
    """One model, one jitted step per batch, a Python loop over batches."""
    train_step, _, predict = fns
    (x_train, y_train), (x_test, y_test) = data
    variables = model.init(jax.random.key(args.seed))
    params, state = variables["params"], variables["state"]
    opt_state = optimizer.init(params)
    step = jax.jit(train_step, donate_argnums=(0, 1))
    rng = np.random.RandomState(args.seed)
    key = jax.random.key(args.seed + 1)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        for i in range(0, len(order) - args.batch_size + 1, args.batch_size):
            rows = order[i:i + args.batch_size]
            key, sub = jax.random.split(key)
            params, opt_state, state, loss = step(params, opt_state, state,
                                                  x_train[rows], y_train[rows], sub)
        if epoch == args.epochs - 1 or (epoch + 1) % 10 == 0:
            print(f"  epoch {epoch + 1}/{args.epochs} - loss: {float(loss):.4f}")
    acc = accuracy(jax.jit(predict)(params, state, x_test), y_test)
    print(f"Single model: test accuracy {acc:.4f} ({time.perf_counter() - start:.1f}s)")
    return params, state, acc


def train_ensemble(model, fns, optimizer, data, args):
    """`args.members` models trained at once: vmap over stacked params of a scanned epoch."""
    _, train_epoch, predict = fns
    (x_train, y_train), (x_test, y_test) = data
    keys = jax.random.split(jax.random.key(args.seed + 100), args.members)
    variables = jax.vmap(model.init)(keys)  # every leaf gains a leading member axis
    params, state = variables["params"], variables["state"]
    opt_state = jax.vmap(optimizer.init)(params)
    shapes = jax.tree_util.tree_map(lambda p: p.shape, params)
    print(f"Ensemble params (member axis first): {shapes}")

    # in_axes: params, opt_state, state and the key vary per member; the data is shared
    epoch_fn = jax.jit(
        jax.vmap(train_epoch, in_axes=(0, 0, 0, None, None, 0, None)),
        static_argnums=6, donate_argnums=(0, 1, 2),
    )
    x_train, y_train = jnp.asarray(x_train), jnp.asarray(y_train)  # on the device once
    start = time.perf_counter()
    for epoch in range(args.epochs):
        epoch_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys, epoch)
        params, opt_state, state, loss = epoch_fn(params, opt_state, state, x_train, y_train,
                                                  epoch_keys, args.batch_size)
        if epoch == args.epochs - 1 or (epoch + 1) % 10 == 0:
            print(f"  epoch {epoch + 1}/{args.epochs} - member losses: "
                  + " ".join(f"{v:.4f}" for v in np.asarray(loss)))
    probs = jax.jit(jax.vmap(predict, in_axes=(0, 0, None)))(params, state, x_test)
    member_acc = [accuracy(p, y_test) for p in probs]
    ensemble_acc = accuracy(jnp.mean(probs, axis=0), y_test)
    print(f"Ensemble of {args.members}: member test accuracies "
          + " ".join(f"{a:.4f}" for a in member_acc)
          + f" ({time.perf_counter() - start:.1f}s)")
    return params, state, member_acc, ensemble_acc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 30 (5 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--members", type=int, default=4, help="ensemble size")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--quick", action="store_true", help="5 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 5 if args.quick else 30

    keras.utils.set_random_seed(args.seed)
    data = load_digits(args.seed)
    model = build_model()
    optimizer = optax.adam(args.learning_rate)
    fns = make_functions(model, optimizer)

    print("1. One model, a hand-written jitted optax step:")
    train_single(model, fns, optimizer, data, args)

    print(f"2. {args.members} models at once, vmap over their params:")
    params, state, member_acc, ensemble_acc = train_ensemble(model, fns, optimizer, data, args)

    print("3. Member 0 back in the Keras facade:")
    model.set_variables({"params": jax.tree_util.tree_map(lambda p: p[0], params),
                         "state": jax.tree_util.tree_map(lambda s: s[0], state)})
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    (_, _), (x_test, y_test) = data
    _, facade_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"  model.evaluate accuracy {facade_acc:.4f} (pure: {member_acc[0]:.4f})")
    if abs(facade_acc - member_acc[0]) > 1e-6:
        raise RuntimeError("model.evaluate disagrees with the pure computation.")
    print(f"Ensemble test accuracy: {ensemble_acc:.4f}")
    return ensemble_acc


if __name__ == "__main__":
    main()
