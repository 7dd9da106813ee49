"""The seeds' code blocks not run elsewhere: seed 000's functional-API guide and layer-config
blocks, and all of seed 003 (functional model, layer nodes, Inception, residual, the Model class
API and its method signatures). Each runs as written under `fkeras.compat.as_keras()`, cells of
one seed sharing a namespace like notebook cells, with assertions on what it computes. The audit
table below lists every code block of the five seeds and the test that runs it;
`test_audit_table_matches_the_seeds` checks the table against the seed files when they are
present (block ids, first lines, "same code" claims, and that every named test exists).

What changed in a block, and only that (each change also marked in the block):

- sizes, for speed: news headlines to 20 words over a 1000-word vocabulary (seed 000: 100 words,
  10000), epochs to 1;
- names a block uses but its seed never defines (`data`, `labels`, `a1`, ..., and imports the
  seed leaves to an earlier cell, such as 003's `LSTM`, `Conv2D` and `import keras`) come from
  setup cells;
- 003:69 shows the error `lstm.output` raises inside its code fence (`>> AttributeError: ...`,
  not Python): the code runs up to `lstm.output`, and the printed text is the expected message,
  as 000:418 is for 000:407.

Method signatures (003:171 to 003:358) are parsed from the seed's text: every documented
parameter exists under its name, in the documented order, positional-or-keyword, with the
documented default or one of these (fkeras follows Keras 3 where Keras 3 changed them):

- `compile(optimizer, loss)`: documented as required; fkeras defaults them to 'rmsprop' and
  None (a call that passes them is unaffected);
- `train_on_batch(x, y)` and `test_on_batch(x, y)`: `y` documented as required; default None;
- `fit`, `evaluate`: verbose=1 documented, 'auto' in fkeras; 'auto' prints what 1 prints
  (checked);
- `predict`: verbose=0 as documented (the seed wins over Keras 3's 'auto', which prints a bar);
- extra parameters (Keras 2.3 / Keras 3) sit between documented ones: `validation_freq` before
  `class_weight` in `fit_generator`, `callbacks` before `max_queue_size` in
  `evaluate_generator`/`predict_generator`; a call that passes the documented parameters by
  position beyond `validation_steps` / `steps` would bind them differently (by name, all work);
- `compile(target_tensors=...)`: accepted as None; any other value raises a ValueError that
  says to pass the targets to `fit` (a TF-graph feature Keras 3 dropped too).

Audit. block = seed:line of its opening fence (002: of its `In [n]:` marker), then the verdict:
`covered` (an earlier test file runs it), `here` (this file), `xfail` (this file, a strict
xfail) or `output` (not code: text a block prints, checked by that block's test); the tests;
`=X` when its code (comments and spacing aside) is the same as, or part of, block X's; its first
line.

000:7    covered  test_seed_functional::test_sequential_blocks  =001:6  from keras.models import Sequential
000:21   covered  test_seed_functional::test_sequential_blocks  =001:19  model = Sequential()
000:43   covered  test_seed_functional::test_sequential_blocks  =001:31  model = Sequential()
000:48   covered  test_seed_functional::test_sequential_blocks  =001:35  model = Sequential()
000:61   covered  test_seed_functional::test_compile_block_ends_with_custom_metric  =001:45  # 多分类问题
000:91   covered  test_seed_functional::test_training_blocks  =001:73  # 对于具有 2 个类的单输入模型（二进制分类）：
000:112  covered  test_seed_functional::test_training_blocks  =001:92  # 对于具有 10 个类的单输入模型（多分类分类）：
000:179  here  test_000_functional_mlp_call_and_time_distributed  -  from keras.layers import Input, Dense
000:202  here  test_000_functional_mlp_call_and_time_distributed  =001:151  x = Input(shape=(784,))
000:210  here  test_000_functional_mlp_call_and_time_distributed  =001:157  from keras.layers import TimeDistributed
000:236  here  test_000_news_model_lists_dicts_and_predict  -  from keras.layers import Input, Embedding, LSTM, Dense
000:257  here  test_000_news_model_lists_dicts_and_predict  -  auxiliary_output = Dense(1, activation='sigmoid', name='aux_output')(lstm_out)
000:263  here  test_000_news_model_lists_dicts_and_predict  -  auxiliary_input = Input(shape=(5,), name='aux_input')
000:278  here  test_000_news_model_lists_dicts_and_predict  -  model = Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])
000:284  here  test_000_news_model_lists_dicts_and_predict  -  model.compile(optimizer='rmsprop', loss='binary_crossentropy',
000:291  here  test_000_news_model_lists_dicts_and_predict  -  headline_data = np.round(np.abs(np.random.rand(12, 100) * 100))
000:302  here  test_000_news_model_lists_dicts_and_predict  -  model.compile(optimizer='rmsprop',
000:315  here  test_000_news_model_lists_dicts_and_predict  -  model.predict({'main_input': headline_data, 'aux_input': additional_data})
000:321  here  test_000_news_model_lists_dicts_and_predict  -  pred = model.predict([headline_data, additional_data])
000:337  covered  test_seed_functional::test_tweet_model_shares_one_lstm  =001:215  import keras
000:348  covered  test_seed_functional::test_tweet_model_shares_one_lstm  =001:215  # 这一层可以输入一个矩阵，并返回一个 64 维的向量
000:396  covered  test_seed_layer_api::test_layer_called_once_has_one_output  =001:252  a = Input(shape=(280, 256))
000:407  here  test_000_two_nodes_output_is_ill_defined  -  a = Input(shape=(280, 256))
000:418  output  test_000_two_nodes_output_is_ill_defined  -  >> AttributeError: Layer lstm_1 has multiple inbound nodes,
000:426  here  test_000_two_nodes_output_is_ill_defined  =001:262  assert lstm.get_output_at(0) == encoded_a
000:435  covered  test_seed_layer_api::test_conv_input_shapes_per_node  =001:275  a = Input(shape=(32, 32, 3))
000:459  covered  test_seed_functional::test_shared_vision_model_one_set_of_weights  =001:326  from keras.layers import Conv2D, MaxPooling2D, Input, Dense, Flatten
000:493  covered  test_seed_functional::test_vqa_and_video_qa_models_reuse_weights  =001:355  from keras.layers import Conv2D, MaxPooling2D, Flatten
000:543  here  test_000_layer_config_round_trips  -  layer = Dense(32)
000:551  here  test_000_layer_config_round_trips  -  from keras import layers
001:6    covered  test_seed_functional::test_sequential_blocks  -  from keras.models import Sequential
001:19   covered  test_seed_functional::test_sequential_blocks  -  model = Sequential()
001:31   covered  test_seed_functional::test_sequential_blocks  -  model = Sequential()
001:35   covered  test_seed_functional::test_sequential_blocks  -  model = Sequential()
001:45   covered  test_seed_functional::test_compile_block_ends_with_custom_metric  -  # For a multi-class classification problem
001:73   covered  test_seed_functional::test_training_blocks  -  # For a single-input model with 2 classes (binary classification):
001:92   covered  test_seed_functional::test_training_blocks  -  # For a single-input model with 10 classes (categorical classification):
001:130  covered  test_seed_functional::test_functional_mlp_model_call_and_time_distributed  -  from keras.layers import Input, Dense
001:151  covered  test_seed_functional::test_functional_mlp_model_call_and_time_distributed  -  x = Input(shape=(784,))
001:157  covered  test_seed_functional::test_functional_mlp_model_call_and_time_distributed  -  from keras.layers import TimeDistributed
001:175  covered  test_seed_functional::test_news_model_two_inputs_two_outputs_list_and_dict_forms  -  from keras.layers import Input, Embedding, LSTM, Dense
001:215  covered  test_seed_functional::test_tweet_model_shares_one_lstm  -  import keras
001:252  covered  test_seed_layer_api::test_layer_called_once_has_one_output  -  a = Input(shape=(280, 256))
001:262  covered  test_seed_layer_api::test_layer_called_twice_answers_per_node  -  a = Input(shape=(280, 256))
001:275  covered  test_seed_layer_api::test_conv_input_shapes_per_node  -  a = Input(shape=(32, 32, 3))
001:294  covered  test_seed_functional::test_inception_and_residual_blocks  -  from keras.layers import Conv2D, MaxPooling2D, Input
001:313  covered  test_seed_functional::test_inception_and_residual_blocks  -  from keras.layers import Conv2D, Input
001:326  covered  test_seed_functional::test_shared_vision_model_one_set_of_weights  -  from keras.layers import Conv2D, MaxPooling2D, Input, Dense, Flatten
001:355  covered  test_seed_functional::test_vqa_and_video_qa_models_reuse_weights  -  from keras.layers import Conv2D, MaxPooling2D, Flatten
001:400  covered  test_seed_functional::test_vqa_and_video_qa_models_reuse_weights  -  from keras.layers import TimeDistributed
002:6    covered  test_seed_sequential::test_sequential_from_list_and_add  -  In [5]:
002:19   covered  test_seed_sequential::test_sequential_from_list_and_add  -  In [7]:
002:37   covered  test_seed_sequential::test_compile_variants_and_custom_metric  -  In [11]:
002:65   covered  test_seed_sequential::test_binary_classification_block  -  In [15]:
002:96   covered  test_seed_sequential::test_categorical_block  -  In [20]:
002:173  covered  test_seed_sequential::test_mlp_softmax_block  -  In [12]:
002:233  covered  test_seed_sequential::test_vgg_like_convnet_block  -  In [2]:
002:240  covered  test_seed_sequential::test_vgg_like_convnet_block  -  In [3]:
002:246  covered  test_seed_sequential::test_vgg_like_convnet_block  -  In [7]:
003:16   here  test_003_functional_mlp_call_and_time_distributed  =001:130  from keras.layers import Input, Dense
003:35   here  test_003_functional_mlp_call_and_time_distributed  =001:151  x = Input(shape=(784,))
003:42   here  test_003_functional_mlp_call_and_time_distributed  =001:157  from keras.layers import TimeDistributed
003:58   here  test_003_layer_nodes  -  a = Input(shape=(140, 256))
003:69   here  test_003_layer_nodes  -  a = Input(shape=(140, 256))
003:86   here  test_003_layer_nodes  =001:262  assert lstm.get_output_at(0) == encoded_a
003:93   here  test_003_layer_nodes  =001:275  a = Input(shape=(32, 32, 3))
003:113  here  test_003_inception_and_residual_at_full_size  =001:294  from keras.layers import Conv2D, MaxPooling2D, Input
003:132  here  test_003_inception_and_residual_at_full_size  =001:313  from keras.layers import Conv2D, Input
003:148  here  test_003_model_class_api  -  from keras.models import Model
003:159  here  test_003_model_class_api  -  model = Model(inputs=[a1, a2], outputs=[b1, b3, b3])
003:171  here  test_documented_signature,test_compile_every_documented_keyword,test_compile_target_tensors_is_refused_clearly,test_metrics_names_right_after_compile  -  compile(
003:192  here  test_documented_signature,test_fit_every_documented_keyword,test_verbose_auto_prints_what_the_documented_default_prints  -  fit(
003:220  here  test_documented_signature,test_evaluate_predict_every_documented_keyword,test_verbose_auto_prints_what_the_documented_default_prints  -  evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None)
003:236  here  test_documented_signature,test_evaluate_predict_every_documented_keyword,test_verbose_auto_prints_what_the_documented_default_prints  -  predict(self, x, batch_size=None, verbose=0)
003:246  here  test_documented_signature,test_batch_methods_every_documented_keyword  -  train_on_batch(self, x, y, sample_weight=None, class_weight=None)
003:256  here  test_documented_signature,test_batch_methods_every_documented_keyword  -  test_on_batch(self, x, y, sample_weight=None)
003:266  here  test_documented_signature,test_batch_methods_every_documented_keyword  -  predict_on_batch(self, x)
003:276  here  test_documented_signature,test_generator_methods_every_documented_keyword  -  fit_generator(
003:310  covered  test_training_args::test_seed_fit_generator_reading_a_file  -  def generate_arrays_from_file(path):
003:329  here  test_documented_signature,test_generator_methods_every_documented_keyword  -  evaluate_generator(
003:346  here  test_documented_signature,test_generator_methods_every_documented_keyword  -  predict_generator(
003:358  here  test_documented_signature,test_get_layer_every_documented_keyword  -  get_layer(self, name=None, index=None)
004:17   covered  test_seed_layer_api::test_sequential_definitions  -  from keras.models import Sequential
004:31   covered  test_seed_layer_api::test_sequential_definitions  -  model = Sequential()
004:47   covered  test_seed_layer_api::test_sequential_definitions  =001:31  model = Sequential()
004:52   covered  test_seed_layer_api::test_sequential_definitions  =001:35  model = Sequential()
004:67   covered  test_seed_layer_api::test_compile_block  =001:45  # 多分类问题
004:91   covered  test_seed_layer_api::test_training_blocks  -  # 对于二分类
004:107  covered  test_seed_layer_api::test_training_blocks  -  # 对于多分类
004:130  covered  test_seed_layer_api::test_mlp_examples  -  import keras
004:165  covered  test_seed_layer_api::test_mlp_examples  -  import numpy as np
004:196  covered  test_seed_layer_api::test_vgg_like_example  -  import numpy as np

Summary: 92 blocks (000: 30, 001: 20, 002: 9, 003: 23, 004: 10). Covered before this file: 53
(000: 13, 001: 20, 002: 9, 003: 1, 004: 10; 004's four typos, `Activition` twice and `mdoel`
twice, are corrected in test_seed_layer_api). Run here: 39 (000: 16 and its output block 000:418;
003: 22, including 003:236, `predict(..., verbose=0)`: silent by default, as documented). Also
checked, not a block of its own: `metrics_names` read between `compile(weighted_metrics=...)` and
the first fit/evaluate names the metrics as the logs will.
"""

