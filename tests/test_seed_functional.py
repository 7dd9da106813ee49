"""Every code block of seed 001 (the Chinese quick-start: Sequential, then the functional API
guide) runs as written, with `import keras` resolved to fkeras by `fkeras.compat.as_keras`.

Blocks that continue earlier ones share a namespace, like notebook cells. What changed, and only
that (each change also marked in the block):

- sizes, for speed: epochs to 1-2, image sides to 16-32 pixels, the video to 4 frames, the news
  and question vocabularies to 1000 words and their sequences to 20 words, tweets to 28 steps
  of 32 features (every layer, its units and every call are as written);
- names the seed uses but never defines (its `data`, `labels`, `headline_data`, ... and the
  `import keras` its first `keras.utils` call relies on) come from setup cells, as in a
  notebook where an earlier cell made them. The seed's own `data` (1000x100, from its
  Sequential section) does not fit the 784-input functional model in any Keras, so the setup
  cell gives that block 784-wide data and one-hot labels.

The layer-node blocks (`lstm.output`, `get_output_at`, `get_input_shape_at`) are in
test_seed_layer_api.py. Parity: the graph-building part of each block (the text before its
`model.compile`) also runs on Keras 3; with Keras 3's weights copied in by
`set_weights(keras_model.get_weights())` the predictions agree to 1e-5, which checks the order
of `model.get_weights()`, and the summaries' parameter totals agree.
"""

import re

import numpy as np
import pytest

from fkeras.compat import as_keras

# ---- the seed's blocks ----------------------------------------------------------------------

SEQ_FROM_LIST = """
from keras.models import Sequential
from keras.layers import Dense, Activation

model = Sequential([
    Dense(32, input_shape=(784,)),
    Activation('relu'),
    Dense(10),
    Activation('softmax'),
])
"""

SEQ_ADD = """
model = Sequential()
model.add(Dense(32, input_dim=784))
model.add(Activation('relu'))
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

# For custom metrics
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
model.add(Dense(32, activation='relu', input_dim=100))
model.add(Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])

# Generate dummy data
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(2, size=(1000, 1))

# Train the model, iterating on the data in batches of 32 samples
model.fit(data, labels, epochs=2, batch_size=32)  # seed: epochs=10
"""

CATEGORICAL = """
# For a single-input model with 10 classes (categorical classification):

model = Sequential()
model.add(Dense(32, activation='relu', input_dim=100))
model.add(Dense(10, activation='softmax'))
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

# Generate dummy data
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(10, size=(1000, 1))

# Convert labels to categorical one-hot encoding
one_hot_labels = keras.utils.to_categorical(labels, num_classes=10)

# Train the model, iterating on the data in batches of 32 samples
model.fit(data, one_hot_labels, epochs=2, batch_size=32)  # seed: epochs=10
"""

FUNCTIONAL_MLP = """
from keras.layers import Input, Dense
from keras.models import Model

# 返回一个（?,784）的tensor
inputs = Input(shape=(784,))

# 层对象可以以tensor作为输入进行调用，其返回值也是一个tensor
x = Dense(64, activation='relu')(inputs)
x = Dense(64, activation='relu')(x) 
predictions = Dense(10, activation='softmax')(x)

# 创建一个model，其具有1个输入层，3个全连接层
# the Input layer and three Dense layers 
model = Model(inputs=inputs, outputs=predictions) 
model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(data, labels) # starts training
"""

MODEL_CALL = """
x = Input(shape=(784,))
# 通过以下调用，按上文定义，可以对输入进行10分类
y = model(x)
"""

TIME_DISTRIBUTED_MODEL = """
from keras.layers import TimeDistributed

# 输入序列包含10帧画面，每一帧是784维的向量
input_sequences = Input(shape=(20, 784))

# 将上文的模型运用到输入序列的每一帧，因为模型输出为10维的softmax分类器，因此下面语句的输入是（20，10）的数组
processed_sequences = TimeDistributed(model)(input_sequences)
"""

