"""The seeds' layer-API blocks and every code block of seed 004, run as written under `as_keras()`.

Part 1 is seed 001's section on layer nodes ("层复用的内在机理"): `layer.output`,
`get_output_at`, `input_shape` and `get_input_shape_at` on layers called once and twice.
Part 2 is seed 004 (Keras notes: Sequential, compile, fit and the examples).

What changed, and only that (each change also marked in the block):

- typos that fail in any Keras are corrected: 004 writes `Activition` for `Activation` (twice)
  and `mdoel` for `model` (twice);
- names a block uses without defining come from setup cells, as from an earlier notebook cell:
  001's node blocks use `Input`/`LSTM` imported by the block before them, and its Conv2D block
  never imports `Conv2D`; 004's categorical block calls `keras.utils` before 004 imports keras;
- sizes, for speed: epochs to 1-2, the VGG-like example's images to 32x32 and its training
  set to 32 images.

Parity: the graph-building part of each 004 block (before its optimizer and `compile`) also runs
on Keras 3; with Keras 3's weights copied in, predictions and parameter counts agree.
"""

import numpy as np
import pytest

from fkeras.compat import as_keras

# ---- seed 001: layer nodes ------------------------------------------------------------------

# the imports of the block just before these in seed 001 (the shared-LSTM tweet model)
TWEET_IMPORTS = """
import keras
from keras.layers import Input, LSTM, Dense
from keras.models import Model
"""

ONE_NODE = """
a = Input(shape=(280, 256))

lstm = LSTM(32)
encoded_a = lstm(a)

assert lstm.output == encoded_a
"""

TWO_NODES = """
a = Input(shape=(280, 256))
b = Input(shape=(280, 256))

lstm = LSTM(32)
encoded_a = lstm(a)
encoded_b = lstm(b)

assert lstm.get_output_at(0) == encoded_a
assert lstm.get_output_at(1) == encoded_b
"""

CONV_IMPORT = "from keras.layers import Conv2D  # seed 001 uses Conv2D here without importing it\n"

CONV_SHAPES = """
a = Input(shape=(32, 32, 3))
b = Input(shape=(64, 64, 3))

conv = Conv2D(16, (3, 3), padding='same')
conved_a = conv(a)

# Only one input so far, the following will work:
assert conv.input_shape == (None, 32, 32, 3)

conved_b = conv(b)
# now the `.input_shape` property wouldn't work, but this does:
assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
"""

# ---- seed 004 ---------------------------------------------------------------------------------

SEQ_FROM_LIST = """
from keras.models import Sequential
from keras.layers import Dense,Activation

model = Sequential([
    Dense(32, input_shape=(784,)),
    Activation('relu'),  # seed: Activition (typo)
    Dense(10),
    Activation('softmax')  # seed: Activition (typo)
])
"""

SEQ_ADD = """
model = Sequential()
model.add(Dense(32, input_dim=784))
model.add(Activation('relu'))  # seed: Activition (typo)
"""

SEQ_INPUT_SHAPE = """
model = Sequential()
model.add(Dense(32, input_shape=(784,)))
"""

SEQ_INPUT_DIM = """
model = Sequential()
model.add(Dense(32, input_dim=784))
"""

COMPILE = """
# 多分类问题
model.compile(optimizer='rmsprop',loss='categorical_crossentropy',metrics=['accuracy'])

# 二分类问题
model.compile(optimizer='rmsprop',loss='binary_crossentropy',metrics=['accuracy'])

# 均方误差回归问题
model.compile(optimizer='rmsprop',loss='mse')

# 自定义评估标准函数
import keras.backend as K
def mean_pred(y_true, y_pred):
    return K.mean(y_pred)

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy', mean_pred])
"""

BINARY = """
# 对于二分类
model = Sequential()
model.add(Dense(32, activation='relu',input_dim=100))
model.add(Dense(1,activation='sigmoid'))  # seed: mdoel (typo)
model.compile(optimizer='rmsprop',loss='binary_crossentropy',metrics=['accuracy'])

# 生成虚拟数据
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(2, size=(1000, 1))

# 训练模型，以 32 个样本为一个 batch 进行迭代
model.fit(data, labels, epochs=2, batch_size=32)  # seed: epochs=10
"""

CATEGORICAL = """
# 对于多分类
model = Sequential()
model.add(Dense(32, activation='relu',input_dim=100))
model.add(Dense(10,activation='softmax'))  # seed: mdoel (typo)
model.compile(optimizer='rmsprop',loss='categorical_crossentropy',metrics=['accuracy'])

# 生成虚拟数据
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(10, size=(1000, 1))

# 将标签转换为分类的 one-hot 编码
one_hot_labels = keras.utils.to_categorical(labels, num_classes=10)

# 训练模型，以 32 个样本为一个 batch 进行迭代
model.fit(data, one_hot_labels, epochs=2, batch_size=32)  # seed: epochs=10
"""

