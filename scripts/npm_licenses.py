#!/usr/bin/env python3
"""Licence and source check of npm dependencies, from lock files and
package manifests (no install, no network).

    python3 scripts/npm_licenses.py tools/package-lock.json [www/pkg/package.json ...]

For a package-lock.json (lockfileVersion 2 or 3): every installed package
must declare an allowed licence (an SPDX expression with at least one OR
branch made of ALLOWED licences only), carry an integrity hash, and come
from the npm registry (no git, file, link or other-host `resolved`). For a
package.json (a package we publish): it must declare an allowed licence and
its runtime `dependencies` must be listed in a lock file given alongside
(a published package with unlocked dependencies fails). Prints one line
per package and exits 1 on any failure.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Dict, List, Tuple

# Permissive licences: the same spirit as deny.toml's list for crates.
ALLOWED = {
    "MIT", "Apache-2.0", "ISC", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "Zlib",
    "Unicode-3.0", "CC0-1.0", "BlueOak-1.0.0", "Python-2.0",
}
REGISTRY = "https://registry.npmjs.org/"


def allowed(expr: str) -> bool:
    """An SPDX expression is allowed when some OR branch has every AND term
    allowed (parentheses are flattened: enough for npm's simple forms)."""
    if not expr:
        return False
    flat = re.sub(r"[()]", " ", expr)
    for branch in re.split(r"\s+OR\s+", flat.strip()):
        terms = [t.strip() for t in re.split(r"\s+AND\s+", branch) if t.strip()]
        if terms and all(t in ALLOWED for t in terms):
            return True
    return False


def check_lock(path: str) -> Tuple[List[str], Dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        lock = json.load(f)
    problems, versions = [], {}
    if lock.get("lockfileVersion", 1) < 2:
        return [f"{path}: lockfileVersion {lock.get('lockfileVersion')} has no per-package licences"], {}
    for key, p in sorted(lock.get("packages", {}).items()):
        if key == "":
            continue  # the project itself
        name = key.split("node_modules/")[-1]
        versions[name] = p.get("version", "?")
        where = f"{path}: {name}@{p.get('version')}"
        before = len(problems)
        lic = p.get("license")
        if isinstance(lic, dict):
            lic = lic.get("type")
        if not allowed(lic or ""):
            problems.append(f"{where}: licence {lic!r} is not allowed")
        if p.get("link"):
            problems.append(f"{where}: a linked (local) package")
        resolved = p.get("resolved")
        if resolved and not resolved.startswith(REGISTRY):
            problems.append(f"{where}: from {resolved}, not the npm registry")
        if not p.get("integrity"):
            problems.append(f"{where}: no integrity hash")
        print(f"npm {name}@{p.get('version')} {lic} {'ok' if len(problems) == before else 'FAILED'}")
    return problems, versions


def check_manifest(path: str, locked: Dict[str, str]) -> List[str]:
    with open(path, encoding="utf-8") as f:
        pkg = json.load(f)
    problems = []
    lic = pkg.get("license")
    if not allowed(lic or ""):
        problems.append(f"{path}: the package's licence {lic!r} is not allowed")
    for dep in sorted(pkg.get("dependencies", {})):
        if dep not in locked:
            problems.append(f"{path}: runtime dependency {dep} is in no lock file given")
    print(f"npm package {pkg.get('name')}@{pkg.get('version')} {lic}, "
          f"{len(pkg.get('dependencies', {}))} runtime dependencies")
    return problems


def main(paths: List[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    problems, locked = [], {}
    for p in paths:
        if not os.path.exists(p):
            problems.append(f"{p}: missing")
        elif os.path.basename(p) == "package-lock.json":
            found, versions = check_lock(p)
            problems += found
            locked.update(versions)
    for p in paths:
        if os.path.exists(p) and os.path.basename(p) == "package.json":
            problems += check_manifest(p, locked)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    print(f"npm licences and sources: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
