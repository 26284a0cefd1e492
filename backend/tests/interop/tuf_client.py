#!/usr/bin/env python3
"""Reads a TUF repository with python-tuf's client (`tuf.ngclient.Updater`), the reference
implementation of The Update Framework: the interop test of the TMC feed (format 2,
docs/tmc-protocol.md) from the client's side.

Starting from --trusted-root, it refreshes the top-level metadata (following every root
rotation, then timestamp, snapshot and targets, with all the checks of the specification's
client workflow) and downloads --target, checking its length and hashes against the targets
metadata. It prints one JSON line:

    {"root_version": 2, "timestamp_version": 1765...,
     "targets": ["catalog.json", "sms-6.4.0.3.pkg"],
     "download": {"target": "catalog.json", "path": "OUT/catalog.json",
                  "length": 1234, "sha256": "..."}}

and exits 0; on any failure it prints the error (its python-tuf class and words) on stderr and
exits 1.

Run it with the test tools' Python (`scripts/setup.sh --test-tools` installs python-tuf into
target/test-venv):

    target/test-venv/bin/python backend/tests/interop/tuf_client.py \
        --metadata-url http://127.0.0.1:PORT/v2/metadata/ \
        --targets-url http://127.0.0.1:PORT/v2/targets/ \
        --trusted-root KEYS/1.root.json --target catalog.json --out DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tuf.api.metadata import Metadata, Root, Targets, Timestamp
from tuf.ngclient import Updater


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata-url", required=True, help="base URL of the metadata")
    parser.add_argument("--targets-url", required=True, help="base URL of the targets")
    parser.add_argument(
        "--trusted-root", required=True, type=Path, help="the root metadata trusted first"
    )
    parser.add_argument("--target", required=True, help="the target to download")
    parser.add_argument(
        "--out", required=True, type=Path, help="the folder the target is downloaded into"
    )
    return parser.parse_args(argv)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run(args: argparse.Namespace) -> dict:
    trusted = args.trusted_root.read_bytes()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tuf-client-") as metadata_dir:
        # The trust anchor, as a client ships it. python-tuf 7 also wants it as `bootstrap`
        # (keyword-only and required; None would mean "trust whatever root.json the folder
        # has"): the same bytes.
        shutil.copyfile(args.trusted_root, Path(metadata_dir, "root.json"))
        updater = Updater(
            metadata_dir=metadata_dir,
            metadata_base_url=args.metadata_url,
            target_dir=str(args.out),
            target_base_url=args.targets_url,
            bootstrap=trusted,
        )
        updater.refresh()
        info = updater.get_targetinfo(args.target)
        if info is None:
            raise LookupError(f"the targets metadata lists no target {args.target!r}")
        path = Path(updater.download_target(info, filepath=str(args.out / Path(args.target).name)))

        # What the updater trusts now, as it keeps it: root.json links to the newest verified
        # root version, the other roles are the versions it accepted.
        def trusted_role(name: str, kind: type) -> Metadata:
            return Metadata[kind].from_bytes(Path(metadata_dir, f"{name}.json").read_bytes())

        root = trusted_role("root", Root)
        timestamp = trusted_role("timestamp", Timestamp)
        targets = trusted_role("targets", Targets)
        length = path.stat().st_size
        sha256 = sha256_of(path)
        if length != info.length or info.hashes.get("sha256", sha256) != sha256:
            raise AssertionError(f"{path} is not what the targets metadata says")
        return {
            "root_version": root.signed.version,
            "timestamp_version": timestamp.signed.version,
            "snapshot_version": timestamp.signed.snapshot_meta.version,
            "targets_version": targets.signed.version,
            "consistent_snapshot": root.signed.consistent_snapshot,
            "targets": sorted(targets.signed.targets),
            "download": {
                "target": args.target,
                "path": str(path),
                "length": length,
                "sha256": sha256,
            },
        }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except Exception as err:  # noqa: BLE001 - every failure is the answer, on stderr
        print(f"tuf_client: {type(err).__module__}.{type(err).__name__}: {err}", file=sys.stderr)
        cause = err.__cause__ or err.__context__
        while cause is not None:
            print(f"  caused by {type(cause).__name__}: {cause}", file=sys.stderr)
            cause = cause.__cause__ or cause.__context__
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