MLP_SOFTMAX = """
import keras
from keras.models import Sequential
from keras.layers import Dense,Activation,Dropout
from keras.optimizers import SGD

# 生成虚拟数据
import numpy as np
x_train = np.random.random((1000, 20))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(1000, 1)), num_classes=10)
x_test = np.random.random((100, 20))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)

model = Sequential()
# Dense(64) 是一个具有 64 个隐藏神经元的全连接层。
# 在第一层必须指定所期望的输入数据尺寸,在这里，是一个 20 维的向量。
model.add(Dense(64, activation='relu', input_dim=20))
model.add(Dropout(0.5))
model.add(Dense(64, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy',
              optimizer=sgd,
              metrics=['accuracy'])

model.fit(x_train, y_train,
          epochs=2,  # seed: epochs=20
          batch_size=128)
score = model.evaluate(x_test, y_test, batch_size=128)
"""

MLP_BINARY = """
import numpy as np
from keras.models import Sequential
from keras.layers import Dense, Dropout

# 生成虚拟数据
x_train = np.random.random((1000, 20))
y_train = np.random.randint(2, size=(1000, 1))
x_test = np.random.random((100, 20))
y_test = np.random.randint(2, size=(100, 1))

model = Sequential()
model.add(Dense(64, input_dim=20, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(64, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train,
          epochs=2,  # seed: epochs=20
          batch_size=128)
score = model.evaluate(x_test, y_test, batch_size=128)

"""

VGG_LIKE = """
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten
from keras.layers import Conv2D, MaxPooling2D
from keras.optimizers import SGD

# 生成虚拟数据
x_train = np.random.random((32, 32, 32, 3))  # seed: (100, 100, 100, 3)
y_train = keras.utils.to_categorical(np.random.randint(10, size=(32, 1)), num_classes=10)  # seed: size=(100, 1)
x_test = np.random.random((20, 32, 32, 3))  # seed: (20, 100, 100, 3)
y_test = keras.utils.to_categorical(np.random.randint(10, size=(20, 1)), num_classes=10)

model = Sequential()
# 输入: 3 通道 100x100 像素图像 -> (100, 100, 3) 张量。
# 使用 32 个大小为 3x3 的卷积滤波器。
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))  # seed: (100, 100, 3)
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy', optimizer=sgd)

model.fit(x_train, y_train, batch_size=32, epochs=1)  # seed: epochs=10
score = model.evaluate(x_test, y_test, batch_size=32)
"""

IMPORT_KERAS = "import keras  # seed 004 imports keras only in a later block\n"

# Keras 3 runs a block's text up to the first of these (its Keras 2 `SGD(lr=...)` and training).
_TRAINING_MARKERS = ("sgd = SGD(", "model.compile(")


def run(*cells: str, namespace: dict | None = None) -> dict:
    """Run cells in one namespace with `import keras` giving fkeras."""
    namespace = {} if namespace is None else namespace
    np.random.seed(0)
    with as_keras():
        for code in cells:
            exec(compile(code, "<seed>", "exec"), namespace)
    return namespace


def graph_part(code: str) -> str:
    cut = min((code.find(m) for m in _TRAINING_MARKERS if m in code), default=len(code))
    return code[:cut]


def run_keras3(*cells: str) -> dict:
    namespace: dict = {}
    for code in cells:
        exec(compile(graph_part(code), "<seed, Keras 3>", "exec"), namespace)
    return namespace


# ---- part 1: layer nodes ----------------------------------------------------------------------


def test_layer_called_once_has_one_output():
    ns = run(TWEET_IMPORTS, ONE_NODE)
    lstm, a = ns["lstm"], ns["a"]
    assert lstm.input == a and lstm.output == ns["encoded_a"]
    assert not (lstm.output == a) and lstm.output != a
    assert lstm.input_shape == (None, 280, 256) and lstm.output_shape == (None, 32)
    assert [w.shape for w in lstm.get_weights()] == [(256, 128), (32, 128), (128,)]
    assert len(lstm.inbound_nodes) == 1


def test_layer_called_twice_answers_per_node():
    ns = run(TWEET_IMPORTS, TWO_NODES)
    lstm = ns["lstm"]
    assert lstm.get_input_at(0) is ns["a"] and lstm.get_input_at(1) is ns["b"]
    assert lstm.get_output_shape_at(1) == (None, 32)
    # one set of weights behind both nodes
    assert len(lstm.get_weights()) == 3
    from fkeras.models import Model

    model = Model([ns["a"], ns["b"]], [ns["encoded_a"], ns["encoded_b"]])
    assert len(model.get_weights()) == 3 and model.count_params() == lstm.count_params()
    # `.output` is ill-defined now; the shapes agree, so `input_shape` still answers (Keras 2)
    for attribute in ("output", "input"):
        with pytest.raises(AttributeError, match=rf"multiple inbound nodes.*get_{attribute}_at"):
            getattr(lstm, attribute)
    assert lstm.input_shape == (None, 280, 256) and lstm.output_shape == (None, 32)
    with pytest.raises(ValueError, match=r"2 inbound node\(s\). Received: node_index=2"):
        lstm.get_output_at(2)


