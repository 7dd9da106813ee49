"""Process-wide settings read by the backend, losses and layers (Keras's `keras.config`)."""

_EPSILON = 1e-7
_FLOATX = "float32"
_IMAGE_DATA_FORMAT = "channels_last"


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (Keras default: 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    """The default float type, as a string (Keras default: 'float32')."""
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            "Unknown `floatx` value. Expected one of 'float16', 'bfloat16', 'float32', "
            f"'float64'. Received: value={value!r}"
        )
    _FLOATX = str(value)


def image_data_format() -> str:
    """The default image data format convention ('channels_last' or 'channels_first')."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    global _IMAGE_DATA_FORMAT
    if not isinstance(data_format, str) or data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = str(data_format)


def standardize_data_format(data_format: str | None) -> str:
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return value
