"""Trains an LSTM model on the IMDB sentiment classification task (Keras's `examples/imdb_lstm.py`).

The dataset is actually too small for LSTM to be of any advantage compared to simpler, much
faster methods such as TF-IDF + LogReg. Keras's notes: RNNs are tricky, and the choice of batch
size, loss and optimizer is critical; some configurations won't converge.

    python examples/imdb_lstm.py               # 15 epochs on the real data
    python examples/imdb_lstm.py --quick       # a small slice and 1 epoch: a smoke test

The script is Keras 2 code: only the import lines name fkeras.

Data: Keras's `imdb.npz`, read from `$FKERAS_DATA` or `~/.keras/datasets` (set
`FKERAS_DOWNLOAD=1` to let fkeras download it). When the file is absent, the script trains on
synthetic reviews in the real format (ragged lists of word indices starting with 1, indices
shifted by 3, 0/1 labels; each sentiment uses a few words more often) and says so;
`--require-data` makes a missing file an error instead.
"""

import argparse

import numpy as np

import fkeras as keras
from fkeras.datasets import imdb
from fkeras.layers import LSTM, Dense, Embedding
from fkeras.models import Sequential
from fkeras.preprocessing import sequence

max_features = 20000
# cut texts after this number of words (among top max_features most common words)
maxlen = 80


def synthetic_imdb(n_train, n_test, num_words, seed=0):
    """Stand-in for `imdb.load_data(num_words=...)`: object arrays of lists, int64 0/1 labels."""
    rng = np.random.RandomState(seed)
    # word indices 4.. are "words"; two small sets of them carry the sentiment
    cues = rng.choice(np.arange(4, min(num_words, 2000)), (2, 25), replace=False)

    def split(n):
        labels = rng.randint(0, 2, n).astype("int64")
        x = np.empty(n, dtype=object)
        for i, label in enumerate(labels):
            words = rng.randint(4, num_words, rng.randint(20, 200))
            hits = rng.rand(words.size) < 0.15
            words[hits] = rng.choice(cues[label], hits.sum())
            x[i] = [1] + words.tolist()  # start_char, then the review
        return x, labels

    return split(n_train), split(n_test)


def load_data(args, n_train, n_test):
    try:
        (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)
    except FileNotFoundError as err:
        if args.require_data:
            raise SystemExit(f"--require-data: {err}") from None
        print("imdb.npz was not found: training on SYNTHETIC reviews in IMDB's format "
              "(pass --require-data to fail instead).")
        return synthetic_imdb(n_train, n_test, max_features, args.seed)
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 15 (1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="256 training reviews, 1 epoch")
    parser.add_argument("--require-data", action="store_true", help="no synthetic fallback")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 15)
    n_train, n_test = (256, 128) if args.quick else (25000, 25000)
    batch_size = args.batch_size

    keras.utils.set_random_seed(args.seed)
    print("Loading data...")
    (x_train, y_train), (x_test, y_test) = load_data(args, n_train, n_test)
    print(len(x_train), "train sequences")
    print(len(x_test), "test sequences")

    print("Pad sequences (samples x time)")
    x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
    x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
    print("x_train shape:", x_train.shape)
    print("x_test shape:", x_test.shape)

    print("Build model...")
    model = Sequential()
    model.add(Embedding(max_features, 128))
    model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
    model.add(Dense(1, activation="sigmoid"))

    # try using different optimizers and different optimizer configs
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    print("Train...")
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
              validation_data=(x_test, y_test))
    score, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
    print("Test score:", score)
    print("Test accuracy:", acc)
    return acc


if __name__ == "__main__":
    main()