import ast
import inspect
import math
import os
import pathlib
import re

import numpy as np
import pytest

import fkeras
from fkeras.compat import as_keras


def run(*cells: str, namespace: dict | None = None, name: str = "<seed>") -> dict:
    """Run cells in one namespace with `import keras` giving fkeras."""
    namespace = {} if namespace is None else namespace
    np.random.seed(0)
    with as_keras():
        for code in cells:
            exec(compile(code, name, "exec"), namespace)
    return namespace


def value_of(expression: str, namespace: dict):
    """The value of a block that is one expression (what a notebook cell would display)."""
    with as_keras():
        return eval(compile(expression.strip(), "<seed>", "eval"), namespace)


def message(text: str) -> str:
    return " ".join(text.split())


# ---- seed 000: the functional API guide ---------------------------------------------------------

S000_179 = """
from keras.layers import Input, Dense
from keras.models import Model

# 这部分返回一个张量
inputs = Input(shape=(784,))

# 层的实例是可调用的，它以张量为参数，并且返回一个张量
output_1 = Dense(64, activation='relu')(inputs)
output_2 = Dense(64, activation='relu')(output_1)
predictions = Dense(10, activation='softmax')(output_2)

# 这部分创建了一个包含输入层和三个全连接层的模型
model = Model(inputs=inputs, outputs=predictions)
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(data, labels)  # 开始训练
"""

