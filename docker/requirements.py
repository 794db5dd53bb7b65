"""Print pip requirements taken from pyproject.toml, so that images install dependencies from it alone.

    python requirements.py pyproject.toml                  # every runtime dependency
    python requirements.py pyproject.toml uvicorn          # only the named ones (runtime or extras)

Why: the dependency layer of every image must depend on pyproject.toml only, not on the code (a code
change then rebuilds in seconds), and the pins must have one source. Names are matched against the
runtime dependencies first, then the optional ones (the init image takes awscli/boto3 from `test`).
"""

from __future__ import annotations

import re
import sys
import tomllib


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def requirements(project: dict, names: list[str]) -> list[str]:
    runtime = list(project.get("dependencies", []))
    if not names:
        return runtime
    extras = [req for group in project.get("optional-dependencies", {}).values() for req in group]
    found: dict[str, str] = {}
    for req in runtime + extras:
        found.setdefault(_name(req), req)
    missing = [name for name in names if name.lower() not in found]
    if missing:
        raise SystemExit(f"not in pyproject.toml: {', '.join(missing)}")
    return [found[name.lower()] for name in names]


def main(argv: list[str]) -> int:
    with open(argv[1], "rb") as f:
        project = tomllib.load(f)["project"]
    print("\n".join(requirements(project, argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
