#!/usr/bin/env python3
"""Builds a TUF repository with python-tuf's metadata API (`tuf.api.metadata`), the reference
implementation of The Update Framework: the interop test of the TMC feed (format 2,
docs/tmc-protocol.md) from the repository's side, for an SMS (`tough`) to read.

The repository uses consistent snapshots and new ed25519 keys (securesystemslib's
CryptoSigner): root 3 keys threshold 2, targets, snapshot and timestamp one key each (or, with
--targets-key, a key file of this product as the targets key, so that packages signed with it
verify at an SMS that trusts this repository). Each --target file becomes the target named by
its base name; the --catalog file becomes the target `catalog.json`. It writes

    OUT/metadata/1.root.json        (and 2.root.json with --rotate-root)
    OUT/metadata/1.targets.json
    OUT/metadata/1.snapshot.json
    OUT/metadata/timestamp.json
    OUT/targets/<sha256>.<name>     (a copy of each target)

for a static web server, and prints one JSON line: the root versions written, the targets
role's key ids, and each target's name, length and sha256. With --rotate-root, 2.root.json
names three new root keys (threshold 2) and is signed by two of the old root keys and by the
new ones: a client that trusts 1.root.json has to follow the rotation.

    target/test-venv/bin/python backend/tests/interop/tuf_repo.py --out OUT \
        --catalog catalog.json --target sms-6.4.0.3.pkg --rotate-root
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

CATALOG_TARGET = "catalog.json"

# How long each role stays valid (as `sms tuf` signs them).
EXPIRY = {
    Root.type: timedelta(days=365),
    Targets.type: timedelta(days=90),
    Snapshot.type: timedelta(days=7),
    Timestamp.type: timedelta(days=1),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="the repository's folder")
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        type=Path,
        help="a file to list as the target of its base name (repeatable)",
    )
    parser.add_argument(
        "--catalog", type=Path, help=f"a file to list as the target `{CATALOG_TARGET}`"
    )
    parser.add_argument(
        "--rotate-root",
        action="store_true",
        help="also write 2.root.json: new root keys, signed by the old and the new ones",
    )
    parser.add_argument(
        "--targets-key",
        type=Path,
        help="a key file of this product (PREFIX.key, ed25519) to sign the targets role with",
    )
    return parser.parse_args(argv)


def expires(role: str) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) + EXPIRY[role]


def product_key(path: Path) -> CryptoSigner:
    """A key file of this product ({"key_id", "algorithm": "ed25519", "private_key": base64
    of the 32-byte seed}) as a signer; its key id must be the TUF key id python-tuf computes."""
    document = json.loads(path.read_text())
    if document.get("algorithm") != "ed25519" or "private_key" not in document:
        raise ValueError(f"{path}: not an ed25519 private key file (PREFIX.key)")
    seed = base64.b64decode(document["private_key"])
    signer = CryptoSigner(Ed25519PrivateKey.from_private_bytes(seed))
    if document.get("key_id") != signer.public_key.keyid:
        raise ValueError(
            f"{path}: its key_id {document.get('key_id')} is not the TUF key id "
            f"{signer.public_key.keyid} python-tuf computes for it"
        )
    return signer


def sign(metadata: Metadata, signers: list[Signer]) -> bytes:
    for signer in signers:
        metadata.sign(signer, append=True)
    return metadata.to_bytes(JSONSerializer(compact=False))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build(args: argparse.Namespace) -> dict:
    files: list[tuple[str, Path]] = [(path.name, path) for path in args.target]
    if args.catalog is not None:
        files.insert(0, (CATALOG_TARGET, args.catalog))
    names = [name for name, _ in files]
    if len(set(names)) != len(names):
        raise ValueError(f"two targets have the same name: {names}")

    root_keys = [CryptoSigner.generate_ed25519() for _ in range(3)]
    targets_key = (
        product_key(args.targets_key) if args.targets_key else CryptoSigner.generate_ed25519()
    )
    snapshot_key = CryptoSigner.generate_ed25519()
    timestamp_key = CryptoSigner.generate_ed25519()

    metadata_dir = args.out / "metadata"
    targets_dir = args.out / "targets"
    metadata_dir.mkdir(parents=True, exist_ok=True)
    targets_dir.mkdir(parents=True, exist_ok=True)

    root = Root(expires=expires(Root.type), consistent_snapshot=True)
    for key in root_keys:
        root.add_key(key.public_key, Root.type)
    root.roles[Root.type].threshold = 2
    root.add_key(targets_key.public_key, Targets.type)
    root.add_key(snapshot_key.public_key, Snapshot.type)
    root.add_key(timestamp_key.public_key, Timestamp.type)
    written = {1: sign(Metadata(root), root_keys)}

    if args.rotate_root:
        new_root_keys = [CryptoSigner.generate_ed25519() for _ in range(3)]
        rotated = copy.deepcopy(root)
        rotated.version = 2
        rotated.expires = expires(Root.type)
        for key in root_keys:
            rotated.revoke_key(key.public_key.keyid, Root.type)
        for key in new_root_keys:
            rotated.add_key(key.public_key, Root.type)
        rotated.roles[Root.type].threshold = 2
        # The old root's threshold (two of its keys) and the new one's.
        written[2] = sign(Metadata(rotated), root_keys[:2] + new_root_keys)

    targets = Targets(version=1, expires=expires(Targets.type))
    listed = []
    for name, path in files:
        target = TargetFile.from_file(name, str(path), ["sha256"])
        targets.targets[name] = target
        sha256 = target.hashes["sha256"]
        shutil.copyfile(path, targets_dir / f"{sha256}.{name}")
        listed.append({"name": name, "length": target.length, "sha256": sha256})
    targets_bytes = sign(Metadata(targets), [targets_key])

    snapshot = Snapshot(version=1, expires=expires(Snapshot.type))
    snapshot.meta[f"{Targets.type}.json"] = MetaFile(
        version=1,
        length=len(targets_bytes),
        hashes={"sha256": hashlib.sha256(targets_bytes).hexdigest()},
    )
    snapshot_bytes = sign(Metadata(snapshot), [snapshot_key])

    timestamp = Timestamp(
        version=1,
        expires=expires(Timestamp.type),
        snapshot_meta=MetaFile(
            version=1,
            length=len(snapshot_bytes),
            hashes={"sha256": hashlib.sha256(snapshot_bytes).hexdigest()},
        ),
    )
    timestamp_bytes = sign(Metadata(timestamp), [timestamp_key])

    for version, data in written.items():
        (metadata_dir / f"{version}.{Root.type}.json").write_bytes(data)
    (metadata_dir / f"1.{Targets.type}.json").write_bytes(targets_bytes)
    (metadata_dir / f"1.{Snapshot.type}.json").write_bytes(snapshot_bytes)
    (metadata_dir / f"{Timestamp.type}.json").write_bytes(timestamp_bytes)

    return {
        "root_versions": sorted(written),
        "trusted_root": str(metadata_dir / f"1.{Root.type}.json"),
        "targets_keys": [targets_key.public_key.keyid],
        "targets": listed,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        result = build(args)
    except Exception as err:  # noqa: BLE001 - every failure is the answer, on stderr
        print(f"tuf_repo: {type(err).__module__}.{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