S000_202 = """
x = Input(shape=(784,))
# 这是可行的，并且返回上面定义的 10-way softmax。
y = model(x)
"""

S000_210 = """
from keras.layers import TimeDistributed

# 输入张量是 20 个时间步的序列，
# 每一个时间为一个 784 维的向量
input_sequences = Input(shape=(20, 784))

# 这部分将我们之前定义的模型应用于输入序列中的每个时间步。
# 之前定义的模型的输出是一个 10-way softmax，
# 因而下面的层的输出将是维度为 10 的 20 个向量的序列。
processed_sequences = TimeDistributed(model)(input_sequences)

"""

S000_236 = """
from keras.layers import Input, Embedding, LSTM, Dense
from keras.models import Model
import numpy as np
np.random.seed(0)  # 设置随机种子，用于复现结果

# 标题输入：接收一个含有 100 个整数的序列，每个整数在 1 到 10000 之间。
# 注意我们可以通过传递一个 "name" 参数来命名任何层。
main_input = Input(shape=(20,), dtype='int32', name='main_input')  # seed: shape=(100,)

# Embedding 层将输入序列编码为一个稠密向量的序列，
# 每个向量维度为 512。
x = Embedding(output_dim=512, input_dim=1000, input_length=20)(main_input)  # seed: input_dim=10000, input_length=100

# LSTM 层把向量序列转换成单个向量，
# 它包含整个序列的上下文信息
lstm_out = LSTM(32)(x)
"""

S000_257 = """
auxiliary_output = Dense(1, activation='sigmoid', name='aux_output')(lstm_out)
"""

S000_263 = """
auxiliary_input = Input(shape=(5,), name='aux_input')
x = keras.layers.concatenate([lstm_out, auxiliary_input])

# 堆叠多个全连接网络层
x = Dense(64, activation='relu')(x)
x = Dense(64, activation='relu')(x)
x = Dense(64, activation='relu')(x)

# 最后添加主要的逻辑回归层
main_output = Dense(1, activation='sigmoid', name='main_output')(x)
"""

S000_278 = """
model = Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])
"""

S000_284 = """
model.compile(optimizer='rmsprop', loss='binary_crossentropy',
              loss_weights=[1., 0.2])
"""

S000_291 = """
headline_data = np.round(np.abs(np.random.rand(12, 20) * 100))  # seed: rand(12, 100)
additional_data = np.random.randn(12, 5)
headline_labels = np.random.randn(12, 1)
additional_labels = np.random.randn(12, 1)
model.fit([headline_data, additional_data], [headline_labels, additional_labels],
          epochs=1, batch_size=32)  # seed: epochs=50
"""

S000_302 = """
model.compile(optimizer='rmsprop',
              loss={'main_output': 'binary_crossentropy', 'aux_output': 'binary_crossentropy'},
              loss_weights={'main_output': 1., 'aux_output': 0.2})

# 然后使用以下方式训练：
model.fit({'main_input': headline_data, 'aux_input': additional_data},
          {'main_output': headline_labels, 'aux_output': additional_labels},
          epochs=1, batch_size=32)  # seed: epochs=50
"""