NEWS = """
from keras.layers import Input, Embedding, LSTM, Dense 
from keras.models import Model

# main_input接收长度100的整数序列
main_input = Input(shape=(20,), dtype='int32', name='main_input')  # seed: shape=(100,)

# embedding层将输入序列编码成521维向量序列
x = Embedding(output_dim=512, input_dim=1000, input_length=20)(main_input)  # seed: input_dim=10000, input_length=100

# LSTM层将向量序列转换成一个向量
lstm_out = LSTM(32)(x)

# 然后添加一个辅助损失函数，使LSTM和Embedding层可以较平滑地进行训练
auxiliary_output = Dense(1, activation='sigmoid', name='aux_output')(lstm_out)

# 将LSTM输出和辅助输入结合在一起作为后续模型的输入
auxiliary_input = Input(shape=(5,), name='aux_input')
x = keras.layers.concatenate([lstm_out, auxiliary_input])

x = Dense(64, activation='relu')(x)
x = Dense(64, activation='relu')(x)
x = Dense(64, activation='relu')(x)

main_output = Dense(1, activation='sigmoid', name='main_output')(x)

# 然后定义一个双输入双输出模型：
model = Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])

# 然后调用.compile对模型进行编译，可以通过一个字典或列表来制定不同的loss_weights和loss
model.compile(optimizer='rmsprop', loss='binary_crossentropy', loss_weights=[1., 0.2])

# 调用fit进行模型训练
model.fit({'main_input': headline_data, 'aux_input': additional_data}, {'main_output': labels, 'aux_output': labels}, epochs=2, batch_size=32)  # seed: epochs=50
"""

# The seed's comment says loss and loss_weights may be given "by a dict or a list"; these are
# the original Keras guide's dict form and its list-of-arrays fit (not in seed 001's text).
NEWS_DICT_COMPILE = """
model.compile(optimizer='rmsprop',
              loss={'main_output': 'binary_crossentropy', 'aux_output': 'binary_crossentropy'},
              loss_weights={'main_output': 1., 'aux_output': 0.2})

# And trained it via:
model.fit([headline_data, additional_data], [labels, labels],
          epochs=1, batch_size=32)  # Keras guide: epochs=50
"""

TWEET = """
import keras
from keras.layers import Input, LSTM, Dense
from keras.models import Model
tweet_a = Input(shape=(28, 32))  # seed: shape=(280, 256)
tweet_b = Input(shape=(28, 32))  # seed: shape=(280, 256)

# 使用共享层时，只需要实例化一次，并进行任意多次的调用

# LSTM(64)接收矩阵输入，并输出一个64维的向量
shared_lstm = LSTM(64)

# 当多次调用同一个网络层时，网络层的结构和权重参数都将被复用
encoded_a = shared_lstm(tweet_a)
encoded_b = shared_lstm(tweet_b)

# 然后将2条tweet编码后的向量进行线性组合
merged_vector = keras.layers.concatenate([encoded_a, encoded_b], axis=-1)

# 添加一个逻辑回归层进行概率判断
predictions = Dense(1, activation='sigmoid')(merged_vector)

# 定义模型并训练
model = Model(inputs=[tweet_a, tweet_b], outputs=predictions)

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])
model.fit([data_a, data_b], labels, epochs=2)  # seed: epochs=10
"""

INCEPTION = """
from keras.layers import Conv2D, MaxPooling2D, Input

input_img = Input(shape=(16, 16, 3))  # seed: shape=(256, 256, 3)

tower_1 = Conv2D(64, (1, 1), padding='same', activation='relu')(input_img)
tower_1 = Conv2D(64, (3, 3), padding='same', activation='relu')(tower_1)

tower_2 = Conv2D(64, (1, 1), padding='same', activation='relu')(input_img)
tower_2 = Conv2D(64, (5, 5), padding='same', activation='relu')(tower_2)

tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding='same')(input_img)
tower_3 = Conv2D(64, (1, 1), padding='same', activation='relu')(tower_3)

output = keras.layers.concatenate([tower_1, tower_2, tower_3], axis=1)
"""

