"""The ``molvae`` command line: one thin module per subcommand, all errors as clear messages.

``main(argv)`` runs a command in-process and returns its exit code (used by the tests); ``run()``
is the program (the console script and ``python -m molvae``).
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from molvae.errors import MolVAEError

try:  # typer >= 0.2x vendors click as ``typer._click`` and no longer installs click
    from typer._click.exceptions import ClickException
except ImportError:  # older typer runs on click itself
    from click import ClickException

app = typer.Typer(
    name="molvae",
    help="Molecular design in the latent space of a SELFIES VAE.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
) -> None:
    """Molecular design in the latent space of a SELFIES VAE."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)


def _register() -> None:
    from molvae.cli import (  # noqa: F401 - subcommands register on import
        analogs,
        arithmetic,
        encode,
        evaluate,
        interpolate,
        map,
        optimize,
        prepare,
        sample,
        train,
        walk,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting (0 ok, 1 molvae error, 2 usage)."""
    _register()
    try:
        rv = app(args=argv, standalone_mode=False)
    except MolVAEError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except ClickException as exc:
        exc.show()
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0  # non-standalone typer returns Exit codes (130...)


def tune_openmp(environ: dict[str, str] | None = None) -> None:
    """Set ``GOMP_SPINCOUNT=10000`` unless it is set: torch's OpenMP threads spin for a while after
    each operation before they sleep, and when the network runs beside SELFIES/RDKit worker
    processes the spinning threads take the workers' cores. A short spin gave 1.2x more molecules/s
    end to end on 2 cores, at no cost to training (README, "Performance"). libgomp reads it when
    torch is first imported, so this runs before any command imports torch.
    """
    (os.environ if environ is None else environ).setdefault("GOMP_SPINCOUNT", "10000")


def run() -> None:
    """Console-script entry point: the process is ours, so it may tune OpenMP."""
    tune_openmp()
    sys.exit(main())