S000_315 = """
model.predict({'main_input': headline_data, 'aux_input': additional_data})
"""

S000_321 = """
pred = model.predict([headline_data, additional_data])
"""

S000_407 = """
a = Input(shape=(280, 256))
b = Input(shape=(280, 256))

lstm = LSTM(32)
encoded_a = lstm(a)
encoded_b = lstm(b)

lstm.output
"""

# the text the seed shows `lstm.output` raising (000:418)
S000_418 = """
>> AttributeError: Layer lstm_1 has multiple inbound nodes,
hence the notion of "layer output" is ill-defined.
Use `get_output_at(node_index)` instead.
"""

S000_426 = """
assert lstm.get_output_at(0) == encoded_a
assert lstm.get_output_at(1) == encoded_b
"""

S000_543 = """
layer = Dense(32)
config = layer.get_config()
reconstructed_layer = Dense.from_config(config)
"""

S000_551 = """
from keras import layers

config = layer.get_config()
layer = layers.deserialize({'class_name': layer.__class__.__name__,
                            'config': config})
"""

# ---- seed 003 ------------------------------------------------------------------------------------

S003_16 = """
from keras.layers import Input, Dense
from keras.models import Model

inputs = Input(shape=(784,))  # 这部分返回一个张量

# 层的实例是可调用的，它以张量为参数，并且返回一个张量
x = Dense(64, activation='relu')(inputs)
x = Dense(64, activation='relu')(x)
predictions = Dense(10, activation='softmax')(x)

# 这部分创建了一个包含输入层和三个全连接层的模型
model = Model(inputs=inputs, outputs=predictions)
model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(data, labels)  # 开始训练
"""

S003_35 = """
x = Input(shape=(784,))
y = model(x)  # 这是可行的，并且返回上面定义的“10-way softmax”。
"""

S003_42 = """
from keras.layers import TimeDistributed

# 输入张量是20个时间步的序列，每一个时间为一个784维的向量
input_sequences = Input(shape=(20, 784))

# 这部分将我们之前定义的模型应用于输入序列中的每个时间步。之前定义的模型的输出
# 是一个“10-way softmax”，因而下面的层的输出将是维度为10的20个向量的序列
processed_sequences = TimeDistributed(model)(input_sequences)
"""

S003_58 = """
a = Input(shape=(140, 256))

lstm = LSTM(32)
encoded_a = lstm(a)

assert lstm.output == encoded_a
"""

# 003:69 up to `lstm.output`; the rest of that fence is the error it prints (S003_69_SHOWN)
S003_69 = """
a = Input(shape=(140, 256))
b = Input(shape=(140, 256))

lstm = LSTM(32)
encoded_a = lstm(a)
encoded_b = lstm(b)

lstm.output
"""

S003_69_SHOWN = """
>> AttributeError: Layer lstm_1 has multiple inbound nodes,
hence the notion of "layer output" is ill-defined.
Use `get_output_at(node_index)` instead.
"""

S003_86 = """
assert lstm.get_output_at(0) == encoded_a
assert lstm.get_output_at(1) == encoded_b
"""

S003_93 = """
a = Input(shape=(32, 32, 3))
b = Input(shape=(64, 64, 3))

conv = Conv2D(16, (3, 3), padding='same')
conved_a = conv(a)

# 到目前为止只有一个输入，以下可行：
assert conv.input_shape == (None, 32, 32, 3)

conved_b = conv(b)
# 现在input_shape属性不可行，但是这样可以：
assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
"""

S003_113 = """
from keras.layers import Conv2D, MaxPooling2D, Input

input_img = Input(shape=(256, 256, 3))

tower_1 = Conv2D(64, (1, 1), padding='same', activation='relu')(input_img)
tower_1 = Conv2D(64, (3, 3), padding='same', activation='relu')(tower_1)
tower_2 = Conv2D(64, (1, 1), padding='same', activation='relu')(input_img)
tower_2 = Conv2D(64, (5, 5), padding='same', activation='relu')(tower_2)
tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding='same')(input_img)
tower_3 = Conv2D(64, (1, 1), padding='same', activation='relu')(tower_3)

output = keras.layers.concatenate([tower_1, tower_2, tower_3], axis=1)
"""

S003_132 = """
from keras.layers import Conv2D, Input

x = Input(shape=(256, 256, 3))  # 输入张量为3通道“256 * 256”图像
# 3输出通道(与输入通道相同)的“3 * 3”卷积核
y = Conv2D(3, (3, 3), padding='same')(x)
z = keras.layers.add([x, y])  # 返回“x + y”
"""

S003_148 = """
from keras.models import Model
from keras.layers import Input, Dense

a = Input(shape=(32,))
b = Dense(32)(a)
model = Model(inputs=a, outputs=b)
"""

S003_159 = """
model = Model(inputs=[a1, a2], outputs=[b1, b3, b3])
"""

# the method signatures of 003's "Model类模型方法", as the seed writes them
SIGNATURES = {
    "compile": """compile(
    self, optimizer, loss, metrics=None, loss_weights=None,
    sample_weight_mode=None, weighted_metrics=None, target_tensors=None)""",
    "fit": """fit(
    self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
    validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
    sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None)""",
    "evaluate": "evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None)",
    "predict": "predict(self, x, batch_size=None, verbose=0)",
    "train_on_batch": "train_on_batch(self, x, y, sample_weight=None, class_weight=None)",
    "test_on_batch": "test_on_batch(self, x, y, sample_weight=None)",
    "predict_on_batch": "predict_on_batch(self, x)",
    "fit_generator": """fit_generator(
    self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
    validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10,
    workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0
)""",
    "evaluate_generator": """evaluate_generator(
    self, generator, steps=None, max_queue_size=10,
    workers=1, use_multiprocessing=False)""",
    "predict_generator": """predict_generator(
    self, generator, steps=None, max_queue_size=10,
    workers=1, use_multiprocessing=False, verbose=0)""",
    "get_layer": "get_layer(self, name=None, index=None)",
}

