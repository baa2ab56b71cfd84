"""The ``molvae`` command line: one thin module per subcommand, all errors as clear messages.

``main(argv)`` runs a command in-process and returns its exit code (used by the tests).
"""

from __future__ import annotations

import logging
import sys

import click
import typer

from molvae.errors import MolVAEError

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
    from molvae.cli import evaluate, sample, train  # noqa: F401 - subcommands register on import


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting (0 ok, 1 molvae error, 2 usage)."""
    _register()
    try:
        app(args=argv, standalone_mode=False)
    except MolVAEError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
