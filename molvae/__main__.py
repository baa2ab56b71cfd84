"""``python -m molvae`` (and ``torchrun -m molvae train ...``)."""

from molvae.cli import run

run()