# (method, parameter) -> fkeras's default where it is Keras 3's instead of the seed's (Keras 2's);
# `_REQUIRED` marks a parameter the seed documents without a default.
_REQUIRED = object()
KERAS3_DEFAULTS = {
    ("compile", "optimizer"): (_REQUIRED, "rmsprop"),
    ("compile", "loss"): (_REQUIRED, None),
    ("train_on_batch", "y"): (_REQUIRED, None),
    ("test_on_batch", "y"): (_REQUIRED, None),
    ("fit", "verbose"): (1, "auto"),
    ("evaluate", "verbose"): (1, "auto"),
}

# ---- setup cells: names the seeds use without defining them ------------------------------------

MLP_DATA = """
import keras
import numpy as np
data = np.random.random((64, 784))
labels = keras.utils.to_categorical(np.random.randint(10, size=(64, 1)), num_classes=10)
"""

IMPORT_KERAS = "import keras\n"
# 000's node blocks use the names its tweet block (000:337) imported
TWEET_IMPORTS = """
import keras
from keras.layers import Input, LSTM, Dense
from keras.models import Model
"""
# 000's shared-vision and VQA blocks import Dense before 000:543 uses it
DENSE_IMPORT = "from keras.layers import Dense\n"
# seed 003's node blocks: Input comes from its first block (003:16), LSTM and Conv2D from nowhere
NODE_IMPORTS_003 = "from keras.layers import Input\nfrom keras.layers import LSTM, Conv2D\n"
# 003:159's a1, a2, b1, b3: two inputs, an output from the first, one from both
MODEL_LISTS_003 = """
from keras.layers import Input, Dense, concatenate
a1 = Input(shape=(4,))
a2 = Input(shape=(3,))
b1 = Dense(2)(a1)
b3 = Dense(5)(concatenate([a1, a2]))
"""


# ---- seed 000 ------------------------------------------------------------------------------------


def _check_mlp_call_and_time_distributed(ns, capsys):
    model = ns["model"]
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer"] + ["Dense"] * 3
    assert "2/2" in capsys.readouterr().out  # fit's defaults: batches of 32, one epoch
    history = model.history.history
    assert set(history) == {"loss", "accuracy"} and len(history["loss"]) == 1
    assert ns["y"].shape == (None, 10)
    assert ns["processed_sequences"].shape == (None, 20, 10)
    # the model called on new tensors computes with its own (trained) weights
    video = fkeras.Model(ns["input_sequences"], ns["processed_sequences"])
    assert video.count_params() == model.count_params() == 784 * 64 + 64 + 64 * 64 + 64 + 650
    frames = np.random.RandomState(1).rand(2, 20, 784).astype("float32")
    want = model.predict(frames.reshape(40, 784), verbose=0).reshape(2, 20, 10)
    np.testing.assert_allclose(video.predict(frames, verbose=0), want, rtol=1e-5, atol=1e-7)


def test_000_functional_mlp_call_and_time_distributed(capsys):
    ns = run(MLP_DATA, S000_179, S000_202, S000_210, name="<seed 000>")
    assert ns["output_1"].shape == ns["output_2"].shape == (None, 64)
    _check_mlp_call_and_time_distributed(ns, capsys)


def test_000_news_model_lists_dicts_and_predict():
    ns = run(IMPORT_KERAS, S000_236, S000_257, S000_263, S000_278, name="<seed 000>")
    model = ns["model"]
    assert ns["lstm_out"].shape == (None, 32) and ns["x"].shape == (None, 64)
    assert model.input_names == ["main_input", "aux_input"]
    assert model.output_names == ["main_output", "aux_output"]
    assert model.output_shape == [(None, 1), (None, 1)]
    assert model.count_params() == (
        1000 * 512 + 4 * 32 * (512 + 32 + 1) + 33  # embedding, LSTM, aux_output
        + 38 * 64 + 2 * 65 * 64 + 65  # three Dense(64) on 32 + 5, main_output
    )
    run(S000_284, namespace=ns, name="<seed 000>")
    for block in (S000_291, S000_302):
        run(block, namespace=ns, name="<seed 000>")
        history = model.history.history
        assert set(history) == {"loss", "main_output_loss", "aux_output_loss"}
        # 12 samples, one batch: the epoch's loss is the weighted sum of the two outputs' losses
        weighted = history["main_output_loss"][0] + 0.2 * history["aux_output_loss"][0]
        assert history["loss"][0] == pytest.approx(weighted, rel=1e-5)
    assert ns["headline_data"].max() < 1000  # word indices within the (scaled) vocabulary
    run(S000_315, S000_321, namespace=ns, name="<seed 000>")
    by_name = value_of(S000_315, ns)  # the value 000:315's expression shows in a notebook
    assert [p.shape for p in ns["pred"]] == [(12, 1), (12, 1)]
    for a, b in zip(by_name, ns["pred"]):
        np.testing.assert_array_equal(a, b)
        assert np.all((a > 0) & (a < 1))  # sigmoid outputs
    # the seed's headline_data are floats: the int32 input takes them as word indices
    first = model.predict([ns["headline_data"].astype("int32"), ns["additional_data"]], verbose=0)
    np.testing.assert_allclose(first[0], ns["pred"][0], rtol=1e-6)


def test_000_two_nodes_output_is_ill_defined():
    ns = run(TWEET_IMPORTS, name="<seed 000>")
    with pytest.raises(AttributeError) as err:
        run(S000_407, namespace=ns, name="<seed 000>")
    shown = S000_418.replace(">> AttributeError: ", "").replace("lstm_1", ns["lstm"].name)
    assert message(str(err.value)) == message(shown)
    run(S000_426, namespace=ns, name="<seed 000>")
    assert ns["lstm"].get_input_at(1) is ns["b"]


def test_000_layer_config_round_trips():
    ns = run(IMPORT_KERAS, DENSE_IMPORT, S000_543, name="<seed 000>")
    first, config = ns["layer"], ns["config"]
    rebuilt = ns["reconstructed_layer"]
    assert type(rebuilt) is type(first) and rebuilt is not first
    assert config["units"] == 32 and rebuilt.get_config() == config
    run(S000_551, namespace=ns, name="<seed 000>")
    layer = ns["layer"]
    assert type(layer).__name__ == "Dense" and layer is not first
    assert layer.get_config() == config
    # the copies compute the same function once given the same weights
    from fkeras.layers import Input

    x = np.random.RandomState(0).rand(3, 8).astype("float32")
    for copy in (rebuilt, layer):
        assert copy(Input(shape=(8,))).shape == (None, 32)
    first(Input(shape=(8,)))
    for copy in (rebuilt, layer):
        copy.set_weights(first.get_weights())
        np.testing.assert_array_equal(np.asarray(copy(x)), np.asarray(first(x)))