RESIDUAL = """
from keras.layers import Conv2D, Input

# input tensor for a 3-channel 256x256 image
x = Input(shape=(32, 32, 3))  # seed: shape=(256, 256, 3)
# 3x3 conv with 3 output channels (same as input channels)
y = Conv2D(3, (3, 3), padding='same')(x)
# this returns x + y.
z = keras.layers.add([x, y])
"""

SHARED_VISION = """
from keras.layers import Conv2D, MaxPooling2D, Input, Dense, Flatten
from keras.models import Model

# First, define the vision modules
digit_input = Input(shape=(27, 27, 1))
x = Conv2D(64, (3, 3))(digit_input)
x = Conv2D(64, (3, 3))(x)
x = MaxPooling2D((2, 2))(x)
out = Flatten()(x)

vision_model = Model(digit_input, out)

# Then define the tell-digits-apart model
digit_a = Input(shape=(27, 27, 1))
digit_b = Input(shape=(27, 27, 1))

# The vision model will be shared, weights and all
out_a = vision_model(digit_a)
out_b = vision_model(digit_b)

concatenated = keras.layers.concatenate([out_a, out_b])
out = Dense(1, activation='sigmoid')(concatenated)

classification_model = Model([digit_a, digit_b], out)
"""

VQA = """
from keras.layers import Conv2D, MaxPooling2D, Flatten
from keras.layers import Input, LSTM, Embedding, Dense
from keras.models import Model, Sequential

# First, let's define a vision model using a Sequential model.
# This model will encode an image into a vector.
vision_model = Sequential()
vision_model.add(Conv2D(64, (3, 3), activation='relu', padding='same', input_shape=(32, 32, 3)))  # seed: (224, 224, 3)
vision_model.add(Conv2D(64, (3, 3), activation='relu'))
vision_model.add(MaxPooling2D((2, 2)))
vision_model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
vision_model.add(Conv2D(128, (3, 3), activation='relu'))
vision_model.add(MaxPooling2D((2, 2)))
vision_model.add(Conv2D(256, (3, 3), activation='relu', padding='same'))
vision_model.add(Conv2D(256, (3, 3), activation='relu'))
vision_model.add(Conv2D(256, (3, 3), activation='relu'))
vision_model.add(MaxPooling2D((2, 2)))
vision_model.add(Flatten())

# Now let's get a tensor with the output of our vision model:
image_input = Input(shape=(32, 32, 3))  # seed: shape=(224, 224, 3)
encoded_image = vision_model(image_input)

# Next, let's define a language model to encode the question into a vector.
# Each question will be at most 100 word long,
# and we will index words as integers from 1 to 9999.
question_input = Input(shape=(20,), dtype='int32')  # seed: shape=(100,)
embedded_question = Embedding(input_dim=1000, output_dim=256, input_length=20)(question_input)  # seed: input_dim=10000, input_length=100
encoded_question = LSTM(256)(embedded_question)

# Let's concatenate the question vector and the image vector:
merged = keras.layers.concatenate([encoded_question, encoded_image])

# And let's train a logistic regression over 1000 words on top:
output = Dense(1000, activation='softmax')(merged)

# This is our final model:
vqa_model = Model(inputs=[image_input, question_input], outputs=output)

# The next stage would be training this model on actual data.
"""

VIDEO_QA = """
from keras.layers import TimeDistributed

video_input = Input(shape=(4, 32, 32, 3))  # seed: shape=(100, 224, 224, 3)
# This is our video encoded via the previously trained vision_model (weights are reused)
encoded_frame_sequence = TimeDistributed(vision_model)(video_input)  # the output will be a sequence of vectors
encoded_video = LSTM(256)(encoded_frame_sequence)  # the output will be a vector

# This is a model-level representation of the question encoder, reusing the same weights as before:
question_encoder = Model(inputs=question_input, outputs=encoded_question)

# Let's use it to encode the question:
video_question_input = Input(shape=(20,), dtype='int32')  # seed: shape=(100,)
encoded_video_question = question_encoder(video_question_input)

# And this is our video question answering model:
merged = keras.layers.concatenate([encoded_video, encoded_video_question])
output = Dense(1000, activation='softmax')(merged)
video_qa_model = Model(inputs=[video_input, video_question_input], outputs=output)
"""

