"""Generates text from Nietzsche's writings, character by character, with an LSTM.

At least 20 epochs are required before the generated text starts sounding coherent. It is
recommended to run this script on a GPU, as recurrent networks are quite computationally
intensive. If you try this script on new data, make sure your corpus has at least ~100k
characters; ~1M is better.

    python examples/lstm_text_generation.py                  # 60 epochs on nietzsche.txt
    python examples/lstm_text_generation.py --text book.txt  # any UTF-8 text file
    python examples/lstm_text_generation.py --quick          # 1 epoch, 40 generated characters

The script is Keras 2 code: only the import lines name fkeras.

Data: the corpus is the file given by `--text`, else Keras's `nietzsche.txt`, read from
`$FKERAS_DATA` or `~/.keras/datasets` (set `FKERAS_DOWNLOAD=1` to let fkeras download it). When
neither is there, the script trains on the short public-domain text below (Lincoln's Gettysburg
Address, 1863; far too short for good samples, but real text) and says so; `--require-data`
makes a missing corpus an error instead.
"""

import argparse
import random
import sys

import numpy as np

from fkeras.callbacks import LambdaCallback
from fkeras.datasets import get_file
from fkeras.layers import LSTM, Dense
from fkeras.models import Sequential
from fkeras.optimizers import RMSprop
from fkeras.utils import set_random_seed

NIETZSCHE_URL = "https://s3.amazonaws.com/text-datasets/nietzsche.txt"

FALLBACK_TEXT = """\
Four score and seven years ago our fathers brought forth on this continent, a new nation,
conceived in Liberty, and dedicated to the proposition that all men are created equal.

Now we are engaged in a great civil war, testing whether that nation, or any nation so
conceived and so dedicated, can long endure. We are met on a great battle-field of that war.
We have come to dedicate a portion of that field, as a final resting place for those who here
gave their lives that that nation might live. It is altogether fitting and proper that we
should do this.

But, in a larger sense, we can not dedicate -- we can not consecrate -- we can not hallow --
this ground. The brave men, living and dead, who struggled here, have consecrated it, far above
our poor power to add or detract. The world will little note, nor long remember what we say
here, but it can never forget what they did here. It is for us the living, rather, to be
dedicated here to the unfinished work which they who fought here have thus far so nobly
advanced. It is rather for us to be here dedicated to the great task remaining before us --
that from these honored dead we take increased devotion to that cause for which they gave the
last full measure of devotion -- that we here highly resolve that these dead shall not have
died in vain -- that this nation, under God, shall have a new birth of freedom -- and that
government of the people, by the people, for the people, shall not perish from the earth.
"""

# cut the text in semi-redundant sequences of maxlen characters
maxlen = 40
step = 3


def read_corpus(args):
    if args.text:
        path = args.text
    else:
        try:
            path = get_file("nietzsche.txt", origin=NIETZSCHE_URL)
        except FileNotFoundError as err:
            if args.require_data:
                raise SystemExit(f"--require-data: {err}") from None
            print("nietzsche.txt was not found and no --text was given: training on a SHORT "
                  "built-in text, the Gettysburg Address (pass --require-data to fail instead).")
            return FALLBACK_TEXT.lower()
    with open(path, encoding="utf-8") as f:
        return f.read().lower()


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 60 (1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--text", default=None, help="a UTF-8 text file to learn from")
    parser.add_argument("--quick", action="store_true",
                        help="the first 2,000 characters, 1 epoch, 40 generated characters")
    parser.add_argument("--require-data", action="store_true", help="no built-in fallback text")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 60)
    diversities = [0.5] if args.quick else [0.2, 0.5, 1.0, 1.2]
    n_generate = 40 if args.quick else 400

    set_random_seed(args.seed)
    text = read_corpus(args)
    if args.quick:
        text = text[:2000]
    print("corpus length:", len(text))

    chars = sorted(set(text))
    print("total chars:", len(chars))
    char_indices = {c: i for i, c in enumerate(chars)}
    indices_char = dict(enumerate(chars))

    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i: i + maxlen])
        next_chars.append(text[i + maxlen])
    print("nb sequences:", len(sentences))

    print("Vectorization...")
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
    y = np.zeros((len(sentences), len(chars)), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    # build the model: a single LSTM
    print("Build model...")
    model = Sequential()
    model.add(LSTM(128, input_shape=(maxlen, len(chars))))
    model.add(Dense(len(chars), activation="softmax"))

    optimizer = RMSprop(lr=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    def on_epoch_end(epoch, _):
        # Function invoked at end of each epoch. Prints generated text.
        print()
        print(f"----- Generating text after Epoch: {epoch}")

        start_index = random.randint(0, len(text) - maxlen - 1)
        for diversity in diversities:
            print("----- diversity:", diversity)

            generated = ""
            sentence = text[start_index: start_index + maxlen]
            generated += sentence
            print('----- Generating with seed: "' + sentence + '"')
            sys.stdout.write(generated)

            for i in range(n_generate):
                x_pred = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(sentence):
                    x_pred[0, t, char_indices[char]] = 1.0

                preds = model.predict(x_pred, verbose=0)[0]
                next_index = sample(preds, diversity)
                next_char = indices_char[next_index]

                sentence = sentence[1:] + next_char

                sys.stdout.write(next_char)
                sys.stdout.flush()
            print()

    print_callback = LambdaCallback(on_epoch_end=on_epoch_end)

    history = model.fit(x, y, batch_size=args.batch_size, epochs=epochs,
                        callbacks=[print_callback])
    loss = history.history["loss"][-1]
    print("Final loss:", loss)
    return loss


if __name__ == "__main__":
    main()
