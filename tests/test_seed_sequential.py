"""Every code block of the seeds' Sequential guide (002, and 000's first half) runs unchanged.

Each block is the seed's text as written (with `import keras` resolved to fkeras by
`fkeras.compat.as_keras`); only epoch counts are scaled down where noted, to keep CI fast.
The VGG-like convnet block runs with smaller images and fewer samples (same code otherwise).
"""

import numpy as np
import pytest

from fkeras.compat import as_keras

SEQUENTIAL_FROM_LIST = """
from keras.models import Sequential
from keras.layers import Dense, Activation

model = Sequential([
    Dense(input_shape=(32,), units=784),
    Activation('relu'),
    Dense(units=10),
    Activation('softmax')
])
"""

SEQUENTIAL_ADD = """
model = Sequential()
model.add(Dense(units=32, input_shape=(784, )))
model.add(Activation('relu'))
"""

INPUT_DIM_EQUIVALENT = """
model_a = Sequential()
model_a.add(Dense(32, input_shape=(784,)))
model_b = Sequential()
model_b.add(Dense(32, input_dim=784))
"""

COMPILE_VARIANTS = """
# For a multi-class classification problem
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

# For a binary classification problem
model.compile(optimizer='rmsprop',
             loss='binary_crossentropy',
             metrics=['accuracy'])

# For a mean squared error regression problem
model.compile(optimizer='rmsprop',
             loss='mse')

# 自定义指标
import keras.backend as K

def mean_pred(y_true, y_pred):
    return K.mean(y_pred)

model.compile(optimizer='rmsprop',
             loss='binary_crossentropy',
             metrics=['accuracy', mean_pred])
"""

BINARY = """
# For a single-input model with 2 classes (binary classification):
model = Sequential()
model.add(Dense(units=32, activation='relu', input_dim=100))
model.add(Dense(units=1, activation='sigmoid'))
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])

# Generate dummy data
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(2, size=(1000, 1))

# Train the model, iterating on the data in batches of 32 samples
history = model.fit(data, labels, epochs=EPOCHS, batch_size=32)
"""

CATEGORICAL = """
# For a single-input model with 10 classes (categorical classification):

model = Sequential()
model.add(Dense(units=32, activation='relu', input_dim=100))
model.add(Dense(units=10, activation='softmax'))
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

import keras
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(10, size=(1000, 1))

# Convert labels to categorical onehot encoding
one_hot_labels = keras.utils.to_categorical(labels, num_classes=10)

history = model.fit(data, one_hot_labels, epochs=EPOCHS, batch_size=32)
"""

MLP_SOFTMAX = """
from keras.models import Sequential
from keras.layers import Dense, Dropout, Activation
from keras.optimizers import SGD

import numpy as np
import keras.backend as K

def mean_pred(y_true, y_pred):
    return K.mean(y_pred)

x_train = np.random.random((1000, 20))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(1000, 1)), num_classes=10)
x_test = np.random.random((100, 20))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)

model = Sequential()

model.add(Dense(units=64, activation='relu', input_dim=20))
model.add(Dropout(0.5))
model.add(Dense(units=64, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy',
              optimizer=sgd,
              metrics=['accuracy', mean_pred])

model.fit(x_train, y_train, epochs=EPOCHS, batch_size=128)
score = model.evaluate(x_test, y_test, batch_size=128)
print(score)
"""


VGG_LIKE = """
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten, Conv2D, MaxPooling2D
from keras.optimizers import SGD

x_train = np.random.random((40, 32, 32, 3))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(40, 1)), num_classes=10)
x_test = np.random.random((20, 32, 32, 3))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(20, 1)), num_classes=10)

model = Sequential()
# 这里使用了32个size为3*3卷积层
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

# padding参数为valid或same。默认为valid
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
# dropout的比例是断开的神经元比例，也就是去除0.25（剩下0.75）
model.add(Dropout(0.25))

# Flatten层将输入压平，把多维的输入一维化
model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS)
score = model.evaluate(x_test, y_test, batch_size=32)
"""


def run(code: str, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    namespace.setdefault("EPOCHS", 2)
    with as_keras():
        exec(compile(code, "<seed>", "exec"), namespace)
    return namespace


def test_sequential_from_list_and_add():
    ns = run(SEQUENTIAL_FROM_LIST)
    model = ns["model"]
    assert model.output_shape == (None, 10)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Activation", "Dense", "Activation"]
    assert model.layers[0].get_weights()[0].shape == (32, 784)
    ns = run(SEQUENTIAL_ADD, ns)
    assert ns["model"].output_shape == (None, 32)
    assert ns["model"].input_shape == (None, 784)


def test_input_dim_is_input_shape():
    ns = run(SEQUENTIAL_FROM_LIST)
    ns = run(INPUT_DIM_EQUIVALENT, ns)
    assert ns["model_a"].input_shape == ns["model_b"].input_shape == (None, 784)
    assert ns["model_a"].count_params() == ns["model_b"].count_params() == 784 * 32 + 32


def test_compile_variants_and_custom_metric():
    ns = run(SEQUENTIAL_FROM_LIST)
    ns = run(COMPILE_VARIANTS, ns)
    model = ns["model"]
    assert model.metrics_names == ["loss", "accuracy", "mean_pred"]
    x = np.random.random((8, 32)).astype("float32")
    y = np.random.randint(2, size=(8, 10)).astype("float32")
    loss, acc, mean_pred = model.evaluate(x, y, verbose=0)
    pred = model.predict(x, verbose=0)
    assert mean_pred == pytest.approx(float(pred.mean()), rel=1e-5)
    assert 0.0 <= acc <= 1.0 and np.isfinite(loss)


def test_binary_classification_block(capsys):
    ns = run(BINARY, run(SEQUENTIAL_FROM_LIST))  # the guide's cells share one namespace
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    history = ns["history"].history
    assert set(history) == {"loss", "accuracy"}
    assert len(history["loss"]) == 2


def test_categorical_block():
    ns = run(CATEGORICAL, run(SEQUENTIAL_FROM_LIST))
    assert ns["one_hot_labels"].shape == (1000, 10)
    assert len(ns["history"].history["accuracy"]) == 2


def test_mlp_softmax_block(capsys):
    ns = run(MLP_SOFTMAX, run("import keras", {"EPOCHS": 3}))  # `import keras` is an earlier cell
    out = capsys.readouterr().out
    score = ns["score"]
    assert isinstance(score, list) and len(score) == 3
    loss, acc, mean_pred = score
    # a softmax output averages to exactly 1/10 per sample
    assert mean_pred == pytest.approx(0.1, rel=1e-5)
    assert 0.0 <= acc <= 1.0 and 1.0 < loss < 4.0
    assert str(score) in out


def test_vgg_like_convnet_block():
    ns = run(VGG_LIKE)
    model = ns["model"]
    assert model.output_shape == (None, 10)
    assert [type(layer).__name__ for layer in model.layers][:3] == ["Conv2D", "Conv2D", "MaxPooling2D"]
    assert model.layers[-4].output_shape == (None, 1600)  # 5x5x64 after two conv/pool stages
    loss, acc = ns["score"]
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