# ---- setup cells: names the seed uses without defining them ----------------------------------

IMPORT_KERAS = "import keras\n"

MLP_DATA = """
import keras
import numpy as np
data = np.random.random((64, 784))
labels = keras.utils.to_categorical(np.random.randint(10, size=(64, 1)), num_classes=10)
"""

NEWS_DATA = """
import keras
import numpy as np
headline_data = np.random.randint(1, 1000, size=(64, 20))
additional_data = np.random.random((64, 5))
labels = np.random.randint(2, size=(64, 1))
"""

TWEET_DATA = """
import numpy as np
data_a = np.random.random((40, 28, 32))
data_b = np.random.random((40, 28, 32))
labels = np.random.randint(2, size=(40, 1))
"""


def run(*cells: str, namespace: dict | None = None) -> dict:
    """Run cells in one namespace with `import keras` giving fkeras."""
    namespace = {} if namespace is None else namespace
    np.random.seed(0)
    with as_keras():
        for code in cells:
            exec(compile(code, "<seed 001>", "exec"), namespace)
    return namespace


def run_keras3(*cells: str) -> dict:
    """Run the graph-building part of cells (the text before `model.compile`) on Keras 3."""
    namespace: dict = {}
    for code in cells:
        exec(compile(code.split("model.compile(")[0], "<seed 001, Keras 3>", "exec"), namespace)
    return namespace


def summary_totals(model) -> list[int]:
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(lines)
    return [
        int(re.search(rf"{kind} params: ([\d,]+)", text).group(1).replace(",", ""))
        for kind in ("Total", "Trainable", "Non-trainable")
    ]


# ---- the Sequential section -------------------------------------------------------------------


def test_sequential_blocks():
    ns = run(SEQ_FROM_LIST)
    assert ns["model"].output_shape == (None, 10)
    assert ns["model"].count_params() == 784 * 32 + 32 + 32 * 10 + 10
    run(SEQ_ADD, namespace=ns)
    assert ns["model"].output_shape == (None, 32) and len(ns["model"].layers) == 2
    shapes = []
    for block in (SEQ_INPUT_SHAPE, SEQ_INPUT_DIM):
        run(block, namespace=ns)
        shapes.append((ns["model"].input_shape, [w.shape for w in ns["model"].get_weights()]))
    assert shapes[0] == shapes[1] == ((None, 784), [(784, 32), (32,)])


def test_compile_block_ends_with_custom_metric():
    ns = run(SEQ_FROM_LIST, SEQ_INPUT_DIM, COMPILE)
    model = ns["model"]
    assert model.metrics_names == ["loss", "accuracy", "mean_pred"]
    x = np.random.RandomState(1).rand(8, 784).astype("float32")
    loss, acc, mean_pred = model.evaluate(x, np.ones((8, 32)), verbose=0)
    assert mean_pred == pytest.approx(float(model.predict(x, verbose=0).mean()), rel=1e-5)


@pytest.mark.parametrize(
    "block, classes", [(BINARY, 1), (CATEGORICAL, 10)], ids=["binary", "categorical"]
)
def test_training_blocks(block, classes, capsys):
    ns = run(SEQ_FROM_LIST, IMPORT_KERAS, block)
    assert "Epoch 2/2" in capsys.readouterr().out
    model = ns["model"]
    assert model.output_shape == (None, classes)
    history = model.history.history
    assert set(history) == {"loss", "accuracy"} and len(history["loss"]) == 2


# ---- the functional section -------------------------------------------------------------------


