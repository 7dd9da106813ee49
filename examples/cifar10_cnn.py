"""Trains a simple deep CNN on the CIFAR10 small images dataset (Keras's `examples/cifar10_cnn.py`).

Keras's example reaches about 75% validation accuracy in 25 epochs and 79% after 50 epochs
(with data augmentation).

    python examples/cifar10_cnn.py                    # 100 epochs, real-time augmentation
    python examples/cifar10_cnn.py --epochs 25 --no-augmentation
    python examples/cifar10_cnn.py --quick            # a small slice and 1 epoch: a smoke test
    python examples/cifar10_cnn.py --save-dir saved_models   # save the model at the end

The script is Keras 2 code: only the import lines name fkeras. One change: fkeras has no
`keras.preprocessing.image.ImageDataGenerator`, so the example's real-time data augmentation
(random shifts of up to 10% of the width and height, `fill_mode='nearest'`, and random
horizontal flips) is written inline in numpy as a `keras.utils.Sequence` that draws each batch
afresh: shifts are whole pixels (up to 3) with the edge pixels repeated into the gap, where
ImageDataGenerator shifts by fractional amounts with interpolation.

Data: Keras's CIFAR-10 files (`cifar-10-batches-py`, its archive, or the binary version), read
from `$FKERAS_DATA` or `~/.keras/datasets` (set `FKERAS_DOWNLOAD=1` to let fkeras download
them). When they are absent, the script trains on synthetic images with CIFAR-10's shapes and
dtypes (each class a fixed random colour pattern plus noise) and says so; `--require-data`
makes missing files an error instead.
"""

import argparse
import os

import numpy as np

import fkeras as keras
from fkeras import backend as K
from fkeras.datasets import cifar10
from fkeras.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from fkeras.models import Sequential

num_classes = 10
model_name = "keras_cifar10_trained_model.keras"


def synthetic_cifar10(n_train, n_test, seed=0):
    """Stand-in for `cifar10.load_data()`: uint8 images in 0-255, uint8 labels of shape (n, 1)."""
    rng = np.random.RandomState(seed)
    # one coarse 8x8 colour pattern per class, blown up to 32x32
    templates = np.kron(rng.uniform(0, 255, (num_classes, 8, 8, 3)), np.ones((1, 4, 4, 1)))

    def split(n):
        y = rng.randint(0, num_classes, (n, 1)).astype("uint8")
        x = 0.5 * templates[y[:, 0]] + rng.uniform(0, 128, (n, 32, 32, 3))
        x = np.clip(x, 0, 255).astype("uint8")
        if K.image_data_format() == "channels_first":
            x = x.transpose(0, 3, 1, 2)
        return x, y

    return split(n_train), split(n_test)


def load_data(args, n_train, n_test):
    try:
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    except FileNotFoundError as err:
        if args.require_data:
            raise SystemExit(f"--require-data: {err}") from None
        print("The CIFAR-10 files were not found: training on SYNTHETIC data with CIFAR-10's "
              "shapes (pass --require-data to fail instead).")
        return synthetic_cifar10(n_train, n_test, args.seed)
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def augment(x, rng, max_shift=3):
    """Random horizontal flips and shifts of up to `max_shift` pixels (edges repeated)."""
    channels_first = K.image_data_format() == "channels_first"
    if channels_first:
        x = x.transpose(0, 2, 3, 1)
    n, h, w, _ = x.shape
    flip = rng.random(n) < 0.5
    x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    s = max_shift
    padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")
    rows = np.arange(h)[None, :] + s + rng.integers(-s, s + 1, (n, 1))
    cols = np.arange(w)[None, :] + s + rng.integers(-s, s + 1, (n, 1))
    x = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return x.transpose(0, 3, 1, 2) if channels_first else x


class AugmentedBatches(keras.utils.Sequence):
    """Shuffled, freshly augmented batches each epoch: what `datagen.flow(x, y)` gave."""

    def __init__(self, x, y, batch_size, seed=0):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.epoch = 0
        self.order = np.random.default_rng((seed, 0)).permutation(len(x))

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        # one generator per (epoch, batch): safe when several worker threads read batches
        rng = np.random.default_rng((self.seed, self.epoch, index))
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return augment(self.x[rows], rng), self.y[rows]

    def on_epoch_end(self):
        self.epoch += 1
        self.order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.x))


def build_model(input_shape):
    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding="same", input_shape=input_shape))
    model.add(Activation("relu"))
    model.add(Conv2D(32, (3, 3)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))

    model.add(Conv2D(64, (3, 3), padding="same"))
    model.add(Activation("relu"))
    model.add(Conv2D(64, (3, 3)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))

    model.add(Flatten())
    model.add(Dense(512))
    model.add(Activation("relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes))
    model.add(Activation("softmax"))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 100 (1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="256 training images, 1 epoch")
    parser.add_argument("--no-augmentation", dest="data_augmentation", action="store_false")
    parser.add_argument("--save-dir", default=None, help="save the trained model there")
    parser.add_argument("--require-data", action="store_true", help="no synthetic fallback")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 100)
    n_train, n_test = (256, 128) if args.quick else (50000, 10000)

    keras.utils.set_random_seed(args.seed)
    # The data, split between train and test sets:
    (x_train, y_train), (x_test, y_test) = load_data(args, n_train, n_test)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # Convert class vectors to binary class matrices.
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = build_model(x_train.shape[1:])
    # initiate RMSprop optimizer (Keras 2 spelling of the learning rate and its decay)
    opt = keras.optimizers.rmsprop(lr=0.0001, decay=1e-6)
    # Let's train the model using RMSprop
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])

    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255

    if not args.data_augmentation:
        print("Not using data augmentation.")
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs,
                  validation_data=(x_test, y_test), shuffle=True)
    else:
        print("Using real-time data augmentation (numpy flips and shifts).")
        batches = AugmentedBatches(x_train, y_train, args.batch_size, seed=args.seed)
        model.fit_generator(batches, epochs=epochs, validation_data=(x_test, y_test), workers=4)

    # Save model and weights
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        model_path = os.path.join(args.save_dir, model_name)
        model.save(model_path)
        print(f"Saved trained model at {model_path}")

    # Score trained model.
    scores = model.evaluate(x_test, y_test, verbose=1)
    print("Test loss:", scores[0])
    print("Test accuracy:", scores[1])
    return scores[1]


if __name__ == "__main__":
    main()
