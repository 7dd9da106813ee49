"""Hide fkeras's own frames from the tracebacks of errors raised at the user's call.

A user who passes a wrong shape to `fit` should see their own line and fkeras's message, not
thirty frames of the engine. `FKERAS_TRACEBACK_FILTERING=0` (or
`fkeras.utils.disable_traceback_filtering()`) shows everything again.
"""

import functools
import os
import types

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_enabled = os.environ.get("FKERAS_TRACEBACK_FILTERING", "1") not in ("0", "false", "False")
_active = False  # only the outermost decorated call filters


def enable_traceback_filtering() -> None:
    global _enabled
    _enabled = True


def disable_traceback_filtering() -> None:
    global _enabled
    _enabled = False


def is_traceback_filtering_enabled() -> bool:
    return _enabled


def _filtered(tb):
    frames = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            frames.append(tb)
        tb = tb.tb_next
    new = None
    for t in reversed(frames):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return new


def filter_traceback(fn):
    """Decorator for public entry points: re-raise errors without fkeras-internal frames."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        global _active
        if not _enabled or _active:
            return fn(*args, **kwargs)
        _active = True
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            raise err.with_traceback(_filtered(err.__traceback__)) from err.__cause__
        finally:
            _active = False

    return wrapper
