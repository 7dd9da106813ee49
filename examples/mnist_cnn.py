"""Trains a simple convnet on the MNIST dataset (Keras's `examples/mnist_cnn.py`).

Keras's example reaches about 99.25% test accuracy after 12 epochs.

    python examples/mnist_cnn.py               # 12 epochs on the real data
    python examples/mnist_cnn.py --epochs 3
    python examples/mnist_cnn.py --quick       # a small slice and 1 epoch: a smoke test

The script is Keras 2 code: only the import lines name fkeras. One change: Keras 2's
`Adadelta()` defaulted to `lr=1.0`; Keras 3 (and fkeras) default to 0.001, so the rate is
written out.

Data: Keras's `mnist.npz`, read from `$FKERAS_DATA` or `~/.keras/datasets` (set
`FKERAS_DOWNLOAD=1` to let fkeras download it). When the file is absent, the script trains on
synthetic images with MNIST's shapes and dtypes (each digit class a fixed random stroke pattern
plus noise) and says so; `--require-data` makes a missing file an error instead.
"""

import argparse

import numpy as np

import fkeras as keras
from fkeras import backend as K
from fkeras.datasets import mnist
from fkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from fkeras.models import Sequential

num_classes = 10
img_rows, img_cols = 28, 28  # input image dimensions


def synthetic_mnist(n_train, n_test, seed=0):
    """Stand-in for `mnist.load_data()`: uint8 images (n, 28, 28) in 0-255, uint8 labels 0-9."""
    rng = np.random.RandomState(seed)
    templates = (rng.rand(num_classes, 28, 28) < 0.1) * 255.0

    def split(n):
        y = rng.randint(0, num_classes, n).astype("uint8")
        other = rng.randint(0, num_classes, n)  # a fainter distractor pattern on every image
        x = templates[y] * rng.uniform(0.5, 1.0, (n, 1, 1)) + 0.6 * templates[other]
        x += rng.normal(0, 90, (n, 28, 28))
        return np.clip(x, 0, 255).astype("uint8"), y

    return split(n_train), split(n_test)


def load_data(args, n_train, n_test):
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except FileNotFoundError as err:
        if args.require_data:
            raise SystemExit(f"--require-data: {err}") from None
        print("mnist.npz was not found: training on SYNTHETIC data with MNIST's shapes "
              "(pass --require-data to fail instead).")
        return synthetic_mnist(n_train, n_test, args.seed)
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 12 (1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="512 training images, 1 epoch")
    parser.add_argument("--require-data", action="store_true", help="no synthetic fallback")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 12)
    n_train, n_test = (512, 128) if args.quick else (60000, 10000)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(args, n_train, n_test)

    if K.image_data_format() == "channels_first":
        x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
        x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
        input_shape = (1, img_rows, img_cols)
    else:
        x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
        x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
        input_shape = (img_rows, img_cols, 1)

    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation="softmax"))

    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(lr=1.0),  # Keras 2's default rate
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs, verbose=1,
              validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    return score[1]


if __name__ == "__main__":
    main()
