#!/usr/bin/env python3
"""CycloneDX 1.5 SBOM (JSON) of one workspace crate: every crate compiled
into it, with version, licence, package URL and the SHA-256 Cargo.lock
records, and the dependency graph.

    python3 scripts/sbom.py --package ferrisk-wasm --target wasm32-unknown-unknown --out www/pkg/sbom.cdx.json
    python3 scripts/sbom.py --package ferrisk-python --out python/ferrisk/sbom.cdx.json

The crates and edges are `cargo tree -p PACKAGE -e normal --target TARGET`'s
(what a build of that package alone compiles for that target: build and
dev dependencies do not ship), the details (licence, repository) from
`cargo metadata`, the checksums from Cargo.lock. Proc-macro crates, and crates only they
use, run at compile time: they are listed with scope "excluded" (they
shape the code but are not in the artefact); the crates linked in have
scope "required". Python standard library only,
no network: nothing to install. The output is byte-reproducible: no
timestamp, and a serial number derived from its content.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid

try:
    import tomllib
except ImportError:  # Python < 3.11: no checksums, the rest works
    tomllib = None

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def host_target() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("host: "):
            return line[len("host: "):].strip()
    raise SystemExit("rustc -vV printed no host")


def metadata(target: str) -> dict:
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"cargo metadata failed:\n{out.stderr}")
    return json.loads(out.stdout)


def checksums(workspace_root: str) -> dict:
    if tomllib is None:
        return {}
    with open(os.path.join(workspace_root, "Cargo.lock"), "rb") as f:
        lock = tomllib.load(f)
    return {
        (p["name"], p["version"]): p["checksum"]
        for p in lock.get("package", [])
        if "checksum" in p
    }


def purl(pkg: dict) -> str:
    return f"pkg:cargo/{pkg['name']}@{pkg['version']}"


def component(pkg: dict, sums: dict, root: bool = False, build_time: bool = False) -> dict:
    c = {
        "type": "application" if root else "library",
        "bom-ref": purl(pkg),
        "name": pkg["name"],
        "version": pkg["version"],
        "purl": purl(pkg),
    }
    if not root:
        c["scope"] = "excluded" if build_time else "required"
    if pkg.get("description"):
        c["description"] = " ".join(pkg["description"].split())
    if pkg.get("license"):
        # Old crates write "MIT/Apache-2.0": the SPDX form is "MIT OR Apache-2.0".
        expr = " OR ".join(part.strip() for part in pkg["license"].split("/"))
        c["licenses"] = [{"expression": expr}]
    elif pkg.get("license_file"):
        c["licenses"] = [{"license": {"name": "LicenseRef-file: "
                                       + os.path.basename(pkg["license_file"])}}]
    else:
        c["licenses"] = [{"license": {"name": "NOASSERTION"}}]
    checksum = sums.get((pkg["name"], pkg["version"]))
    if checksum:
        c["hashes"] = [{"alg": "SHA-256", "content": checksum}]
    refs = []
    if pkg.get("repository"):
        refs.append({"type": "vcs", "url": pkg["repository"]})
    if pkg.get("source") == CRATES_IO:
        refs.append({"type": "distribution",
                     "url": f"https://crates.io/crates/{pkg['name']}/{pkg['version']}"})
    if refs:
        c["externalReferences"] = refs
    return c


def tree(package: str, target: str) -> list:
    """(depth, name, version, proc_macro) per line of `cargo tree`: the
    crates a build of `package` alone compiles, with its own feature
    resolution (cargo metadata's graph unifies the workspace's features
    and would list crates this package does not build)."""
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-p", package, "-e", "normal", "--target", target,
         "--prefix", "depth", "--no-dedupe", "-f", "{p}"],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"cargo tree failed:\n{out.stderr}")
    lines = []
    for line in out.stdout.splitlines():
        m = re.match(r"(\d+)(\S+) v(\S+)(.*)$", line)
        if m:
            lines.append((int(m.group(1)), m.group(2), m.group(3), "(proc-macro)" in m.group(4)))
    return lines


def sbom(package: str, target: str) -> dict:
    meta = metadata(target)
    by_key = {(p["name"], p["version"]): p for p in meta["packages"]}
    lines = tree(package, target)
    if not lines or lines[0][1] != package:
        raise SystemExit(f"{package} is not a package of this workspace")
    root = by_key[(lines[0][1], lines[0][2])]
    edges, linked, proc = {}, set(), set()
    stack = []  # (key, reaches the root without a proc macro), by depth
    for depth, name, version, is_proc in lines:
        key = (name, version)
        if key not in by_key:
            raise SystemExit(f"cargo tree lists {name} {version}, cargo metadata does not")
        del stack[depth:]
        if stack:
            parent, parent_linked = stack[-1]
            edges.setdefault(parent, set()).add(key)
        else:
            parent_linked = True
        if is_proc:
            proc.add(key)
        here_linked = parent_linked and not is_proc
        if here_linked and depth > 0:
            linked.add(key)
        edges.setdefault(key, set())
        stack.append((key, here_linked))
    # Proc macros run at compile time: they and what only they use have
    # scope "excluded" (they shape the code but are not in the artefact);
    # the crates linked in have scope "required".
    rkey = (root["name"], root["version"])
    sums = checksums(meta["workspace_root"])
    crates = sorted(k for k in edges if k != rkey)
    deps = [
        {"ref": purl(by_key[k]), "dependsOn": sorted(purl(by_key[d]) for d in edges[k])}
        for k in [rkey] + crates
    ]
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "ferrisk scripts/sbom.py"}]},
            "component": component(root, sums, root=True),
            "properties": [{"name": "cargo:target", "value": target}],
        },
        "components": [component(by_key[k], sums, build_time=k not in linked) for k in crates],
        "dependencies": deps,
    }
    body = json.dumps(doc, sort_keys=True).encode()
    doc["serialNumber"] = "urn:uuid:" + str(uuid.UUID(bytes=hashlib.sha256(body).digest()[:16],
                                                       version=5))
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", required=True, help="workspace package, e.g. ferrisk-wasm")
    ap.add_argument("--target", default=None, help="target triple (default: the host's)")
    ap.add_argument("--out", required=True, help="output file, - for stdout")
    a = ap.parse_args()
    doc = sbom(a.package, a.target or host_target())
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if a.out == "-":
        sys.stdout.write(text)
        return
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, a.out)
    print(f"sbom: {a.out}: {doc['metadata']['component']['name']} "
          f"{doc['metadata']['component']['version']}, {len(doc['components'])} crates",
          file=sys.stderr)


if __name__ == "__main__":
    main()
