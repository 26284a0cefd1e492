#!/usr/bin/env python3
"""Writes the licence notices of the Debian package (scripts/deb.sh).

    scripts/deb-licenses.py COPYRIGHT THIRD_PARTY

COPYRIGHT: the package's copyright file, listing every library (Rust crate) built into
/usr/bin/sms with its licence. THIRD_PARTY: those libraries' own licence and notice files, one
after the other. The libraries are the normal dependencies of the `backend` crate for this
machine's platform, as `cargo metadata` resolves them from Cargo.lock.
"""
import json
import os
import subprocess
import sys
import time

NOTICE_PREFIXES = ("license", "licence", "copying", "notice", "unlicense")


def host_triple():
    out = subprocess.check_output(["rustc", "-vV"], text=True)
    for line in out.splitlines():
        if line.startswith("host: "):
            return line.split(": ", 1)[1]
    raise SystemExit("deb-licenses: rustc -vV names no host")


def libraries():
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--filter-platform", host_triple()], text=True))
    packages = {p["id"]: p for p in meta["packages"]}
    members = set(meta["workspace_members"])
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "backend" and p["id"] in members)
    seen, todo = set(), [root]
    while todo:
        node = nodes[todo.pop()]
        for dep in node["deps"]:
            normal = any(kind["kind"] is None for kind in dep["dep_kinds"])
            if normal and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    found = [packages[i] for i in seen if i not in members]
    return sorted(found, key=lambda p: (p["name"], p["version"]))


def year():
    """The year of the last commit (the package is the same for the same commit)."""
    try:
        stamp = subprocess.check_output(["git", "log", "-1", "--format=%cd", "--date=format:%Y"],
                                        text=True).strip()
        if stamp:
            return stamp
    except (OSError, subprocess.CalledProcessError):
        pass
    return time.strftime("%Y")


def notice_files(package):
    folder = os.path.dirname(package["manifest_path"])
    names = sorted(n for n in os.listdir(folder) if n.lower().startswith(NOTICE_PREFIXES))
    return [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    copyright_path, third_party_path = sys.argv[1:]
    libs = libraries()
    with open(copyright_path, "w", encoding="utf-8") as out:
        out.write(
            "SMS server\n"
            f"Copyright (C) {year()} the SMS patch management team. All rights reserved; use as\n"
            "your licence agreement for the product says.\n\n"
            f"/usr/bin/sms contains these {len(libs)} libraries (Rust crates), each under its own\n"
            "licence. Their licence and notice files, as their authors ship them, are in\n"
            "/usr/share/doc/sms/third-party-licenses.txt.gz. The licences common on Debian are\n"
            "also in /usr/share/common-licenses/ (the Apache License 2.0 in\n"
            "/usr/share/common-licenses/Apache-2.0, the Mozilla Public License 2.0 in\n"
            "/usr/share/common-licenses/MPL-2.0).\n\n")
        for lib in libs:
            out.write(f" {lib['name']} {lib['version']}: {lib.get('license') or 'see its files'}\n")
    with open(third_party_path, "w", encoding="utf-8") as out:
        for lib in libs:
            out.write("=" * 78 + "\n")
            out.write(f"{lib['name']} {lib['version']} ({lib.get('license') or 'see below'})\n")
            if lib.get("repository"):
                out.write(f"{lib['repository']}\n")
            files = notice_files(lib)
            if not files:
                out.write("\n(The crate ships no licence file; its licence is named above.)\n")
            for path in files:
                out.write(f"\n--- {os.path.basename(path)}\n\n")
                with open(path, encoding="utf-8", errors="replace") as text:
                    out.write(text.read().rstrip() + "\n")
            out.write("\n")


if __name__ == "__main__":
    main()
