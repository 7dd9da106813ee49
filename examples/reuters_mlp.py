"""Trains and evaluates a simple MLP on the Reuters newswire topic classification task
(Keras's `examples/reuters_mlp.py`).

    python examples/reuters_mlp.py             # 5 epochs on the real data
    python examples/reuters_mlp.py --quick     # a small slice and 1 epoch: a smoke test

The script is Keras 2 code: only the import lines name fkeras.

Data: Keras's `reuters.npz`, read from `$FKERAS_DATA` or `~/.keras/datasets` (set
`FKERAS_DOWNLOAD=1` to let fkeras download it). When the file is absent, the script trains on
synthetic newswires in the real format (ragged lists of word indices starting with 1, 46 topics,
each topic using a few words more often) and says so; `--require-data` makes a missing file an
error instead.
"""

import argparse

import numpy as np

import fkeras as keras
from fkeras.datasets import reuters
from fkeras.layers import Activation, Dense, Dropout
from fkeras.models import Sequential
from fkeras.preprocessing.text import Tokenizer

max_words = 1000
num_topics = 46


def synthetic_reuters(n_train, n_test, num_words, seed=0):
    """Stand-in for `reuters.load_data(num_words=...)`: object arrays of lists, int64 topics."""
    rng = np.random.RandomState(seed)
    cues = rng.randint(4, num_words, (num_topics, 12))  # each topic's telltale words

    def split(n):
        topics = rng.randint(0, num_topics, n).astype("int64")
        x = np.empty(n, dtype=object)
        for i, topic in enumerate(topics):
            words = rng.randint(4, num_words, rng.randint(15, 150))
            hits = rng.rand(words.size) < 0.2
            words[hits] = rng.choice(cues[topic], hits.sum())
            x[i] = [1] + words.tolist()  # start_char, then the newswire
        return x, topics

    return split(n_train), split(n_test)


def load_data(args, n_train, n_test):
    try:
        (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=max_words,
                                                                 test_split=0.2)
    except FileNotFoundError as err:
        if args.require_data:
            raise SystemExit(f"--require-data: {err}") from None
        print("reuters.npz was not found: training on SYNTHETIC newswires in Reuters' format "
              "(pass --require-data to fail instead).")
        return synthetic_reuters(n_train, n_test, max_words, args.seed)
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 5 (1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="1,024 training newswires, 1 epoch")
    parser.add_argument("--require-data", action="store_true", help="no synthetic fallback")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 5)
    n_train, n_test = (1024, 256) if args.quick else (8982, 2246)
    batch_size = args.batch_size

    keras.utils.set_random_seed(args.seed)
    print("Loading data...")
    (x_train, y_train), (x_test, y_test) = load_data(args, n_train, n_test)
    print(len(x_train), "train sequences")
    print(len(x_test), "test sequences")

    num_classes = max(int(np.max(y_train)) + 1, int(np.max(y_test)) + 1)
    print(num_classes, "classes")

    print("Vectorizing sequence data...")
    tokenizer = Tokenizer(num_words=max_words)
    x_train = tokenizer.sequences_to_matrix(x_train, mode="binary")
    x_test = tokenizer.sequences_to_matrix(x_test, mode="binary")
    print("x_train shape:", x_train.shape)
    print("x_test shape:", x_test.shape)

    print("Convert class vector to binary class matrix (for use with categorical_crossentropy)")
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)
    print("y_train shape:", y_train.shape)
    print("y_test shape:", y_test.shape)

    print("Building model...")
    model = Sequential()
    model.add(Dense(512, input_shape=(max_words,)))
    model.add(Activation("relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes))
    model.add(Activation("softmax"))

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=1,
              validation_split=0.1)
    score = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=1)
    print("Test score:", score[0])
    print("Test accuracy:", score[1])
    return score[1]


if __name__ == "__main__":
    main()
