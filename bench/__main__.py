"""`python -m bench <name> [options]`: run one benchmark and print its result as JSON.

Every module `bench/<name>.py` with a `main(argv) -> int | None` is a benchmark; this file knows none
of them by name, so adding one is adding a file. `python -m bench` lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """Benchmarks: public modules of this package (helpers start with an underscore)."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = available()
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m bench <name> [options]   (python -m bench <name> --help for its options)")
        print("benchmarks: " + ", ".join(names))
        return 0 if argv else 2
    name = argv[0].replace("-", "_")
    if name not in names:
        print(f"unknown benchmark {argv[0]!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{name}")
    if not hasattr(module, "main"):
        print(f"bench/{name}.py has no main(argv)", file=sys.stderr)
        return 2
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
