"""The SBOMs of scripts/sbom.py against `cargo tree`, and the one the wheel
ships.

    python python/tests/test_sbom.py

For the Python crate (host target) and the wasm crate (wasm32): the SBOM
must have CycloneDX 1.5's required shape and name exactly the crates
`cargo tree -e normal` prints for that crate and target (an independent
walk of the same lock file), each with its version and licence. The
installed wheel's `ferrisk.sbom()` must be the Python crate's SBOM, and
name no crate that maturin's own SBOM of the wheel (dist-info/sboms/) lacks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import ROOT, Suite  # noqa: E402


def host() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return re.search(r"^host: (\S+)", out, re.M).group(1)


def generate(package: str, target: str, out: str) -> dict:
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sbom.py"), "--package",
                    package, "--target", target, "--out", out], check=True, cwd=ROOT)
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def cargo_tree(package: str, target: str) -> set:
    """(name, version, licence) of every crate below `package`."""
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-p", package, "-e", "normal", "--target", target,
         "--prefix", "none", "-f", "{p}\t{l}"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    crates = set()
    for line in out.splitlines():
        if not line.strip():
            continue
        line = re.sub(r" \((\*|proc-macro)\)", "", line)
        spec, _, lic = line.partition("\t")
        name, version = spec.split()[:2]
        if name == package:
            continue
        lic = " OR ".join(p.strip() for p in lic.split("/")) if lic else ""
        crates.add((name, version.lstrip("v"), lic))
    return crates


def metadata_walk(package: str, target: str) -> set:
    """(name, version) of every crate reachable from `package` by normal
    edges in cargo metadata's graph (features unified over the workspace:
    an upper bound of what the package alone builds)."""
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked",
                          "--filter-platform", target], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    meta = json.loads(out)
    pkgs = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(i for i, p in pkgs.items() if p["name"] == package and p["source"] is None)
    seen, stack = set(), [root]
    while stack:
        for d in nodes[stack.pop()]["deps"]:
            if any(k["kind"] is None for k in d["dep_kinds"]) and d["pkg"] not in seen:
                seen.add(d["pkg"])
                stack.append(d["pkg"])
    return {(pkgs[i]["name"], pkgs[i]["version"]) for i in seen}


def check_shape(doc: dict, package: str) -> None:
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5", doc.get("specVersion")
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                        r"[0-9a-f]{12}", doc["serialNumber"]), doc["serialNumber"]
    assert doc["metadata"]["component"]["name"] == package
    refs = {c["bom-ref"] for c in doc["components"]} | {doc["metadata"]["component"]["bom-ref"]}
    for c in doc["components"]:
        assert c["type"] == "library" and c["scope"] in ("required", "excluded"), c
        assert c["purl"] == f"pkg:cargo/{c['name']}@{c['version']}", c["purl"]
        assert c["licenses"] and ("expression" in c["licenses"][0]
                                  or "license" in c["licenses"][0]), c["name"]
        from_crates_io = any(r["type"] == "distribution"
                             for r in c.get("externalReferences", []))
        # Crates from crates.io carry Cargo.lock's SHA-256; the workspace's own do not.
        assert from_crates_io == (c["name"] not in ("ferrisk",)), c["name"]
        if from_crates_io:
            assert len(c["hashes"][0]["content"]) == 64, c["name"]
    assert len(refs) == len(doc["components"]) + 1, "duplicate bom-refs"
    for d in doc["dependencies"]:
        assert d["ref"] in refs, d["ref"]
        assert set(d["dependsOn"]) <= refs, d["ref"]


def components(doc: dict) -> set:
    return {
        (c["name"], c["version"], c["licenses"][0].get("expression", ""))
        for c in doc["components"]
    }


def main() -> None:
    suite = Suite()
    tmp = tempfile.mkdtemp(prefix="ferrisk-sbom-")
    cases = [("ferrisk-python", host()), ("ferrisk-wasm", "wasm32-unknown-unknown")]
    docs = {}

    for package, target in cases:
        def same_as_cargo_tree(package=package, target=target) -> None:
            doc = generate(package, target, os.path.join(tmp, f"{package}.cdx.json"))
            docs[package] = doc
            check_shape(doc, package)
            want = cargo_tree(package, target)
            got = components(doc)
            assert got == want, (f"only in the SBOM: {sorted(got - want)}; "
                                 f"only in cargo tree: {sorted(want - got)}")
            upper = metadata_walk(package, target)
            assert {(c[0], c[1]) for c in got} <= upper, "a crate outside cargo metadata's graph"
            names = {c[0] for c in got}
            assert "ferrisk" in names, "the runtime crate is not listed"
            linked = {c["name"] for c in doc["components"] if c["scope"] == "required"}
            assert "ferrisk" in linked and "serde_derive" not in linked, sorted(linked)
            # Reproducible: the same bytes twice.
            again = generate(package, target, os.path.join(tmp, f"{package}.again.json"))
            assert again == doc

        suite.check(f"SBOM of {package} ({target}) names cargo tree's crates",
                    same_as_cargo_tree)

    def wheel_sbom() -> None:
        import ferrisk

        shipped = ferrisk.sbom()
        check_shape(shipped, "ferrisk-python")
        assert components(shipped) == components(docs["ferrisk-python"])
        assert "pyo3" in {c["name"] for c in shipped["components"]}
        # maturin writes its own SBOM into the wheel's dist-info (PEP 770),
        # from cargo metadata: an independent upper bound of ours (it also
        # lists build-script dependencies and workspace-unified features).
        from importlib import metadata

        files = [f for f in metadata.distribution("ferrisk").files or []
                 if "sboms" in str(f) and str(f).endswith(".json")]
        assert files, "the wheel has no dist-info SBOM"
        with open(files[0].locate(), encoding="utf-8") as f:
            theirs = {(c["name"], c["version"]) for c in json.load(f)["components"]}
        ours = {(c["name"], c["version"]) for c in shipped["components"]}
        assert ours <= theirs, f"not in maturin's SBOM: {sorted(ours - theirs)}"

    try:
        import ferrisk  # noqa: F401
    except ImportError:
        print("(ferrisk is not installed here: the wheel's SBOM is checked by test-python.sh)")
    else:
        suite.check("the wheel ships the Python crate's SBOM", wheel_sbom)
    common.Suite.finish(suite)


if __name__ == "__main__":
    main()