def test_conv_input_shapes_per_node():
    ns = run(TWEET_IMPORTS, CONV_IMPORT, CONV_SHAPES)
    conv = ns["conv"]
    for what in ("input", "output"):
        with pytest.raises(AttributeError, match=rf"different {what} shapes.*get_{what}_shape_at"):
            getattr(conv, f"{what}_shape")
    assert conv.get_output_shape_at(0) == (None, 32, 32, 16)
    assert conv.get_output_shape_at(1) == (None, 64, 64, 16)
    assert ns["conved_b"].shape == (None, 64, 64, 16)
    assert [w.shape for w in conv.get_weights()] == [(3, 3, 3, 16), (16,)]


def test_layer_never_called_has_no_output():
    ns = run(TWEET_IMPORTS, "lstm = LSTM(4)\n")
    with pytest.raises(AttributeError, match="has never been called"):
        ns["lstm"].output
    with pytest.raises(AttributeError, match="has never been called"):
        ns["lstm"].output_shape


# ---- part 2: seed 004 -------------------------------------------------------------------------


def test_sequential_definitions():
    ns = run(SEQ_FROM_LIST)
    model = ns["model"]
    assert [type(x).__name__ for x in model.layers] == ["Dense", "Activation"] * 2
    assert model.output_shape == (None, 10)
    run(SEQ_ADD, namespace=ns)
    assert ns["model"].output_shape == (None, 32)
    configs = []
    for block in (SEQ_INPUT_SHAPE, SEQ_INPUT_DIM):
        run(block, namespace=ns)
        configs.append((ns["model"].input_shape, ns["model"].count_params()))
    assert configs[0] == configs[1] == ((None, 784), 784 * 32 + 32)


def test_compile_block():
    ns = run(SEQ_FROM_LIST, COMPILE)
    model = ns["model"]
    assert model.metrics_names == ["loss", "accuracy", "mean_pred"]
    x = np.random.RandomState(1).rand(6, 784).astype("float32")
    y = np.eye(10, dtype="float32")[[0, 1, 2, 3, 4, 5]]
    loss, acc, mean_pred = model.evaluate(x, y, verbose=0)
    assert mean_pred == pytest.approx(0.1, rel=1e-5)  # softmax rows sum to one over 10 units


@pytest.mark.parametrize(
    "cells, units",
    [((BINARY,), 1), ((IMPORT_KERAS, CATEGORICAL), 10)],
    ids=["binary", "categorical"],
)
def test_training_blocks(cells, units):
    ns = run(SEQ_FROM_LIST, *cells)
    model = ns["model"]
    assert model.output_shape == (None, units)
    assert model.count_params() == 100 * 32 + 32 + 33 * units
    history = model.history.history
    assert set(history) == {"loss", "accuracy"} and len(history["loss"]) == 2
    assert history["loss"][1] < history["loss"][0] * 1.05


@pytest.mark.parametrize("block", [MLP_SOFTMAX, MLP_BINARY], ids=["softmax", "binary"])
def test_mlp_examples(block, capsys):
    ns = run(block)
    score = ns["score"]
    assert isinstance(score, list) and len(score) == 2
    loss, acc = score
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out
    assert [type(x).__name__ for x in ns["model"].layers].count("Dropout") == 2
    if "sgd" in ns:  # Keras 2's SGD arguments: lr= and decay= beside momentum and nesterov
        config = ns["sgd"].get_config()
        assert float(ns["sgd"].learning_rate) == pytest.approx(0.01)
        assert config["decay"] == pytest.approx(1e-6)
        assert config["nesterov"] is True and config["momentum"] == 0.9


def test_vgg_like_example():
    ns = run(VGG_LIKE)
    model = ns["model"]
    shapes = [layer.output_shape for layer in model.layers]
    assert shapes[:8] == [
        (None, 30, 30, 32), (None, 28, 28, 32), (None, 14, 14, 32), (None, 14, 14, 32),
        (None, 12, 12, 64), (None, 10, 10, 64), (None, 5, 5, 64), (None, 5, 5, 64),
    ]
    assert shapes[8:] == [(None, 1600), (None, 256), (None, 256), (None, 10)]
    assert np.isfinite(ns["score"])  # no metrics: evaluate returns the loss alone


PARITY = {
    "sequential_list": ([SEQ_FROM_LIST], (4, 784)),
    "sequential_add": ([SEQ_FROM_LIST, SEQ_ADD], (4, 784)),
    "binary": ([SEQ_FROM_LIST, BINARY], (4, 100)),
    "categorical": ([SEQ_FROM_LIST, IMPORT_KERAS, CATEGORICAL], (4, 100)),
    "mlp_softmax": ([MLP_SOFTMAX], (4, 20)),
    "mlp_binary": ([MLP_BINARY], (4, 20)),
    "vgg_like": ([VGG_LIKE], (2, 32, 32, 3)),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_with_keras3(keras3, name):
    cells, shape = PARITY[name]
    ours = run(*[graph_part(c) for c in cells])["model"]
    theirs = run_keras3(*cells)["model"]
    assert ours.count_params() == theirs.count_params()
    assert [layer.output_shape for layer in ours.layers] == [
        tuple(layer.output.shape) for layer in theirs.layers
    ]
    ours.set_weights(theirs.get_weights())
    x = np.random.RandomState(0).rand(*shape).astype("float32")
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