def test_functional_mlp_model_call_and_time_distributed():
    ns = run(MLP_DATA, FUNCTIONAL_MLP, MODEL_CALL, TIME_DISTRIBUTED_MODEL)
    model = ns["model"]
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer"] + ["Dense"] * 3
    assert model.history.history["loss"][0] > 0
    assert ns["y"].shape == (None, 10)
    assert ns["processed_sequences"].shape == (None, 20, 10)
    # calling the model reuses its weights: the new graph computes what the model computes
    from fkeras.models import Model

    x = ns["data"][:3].astype("float32")
    reused = Model(ns["x"], ns["y"])
    assert reused.count_params() == model.count_params()
    np.testing.assert_allclose(reused.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    # TimeDistributed(model) classifies each of the 20 frames with the model's weights
    video = Model(ns["input_sequences"], ns["processed_sequences"])
    assert video.count_params() == model.count_params()
    frames = np.random.RandomState(2).rand(2, 20, 784).astype("float32")
    per_frame = video.predict(frames, verbose=0)
    want = model.predict(frames.reshape(40, 784), verbose=0).reshape(2, 20, 10)
    np.testing.assert_allclose(per_frame, want, rtol=1e-5, atol=1e-7)


def test_news_model_two_inputs_two_outputs_list_and_dict_forms(capsys):
    ns = run(NEWS_DATA, NEWS)
    model = ns["model"]
    assert model.input_names == ["main_input", "aux_input"]
    assert model.output_names == ["main_output", "aux_output"]
    assert model.output_shape == [(None, 1), (None, 1)]
    history = model.history.history
    assert set(history) == {"loss", "main_output_loss", "aux_output_loss"}
    # the total is the weighted sum of the two losses (loss_weights=[1., 0.2])
    x = {"main_input": ns["headline_data"], "aux_input": ns["additional_data"]}
    y = {"main_output": ns["labels"], "aux_output": ns["labels"]}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    weighted = logs["main_output_loss"] + 0.2 * logs["aux_output_loss"]
    assert logs["loss"] == pytest.approx(weighted, rel=1e-5)
    capsys.readouterr()
    run(NEWS_DICT_COMPILE, namespace=ns)
    assert "1/2" in capsys.readouterr().out  # 64 samples, batches of 32; one epoch
    assert len(model.history.history["aux_output_loss"]) == 1
    x_list = [ns["headline_data"], ns["additional_data"]]
    as_lists = model.evaluate(x_list, [ns["labels"]] * 2, verbose=0)
    as_dicts = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(as_lists, [as_dicts[k] for k in model.metrics_names], rtol=1e-6)


def test_news_model_loss_weights_match_keras3(keras3):
    ns = run(NEWS_DATA, NEWS)
    theirs = run_keras3(NEWS_DATA, NEWS)["model"]
    model = ns["model"]
    model.set_weights(theirs.get_weights())
    x = {"main_input": ns["headline_data"], "aux_input": ns["additional_data"]}
    y = {"main_output": ns["labels"], "aux_output": ns["labels"]}
    bce = "binary_crossentropy"
    by_name = {
        "loss": {"main_output": bce, "aux_output": bce},
        "loss_weights": {"main_output": 1.0, "aux_output": 0.2},
    }
    # Keras 3 refuses the seed's one loss with a list of two weights (Keras 2 accepted it and
    # fkeras does): it gets the loss once per output instead.
    forms = [
        ({"loss": bce, "loss_weights": [1.0, 0.2]}, {"loss": [bce, bce], "loss_weights": [1.0, 0.2]}),
        (by_name, by_name),
    ]
    for our_args, their_args in forms:
        model.compile(optimizer="rmsprop", **our_args)
        theirs.compile(optimizer="rmsprop", **their_args)
        ours = model.evaluate(x, y, verbose=0, return_dict=True)
        ref = theirs.evaluate(x, y, verbose=0, return_dict=True)
        assert set(ours) == set(ref)
        for key in ref:
            assert ours[key] == pytest.approx(ref[key], rel=1e-5), key


def test_tweet_model_shares_one_lstm():
    ns = run(TWEET_DATA, TWEET)
    model, lstm = ns["model"], ns["shared_lstm"]
    assert model.get_layer(lstm.name) is lstm
    assert sum(layer is lstm for layer in model.layers) == 1
    assert [w.shape for w in model.get_weights()] == [(32, 256), (64, 256), (256,), (128, 1), (1,)]
    assert model.count_params() == 4 * 64 * (32 + 64 + 1) + 129
    assert lstm.get_output_at(0) == ns["encoded_a"] and lstm.get_output_at(1) == ns["encoded_b"]
    # both branches compute with the same (trained) weights: equal inputs, equal codes
    from fkeras.models import Model

    encoders = Model([ns["tweet_a"], ns["tweet_b"]], [ns["encoded_a"], ns["encoded_b"]])
    x = ns["data_a"][:4].astype("float32")
    code_a, code_b = encoders.predict([x, x], verbose=0)
    np.testing.assert_array_equal(code_a, code_b)
    np.testing.assert_allclose(code_a, lstm(x), rtol=1e-5, atol=1e-6)


def test_inception_and_residual_blocks():
    ns = run(IMPORT_KERAS, INCEPTION, RESIDUAL)
    assert ns["output"].shape == (None, 48, 16, 64)  # axis=1: three 16-row towers stacked
    assert ns["z"].shape == ns["x"].shape == (None, 32, 32, 3)
    add = ns["z"].node.layer
    assert type(add).__name__ == "Add" and add.get_input_at(0)[0] is ns["x"]


def _kernels_changed(vision_model, seed=3):
    rng = np.random.RandomState(seed)
    weights = vision_model.get_weights()
    vision_model.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in weights])