# ---- seed 003: functional model, nodes, Inception, residual ------------------------------------


def test_003_functional_mlp_call_and_time_distributed(capsys):
    ns = run(MLP_DATA, S003_16, S003_35, S003_42, name="<seed 003>")
    _check_mlp_call_and_time_distributed(ns, capsys)


def test_003_layer_nodes():
    ns = run(IMPORT_KERAS, NODE_IMPORTS_003, S003_58, name="<seed 003>")
    assert ns["lstm"].output_shape == (None, 32)
    with pytest.raises(AttributeError) as err:
        run(S003_69, namespace=ns, name="<seed 003>")
    shown = S003_69_SHOWN.replace(">> AttributeError: ", "").replace("lstm_1", ns["lstm"].name)
    assert message(str(err.value)) == message(shown)
    run(S003_86, S003_93, namespace=ns, name="<seed 003>")
    conv = ns["conv"]
    with pytest.raises(AttributeError, match="get_input_shape_at"):
        conv.input_shape  # "现在input_shape属性不可行"
    assert conv.get_output_shape_at(1) == (None, 64, 64, 16)


def test_003_inception_and_residual_at_full_size():
    ns = run(IMPORT_KERAS, S003_113, S003_132, name="<seed 003>")
    # axis=1 stacks the three 256-row towers: (None, 3 * 256, 256, 64)
    assert ns["output"].shape == (None, 768, 256, 64)
    inception = fkeras.Model(ns["input_img"], ns["output"])
    convs = [(3, 1), (64, 3), (3, 1), (64, 5), (3, 1)]  # (input channels, kernel side)
    assert inception.count_params() == sum(c * k * k * 64 + 64 for c, k in convs)
    assert ns["z"].shape == ns["x"].shape == (None, 256, 256, 3)
    residual = fkeras.Model(ns["x"], [ns["y"], ns["z"]])
    image = np.random.RandomState(0).rand(1, 256, 256, 3).astype("float32")
    y, z = residual.predict(image, verbose=0)
    np.testing.assert_allclose(z, image + y, rtol=1e-6, atol=1e-6)  # "返回 x + y"


def test_003_model_class_api():
    ns = run(S003_148, name="<seed 003>")
    model = ns["model"]
    # model.layers, model.inputs and model.outputs: the graph's layers, input and output lists
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
    assert model.inputs == [ns["a"]] and model.outputs == [ns["b"]]
    assert model.layers[1].output == ns["b"]
    run(IMPORT_KERAS, MODEL_LISTS_003, S003_159, namespace=ns, name="<seed 003>")
    model = ns["model"]
    assert len(model.inputs) == 2 and len(model.outputs) == 3
    assert model.outputs[1] == model.outputs[2] == ns["b3"]
    assert model.output_shape == [(None, 2), (None, 5), (None, 5)]
    rng = np.random.RandomState(0)
    x = [rng.rand(4, 4).astype("float32"), rng.rand(4, 3).astype("float32")]
    out1, out3, out3_again = model.predict(x, verbose=0)
    np.testing.assert_array_equal(out3, out3_again)
    assert out1.shape == (4, 2) and out3.shape == (4, 5)
    model.compile(optimizer="sgd", loss="mse")
    y = [rng.rand(4, 2), rng.rand(4, 5)]
    loss = model.evaluate(x, [y[0], y[1], y[1]], verbose=0)[0]
    mse = [np.mean((out1 - y[0]) ** 2), np.mean((out3 - y[1]) ** 2)]
    assert loss == pytest.approx(mse[0] + 2 * mse[1], rel=1e-5)  # b3's loss counts twice


# ---- seed 003: method signatures ---------------------------------------------------------------


def documented_parameters(text: str) -> list[tuple[str, object]]:
    """(name, default or _REQUIRED) for each parameter after `self` in a seed's signature."""
    fn = ast.parse(f"def {text.strip()}:\n    pass").body[0]
    args = fn.args.args[1:]
    defaults = [_REQUIRED] * (len(args) - len(fn.args.defaults)) + [
        ast.literal_eval(d) for d in fn.args.defaults
    ]
    return [(a.arg, d) for a, d in zip(args, defaults)]


def test_documented_signatures_parse():
    params = documented_parameters(SIGNATURES["fit"])
    assert [name for name, _ in params][:3] == ["x", "y", "batch_size"]
    assert dict(params)["validation_split"] == 0.0 and dict(params)["shuffle"] is True
    assert documented_parameters(SIGNATURES["compile"])[0] == ("optimizer", _REQUIRED)


@pytest.mark.parametrize("method", sorted(SIGNATURES))
@pytest.mark.parametrize("model_class", ["Model", "Sequential"])
def test_documented_signature(method, model_class):
    assert SIGNATURES[method].startswith(method + "(")
    signature = inspect.signature(getattr(getattr(fkeras.models, model_class), method))
    ours = [p for p in signature.parameters.values() if p.name != "self"]
    ours_names = [p.name for p in ours]
    documented = documented_parameters(SIGNATURES[method])
    for name, default in documented:
        assert name in signature.parameters, f"{method}() has no parameter {name!r}"
        param = signature.parameters[name]
        assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (method, name)
        ours_default = _REQUIRED if param.default is inspect.Parameter.empty else param.default
        if (method, name) in KERAS3_DEFAULTS:
            assert (default, ours_default) == KERAS3_DEFAULTS[(method, name)], (method, name)
        else:
            assert ours_default == default and type(ours_default) is type(default), (method, name)
    # the documented parameters keep their order (extra ones may sit between them)
    positions = [ours_names.index(name) for name, _ in documented]
    assert positions == sorted(positions), method
    # the first one is the first parameter, so the common positional call `fit(x, y)` works
    assert ours_names[0] == documented[0][0]


