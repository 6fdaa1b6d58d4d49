"""Command line: ``python -m vdrbone <command> [options]``.

Commands are thin: each hands its remaining arguments to a ``main(argv)`` in the module
that does the work, so that module owns its own argparse options and help text.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "simulate": ("vdrbone.simulate", "write a synthetic cohort (VCF.gz + index, phenotypes, truth)"),
    "verify": ("vdrbone.provenance", "check a run archive against its manifest"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        lines = [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
        print("usage: python -m vdrbone <command> [options]\n\ncommands:\n" + "\n".join(lines))
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