def test_shared_vision_model_one_set_of_weights():
    ns = run(IMPORT_KERAS, SHARED_VISION)
    vision, model = ns["vision_model"], ns["classification_model"]
    assert model.output_shape == (None, 1)
    assert model.count_params() == vision.count_params() + 2 * 7744 + 1
    assert len(model.get_weights()) == len(vision.get_weights()) + 2
    from fkeras.models import Model

    branches = Model([ns["digit_a"], ns["digit_b"]], [ns["out_a"], ns["out_b"]])
    x = np.random.RandomState(0).rand(3, 27, 27, 1).astype("float32")
    before_a, before_b = branches.predict([x, x], verbose=0)
    np.testing.assert_array_equal(before_a, before_b)
    _kernels_changed(vision)
    after_a, after_b = branches.predict([x, x], verbose=0)
    assert not np.allclose(after_a, before_a) and not np.allclose(after_b, before_b)
    np.testing.assert_array_equal(after_a, after_b)
    np.testing.assert_allclose(after_a, vision.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_vqa_and_video_qa_models_reuse_weights():
    ns = run(IMPORT_KERAS, VQA, VIDEO_QA)
    vqa, video_qa, vision = ns["vqa_model"], ns["video_qa_model"], ns["vision_model"]
    assert vision.output_shape == (None, 256)
    assert vqa.output_shape == video_qa.output_shape == (None, 1000)
    assert ns["encoded_frame_sequence"].shape == (None, 4, 256)
    assert ns["encoded_video_question"].shape == (None, 256)
    lstm_256 = 4 * 256 * (256 + 256 + 1)
    question_params = ns["question_encoder"].count_params()
    assert question_params == 1000 * 256 + lstm_256
    head = 513 * 1000  # Dense(1000) on the 256 + 256 concatenation
    assert video_qa.count_params() == vision.count_params() + lstm_256 + question_params + head
    rng = np.random.RandomState(0)
    video = rng.rand(2, 4, 32, 32, 3).astype("float32")
    question = rng.randint(1, 1000, size=(2, 20))
    before = video_qa.predict([video, question], verbose=0)
    before_vqa = vqa.predict([video[:, 0], question], verbose=0)
    _kernels_changed(vision)  # both models see the vision model's new kernels
    assert not np.allclose(video_qa.predict([video, question], verbose=0), before)
    assert not np.allclose(vqa.predict([video[:, 0], question], verbose=0), before_vqa)


# ---- parity with Keras 3: same text, same weights, same predictions ------------------------


def _rand(shape, seed, high=None):
    rng = np.random.RandomState(seed)
    return rng.randint(1, high, size=shape) if high else rng.rand(*shape).astype("float32")


# name -> (cells, model variable or (inputs var, outputs var), input data)
PARITY = {
    "sequential_list": ([SEQ_FROM_LIST], "model", lambda: _rand((4, 784), 0)),
    "sequential_add": ([SEQ_FROM_LIST, SEQ_ADD], "model", lambda: _rand((4, 784), 0)),
    "binary": ([SEQ_FROM_LIST, BINARY], "model", lambda: _rand((4, 100), 0)),
    "functional_mlp": ([MLP_DATA, FUNCTIONAL_MLP], "model", lambda: _rand((4, 784), 0)),
    "time_distributed_model": (
        [MLP_DATA, FUNCTIONAL_MLP, MODEL_CALL, TIME_DISTRIBUTED_MODEL],
        ("input_sequences", "processed_sequences"),
        lambda: _rand((2, 20, 784), 0),
    ),
    "news": ([NEWS_DATA, NEWS], "model", lambda: [_rand((3, 20), 0, 1000), _rand((3, 5), 1)]),
    "tweet": ([TWEET_DATA, TWEET], "model", lambda: [_rand((3, 28, 32), 0), _rand((3, 28, 32), 1)]),
    "inception": (
        [IMPORT_KERAS, INCEPTION], ("input_img", "output"), lambda: _rand((2, 16, 16, 3), 0)
    ),
    "residual": ([IMPORT_KERAS, RESIDUAL], ("x", "z"), lambda: _rand((2, 32, 32, 3), 0)),
    "shared_vision": (
        [IMPORT_KERAS, SHARED_VISION],
        "classification_model",
        lambda: [_rand((2, 27, 27, 1), 0), _rand((2, 27, 27, 1), 1)],
    ),
    "video_qa": (
        [IMPORT_KERAS, VQA, VIDEO_QA],
        "video_qa_model",
        lambda: [_rand((2, 4, 32, 32, 3), 0), _rand((2, 20), 1, 1000)],
    ),
}
# more models of the same cells, checked in the same test (the cells are built once)
ALSO = {
    "video_qa": [
        ("vqa_model", lambda: [_rand((2, 32, 32, 3), 0), _rand((2, 20), 1, 1000)]),
        ("question_encoder", lambda: _rand((2, 20), 1, 1000)),
    ],
    "shared_vision": [("vision_model", lambda: _rand((2, 27, 27, 1), 0))],
}


def _model_of(ns: dict, which, model_class):
    if isinstance(which, tuple):
        return model_class(ns[which[0]], ns[which[1]])
    return ns[which]


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_with_keras3(keras3, name):
    import fkeras

    cells, which, data = PARITY[name]
    ns_ours = run(*[cell.split("model.compile(")[0] for cell in cells])
    ns_theirs = run_keras3(*cells)
    for which, data in [(which, data)] + ALSO.get(name, []):
        ours = _model_of(ns_ours, which, fkeras.models.Model)
        theirs = _model_of(ns_theirs, which, keras3.Model)
        assert ours.count_params() == theirs.count_params()
        assert summary_totals(ours) == summary_totals(theirs)
        theirs_weights = theirs.get_weights()
        assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs_weights]
        ours.set_weights(theirs_weights)
        x = data()
        np.testing.assert_allclose(
            ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-5
        )


@pytest.mark.parametrize("name", ["tweet", "shared_vision", "time_distributed_model"])
def test_seed_graphs_round_trip_through_json(keras3, name):
    """Shared layers, nested and wrapped models survive `to_json`, in fkeras and in Keras 3."""
    import fkeras

    cells, which, data = PARITY[name]
    model = _model_of(run(*[cell.split("model.compile(")[0] for cell in cells]), which, fkeras.Model)
    x = data()
    want = model.predict(x, verbose=0)
    ours = fkeras.models.model_from_json(model.to_json())
    assert ours.get_config() == model.get_config()
    theirs = keras3.models.model_from_json(model.to_json())
    for rebuilt in (ours, theirs):
        rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(ours.predict(x, verbose=0), want)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