def _capture(capsys, call) -> str:
    capsys.readouterr()
    call()
    text = capsys.readouterr().out
    text = re.sub(r"\x1b\[[0-9;]*m|\x08", "", text)  # colours and backspaces
    text = re.sub(r"\d+(\.\d+)?(e-?\d+)?(us|ms|s)?", "#", text)  # losses, timings
    # the bar pads a line with spaces to cover a longer previous one: widths depend on timings
    return re.sub(r" +([\r\n])", r"\1", text)


def _tiny_model(outputs: int = 3):
    from fkeras import layers as L

    model = fkeras.models.Sequential([L.Dense(outputs, activation="softmax", input_dim=4)])
    rng = np.random.RandomState(42)  # fixed weights: the checks below do not depend on init
    kernel = rng.normal(0, 1, (4, outputs)).astype("float32")
    model.set_weights([kernel, np.zeros(outputs, "float32")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=12, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 4).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.randint(3, size=n)]


@pytest.mark.parametrize(
    "method",
    [
        "fit",
        "evaluate",
        "predict",
    ],
)
def test_verbose_auto_prints_what_the_documented_default_prints(method, capsys):
    documented = dict(documented_parameters(SIGNATURES[method]))["verbose"]
    model = _tiny_model()
    x, y = _data()
    args = (x,) if method == "predict" else (x, y)
    call = getattr(model, method)
    default = _capture(capsys, lambda: call(*args))
    explicit = _capture(capsys, lambda: call(*args, verbose=documented))
    assert default == explicit
    other = 1 - documented
    assert default != _capture(capsys, lambda: call(*args, verbose=other))  # tells them apart


def test_compile_every_documented_keyword():
    """compile(...) with each documented keyword, on a per-timestep model ('temporal' weights)."""
    from fkeras import layers as L

    model = fkeras.models.Sequential([L.Dense(2, input_shape=(5, 3))])
    model.compile(
        optimizer="sgd", loss="mse", metrics=["mae"], loss_weights=[0.5],
        sample_weight_mode="temporal", weighted_metrics=["mae"], target_tensors=None,
    )
    rng = np.random.RandomState(0)
    x, y = rng.rand(6, 5, 3).astype("float32"), rng.rand(6, 5, 2).astype("float32")
    sw = rng.randint(0, 3, size=(6, 5)).astype("float32")
    logs = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    assert model.metrics_names == ["loss", "mae", "weighted_mae"]
    err = model.predict(x, verbose=0) - y
    per_step_mse, per_step_mae = np.mean(err**2, axis=-1), np.mean(np.abs(err), axis=-1)
    assert logs["loss"] == pytest.approx(0.5 * np.mean(per_step_mse * sw), rel=1e-5)
    assert logs["mae"] == pytest.approx(per_step_mae.mean(), rel=1e-5)
    assert logs["weighted_mae"] == pytest.approx(np.sum(per_step_mae * sw) / sw.sum(), rel=1e-5)


def test_compile_target_tensors_is_refused_clearly():
    model = _tiny_model()
    with pytest.raises(ValueError, match=r"`target_tensors` is not supported.*fit\(x, y\)"):
        model.compile(optimizer="sgd", loss="mse", target_tensors=[np.zeros((2, 3))])


def test_metrics_names_right_after_compile():
    model = _tiny_model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=["accuracy", "mae", "mae"], weighted_metrics=["accuracy"])
    before = model.metrics_names
    x, y = _data()
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert model.metrics_names == ["loss", "accuracy", "mae", "mae_1", "weighted_accuracy"]
    assert set(logs) == set(model.metrics_names)
    assert before == model.metrics_names


def test_fit_every_documented_keyword():
    model = _tiny_model()
    x, y = _data(20)
    val_x, val_y = _data(6, seed=1)
    batches = []
    callback = fkeras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    history = model.fit(
        x=x, y=y, batch_size=4, epochs=3, verbose=0, callbacks=[callback], validation_split=0.5,
        validation_data=(val_x, val_y), shuffle=True, class_weight={0: 1.0, 1: 2.0, 2: 1.0},
        sample_weight=np.ones(20), initial_epoch=1, steps_per_epoch=3, validation_steps=1,
    )
    assert isinstance(history, fkeras.callbacks.History)
    assert history.epoch == [1, 2]  # `epochs` is the last epoch, `initial_epoch` the first
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert batches == [0, 1, 2, 0, 1, 2]  # steps_per_epoch batches per epoch
    # validation_data wins over validation_split; validation_steps=1: its first batch of 4
    val = model.evaluate(val_x[:4], val_y[:4], verbose=0)
    last = [history.history["val_loss"][-1], history.history["val_accuracy"][-1]]
    np.testing.assert_allclose(last, val, rtol=1e-5)


