"""`python -m fkeras.run script.py [args...]`: run a Keras script unchanged on fkeras."""

import runpy
import sys

from fkeras.compat import as_keras


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        raise SystemExit("usage: python -m fkeras.run script.py [args...]")
    sys.argv = argv
    with as_keras():
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
