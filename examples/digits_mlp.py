"""Train an MLP on scikit-learn's bundled handwritten digits (real data, no download).

    python examples/digits_mlp.py            # 30 epochs, progress bar, test accuracy
    python examples/digits_mlp.py --epochs 5

The script is plain Keras 2 code: only the import line names fkeras.
"""

import argparse

import numpy as np

import fkeras as keras
from fkeras.layers import Dense, Dropout
from fkeras.models import Sequential


def load_digits(test_fraction=0.2, seed=0):
    """8x8 digit images scaled to [0, 1], one-hot labels, a fixed train/test split."""
    from sklearn.datasets import load_digits as sk_load_digits

    data = sk_load_digits()
    x = (data.data / 16.0).astype("float32")
    y = keras.utils.to_categorical(data.target, num_classes=10)
    order = np.random.RandomState(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def build_model():
    model = Sequential()
    model.add(Dense(128, activation="relu", input_shape=(64,)))
    model.add(Dropout(0.2))
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits(seed=args.seed)
    model = build_model()
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