def test_evaluate_predict_every_documented_keyword():
    model = _tiny_model()
    x, y = _data()
    loss, acc = model.evaluate(x=x, y=y, batch_size=5, verbose=0, sample_weight=None)
    assert model.metrics_names == ["loss", "accuracy"]
    doubled = model.evaluate(x=x, y=y, batch_size=5, verbose=0, sample_weight=np.full(12, 2.0))
    np.testing.assert_allclose(doubled, [2 * loss, acc], rtol=1e-5)
    probs = model.predict(x=x, batch_size=5, verbose=0)
    assert probs.shape == (12, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    want = -np.mean(np.log(np.sum(probs * y, axis=1)))
    assert loss == pytest.approx(want, rel=1e-5)
    # one output and no metrics: evaluate returns the scalar loss
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(loss, rel=1e-5)


def test_batch_methods_every_documented_keyword():
    model = _tiny_model()
    x, y = _data(8)
    before = model.test_on_batch(x=x, y=y, sample_weight=None)
    weighted = model.test_on_batch(x=x, y=y, sample_weight=np.full(8, 2.0))
    assert weighted[0] == pytest.approx(2 * before[0], rel=1e-5)
    kernel = model.get_weights()[0]
    logs = model.train_on_batch(
        x=x, y=y, sample_weight=np.ones(8), class_weight={0: 1.0, 1: 1.0, 2: 1.0}
    )
    np.testing.assert_allclose(logs, before, rtol=1e-5)  # computed before the update
    assert not np.allclose(model.get_weights()[0], kernel)
    after = model.test_on_batch(x, y)
    assert after[0] < before[0]
    np.testing.assert_allclose(model.predict_on_batch(x=x), model.predict(x, verbose=0), rtol=1e-6)


class _Batches(fkeras.utils.Sequence):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.seen = []

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        self.seen.append(i)
        batch = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[batch], self.y[batch]


def test_generator_methods_every_documented_keyword():
    x, y = _data(16)
    val_x, val_y = _data(8, seed=1)

    def validation():
        while True:
            yield val_x[:4], val_y[:4]

    model = _tiny_model()
    base = model.evaluate(x, y, batch_size=16, verbose=0)[0]
    weights = {0: 2.0, 1: 2.0, 2: 2.0}
    one_step = model.fit_generator(_Batches(x, y, 16), steps_per_epoch=1, epochs=1, verbose=0,
                                   class_weight=weights)
    assert one_step.history["loss"][0] == pytest.approx(2 * base, rel=1e-5)  # class_weight applied

    model = _tiny_model()
    epochs_seen = []
    callback = fkeras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: epochs_seen.append(e))
    sequence = _Batches(x, y, 4)
    history = model.fit_generator(
        sequence, steps_per_epoch=4, epochs=3, verbose=0, callbacks=[callback],
        validation_data=validation(), validation_steps=1, class_weight={0: 1.0, 1: 1.0, 2: 1.0},
        max_queue_size=3, workers=2, use_multiprocessing=False, shuffle=True, initial_epoch=1,
    )
    assert history.epoch == epochs_seen == [1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert sorted(sequence.seen) == sorted(list(range(4)) * 2)  # each batch once per epoch
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(val_x[:4], val_y[:4], verbose=0)[0], rel=1e-5
    )

    score = model.evaluate_generator(_Batches(x, y, 4), steps=3, max_queue_size=3, workers=2,
                                     use_multiprocessing=False)
    assert len(score) == len(model.metrics_names) == 2
    want = model.evaluate(x[:12], y[:12], batch_size=4, verbose=0)
    np.testing.assert_allclose(score, want, rtol=1e-5)
    preds = model.predict_generator(_Batches(x, y, 4), steps=3, max_queue_size=3, workers=2,
                                    use_multiprocessing=False, verbose=0)
    np.testing.assert_allclose(preds, model.predict(x[:12], verbose=0), rtol=1e-6)


def test_get_layer_every_documented_keyword():
    ns = run(IMPORT_KERAS, S003_148, MODEL_LISTS_003, S003_159, name="<seed 003>")
    model = ns["model"]
    dense = model.layers[-1]
    assert model.get_layer(name=dense.name, index=None) is dense
    assert model.get_layer(name=None, index=len(model.layers) - 1) is dense
    assert model.get_layer(dense.name) is dense  # positional: name
    # the index follows the graph from the inputs up: the two InputLayers come first
    assert [type(model.get_layer(index=i)).__name__ for i in range(2)] == ["InputLayer"] * 2
    with pytest.raises(ValueError, match="No such layer: nonexistent"):
        model.get_layer(name="nonexistent")


# ---- the audit table above, checked against the seed files ------------------------------------

_SEED_DIRS = [
    os.environ.get("FKERAS_SEEDS", ""),
    pathlib.Path(__file__).resolve().parents[1] / "shared" / "seeds",
    pathlib.Path(__file__).resolve().parents[2] / "shared" / "seeds",
]
_ROW = re.compile(r"^(\d{3}):(\d+)\s+(covered|here|xfail|output)\s+(\S+)\s+(-|=\d{3}:\d+)\s+(.+)$")


def _seed_files() -> dict[str, pathlib.Path]:
    for folder in _SEED_DIRS:
        if folder and pathlib.Path(folder).is_dir():
            files = {p.name[:3]: p for p in pathlib.Path(folder).glob("[0-9][0-9][0-9]_*.txt")}
            if files:
                return files
    return {}


def _seed_blocks(path: pathlib.Path) -> dict[int, tuple[str, str]]:
    """line -> (first line, code) for each fenced block, and each `In [n]:` notebook cell."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, start = {}, None
    for number, line in enumerate(lines, 1):
        if line.strip().startswith("```"):
            if start is None:
                start = number
            else:
                body = lines[start:number - 1]
                first = next((b.strip() for b in body if b.strip()), "")
                blocks[start] = (first, "\n".join(body))
                start = None
        elif start is None and re.match(r"In \[\d+\]:", line):
            blocks[number] = (line.strip(), "")
    return blocks


def _code_only(code: str) -> str:
    return re.sub(r"\s+", "", "\n".join(re.sub(r"#.*$", "", line) for line in code.splitlines()))


def _audit_rows() -> list[tuple]:
    rows = [_ROW.match(line.strip()) for line in __doc__.splitlines()]
    return [(m.group(1), int(m.group(2)), *m.groups()[2:]) for m in rows if m]


def test_audit_table_matches_the_seeds():
    files = _seed_files()
    if not files:
        pytest.skip("seed files not found (set FKERAS_SEEDS to their folder)")
    rows = _audit_rows()
    seeds = {seed: _seed_blocks(path) for seed, path in files.items()}
    assert sorted((s, line) for s, line, *_ in rows) == sorted(
        (s, line) for s, blocks in seeds.items() for line in blocks
    )
    tests_dir = pathlib.Path(__file__).resolve().parent
    defined = {}
    for seed, line, verdict, tests, same, first in rows:
        assert seeds[seed][line][0] == first, (seed, line)
        for ref in tests.split(","):
            module, _, function = ref.rpartition("::")
            module = module or pathlib.Path(__file__).stem
            assert (verdict == "covered") == (module != pathlib.Path(__file__).stem), ref
            if module not in defined:
                tree = ast.parse((tests_dir / f"{module}.py").read_text(encoding="utf-8"))
                defined[module] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert function in defined[module], ref
        if same != "-":
            other_seed, other_line = same[1:].split(":")
            other = _code_only(seeds[other_seed][int(other_line)][1])
            assert _code_only(seeds[seed][line][1]) in other, (seed, line, same)
