"""What a crash of phoenix-ops looks like: one line and exit code 3, the traceback only on request.

Exit code 1 means findings and 2 a usage error; a CI gate must tell a broken tool from a failed
audit, and a traceback could quote what the tool was reading, so by default the line names only
the exception's type and the file in hand.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from phoenix_ops import __version__
from phoenix_ops.reading import file_of

CRASH_EXIT = 3
DEBUG_FLAG = "--debug"


def guarded(main: Callable[[], object]) -> None:
    """Run `main` (the command line) with `--debug` taken from sys.argv; contain what escapes it."""
    debug = DEBUG_FLAG in sys.argv[1:]
    if debug:
        sys.argv.remove(DEBUG_FLAG)
    try:
        main()
    except KeyboardInterrupt:
        sys.stderr.write("phoenix-ops: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - anything that escaped is a bug in phoenix-ops
        if debug:
            raise
        where = file_of(exc)
        sys.stderr.write(f"phoenix-ops: internal error ({type(exc).__name__})"
                         f"{f' while reading {where}' if where else ''}; please report it with the output "
                         f"of the same command run with {DEBUG_FLAG} (phoenix-ops {__version__})\n")
        sys.exit(CRASH_EXIT)
