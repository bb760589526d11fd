"""`python -m phoenix_ops` and the `phoenix-ops` script: the command line, imported only when needed."""

import sys


def main() -> None:
    # `--version` alone needs no command line: answer before importing it and what it imports.
    if sys.argv[1:] == ["--version"]:
        from phoenix_ops import __version__
        sys.stdout.write(f"phoenix-ops {__version__}\n")
        return
    # What the imports below make lives as long as the process: collecting garbage while they run
    # finds none. The command line turns collection back on once they are done (cli.main).
    import gc

    gc.disable()
    from phoenix_ops.cli import run
    run()


if __name__ == "__main__":
    main()
