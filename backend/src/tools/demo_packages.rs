//! The demo TMC's packages: SMS 6.4.0 Patches 1 to 5 with varied effects, and one patch for
//! another product version, signed with the demo vendor key.

use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::package::PackageSigner;
use crate::package::pack::pack;

struct DemoPatch {
    version: &'static str,
    patch: u32,
    build: u32,
    released: &'static str,
    title: &'static str,
    client: bool,
    reboot: bool,
    database_changes: bool,
    rollback: bool,
    notes: &'static str,
    /// Payload size in KiB (the demo keeps them small so that the first start is quick).
    payload_kib: usize,
}

const PATCHES: &[DemoPatch] = &[
    DemoPatch {
        version: "6.4.0",
        patch: 1,
        build: 9101,
        released: "2026-08-04",
        title: "Stability fixes for the event collector",
        client: false,
        reboot: false,
        database_changes: false,
        rollback: true,
        notes: "## Highlights\n\n\
            - The event collector no longer stalls when a device sends bursts of more than 50,000 \
              events per second.\n\
            - Scheduled reports finish on time when several run at midnight.\n\n\
            ## Fixed issues\n\n\
            | Issue | Description |\n| --- | --- |\n\
            | SMS-10422 | The event collector stopped accepting events after a burst. |\n\
            | SMS-10431 | A report scheduled at 00:00 started twice. |\n\n\
            ## Installation\n\n\
            The SMS server application restarts. Managed devices keep inspecting traffic.\n",
        payload_kib: 384,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 2,
        build: 9145,
        released: "2026-09-01",
        title: "New client: faster device list and filter search",
        client: true,
        reboot: false,
        database_changes: false,
        rollback: true,
        notes: "## Highlights\n\n\
            - **Client update**: the device list opens three times faster with 5,000 devices.\n\
            - Filter search matches on CVE numbers.\n\n\
            ## Fixed issues\n\n\
            - SMS-10502: the profile editor lost unsaved changes when the session expired.\n\
            - Everything in Patch 1.\n\n\
            ## Installation\n\n\
            Every SMS client is prompted to upgrade to client 6.4.0.2 when it next connects.\n",
        payload_kib: 640,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 3,
        build: 9203,
        released: "2026-10-06",
        title: "Security fixes (cannot be rolled back)",
        client: false,
        reboot: false,
        database_changes: false,
        rollback: false,
        notes: "## Security fixes\n\n\
            - **CVE-2026-21877** (high): an authenticated user could read another domain's \
              reports through a crafted export request.\n\
            - **CVE-2026-21893** (medium): session tokens were logged at debug level.\n\n\
            ## Important\n\n\
            This patch replaces the key store format and **cannot be rolled back**. Take a \
            backup first.\n\n\
            Includes Patches 1 and 2.\n",
        payload_kib: 512,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 4,
        build: 9260,
        released: "2026-11-03",
        title: "Database index rebuild for large event archives",
        client: false,
        reboot: false,
        database_changes: true,
        rollback: true,
        notes: "## Highlights\n\n\
            - Event queries over 90 days answer up to 10 times faster.\n\n\
            ## Database changes\n\n\
            The event archive gets two new indexes; the rebuild takes about one minute per \
            100 million events while the server restarts. In an HA cluster, disable clustering \
            first and patch each node separately.\n\n\
            Includes Patches 1 to 3.\n",
        payload_kib: 768,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 5,
        build: 9312,
        released: "2026-11-17",
        title: "Kernel update and new client (reboot required)",
        client: true,
        reboot: true,
        database_changes: false,
        rollback: true,
        notes: "## Highlights\n\n\
            - Operating system kernel update with the latest security fixes: **the SMS server \
              reboots**.\n\
            - **Client update** to 6.4.0.5: dark mode for the dashboards.\n\n\
            ## Fixed issues\n\n\
            - CVE-2026-30011: a local privilege escalation in the kernel's network stack.\n\
            - SMS-10790: the audit log export missed entries at the page boundary.\n\n\
            Includes Patches 1 to 4.\n",
        payload_kib: 1024,
    },
    DemoPatch {
        version: "6.5.0",
        patch: 1,
        build: 1105,
        released: "2026-11-20",
        title: "First patch for SMS 6.5.0",
        client: false,
        reboot: false,
        database_changes: false,
        rollback: true,
        notes: "## For SMS 6.5.0 only\n\n\
            This patch applies to SMS 6.5.0 servers. Upgrade this server to 6.5.0 first.\n",
        payload_kib: 256,
    },
];

/// Writes the demo packages into `dir` (those not there yet), signed by `signer`.
pub fn write_demo_packages(dir: &Path, signer: &PackageSigner) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for demo in PATCHES {
        let name = format!("sms-{}.{}.pkg", demo.version, demo.patch);
        let out = dir.join(&name);
        if out.exists() {
            continue;
        }
        let work = tempfile::tempdir_in(dir)?;
        let payload = work.path().join("payload");
        std::fs::create_dir_all(payload.join("server"))?;
        std::fs::write(
            payload.join("server/sms-server.bin"),
            filler(&name, demo.payload_kib << 10),
        )?;
        if demo.client {
            std::fs::create_dir_all(payload.join("client"))?;
            std::fs::write(
                payload.join("client/sms-client.bin"),
                filler(&format!("{name} client"), 128 << 10),
            )?;
        }
        let mut template = json!({
            "product_version": demo.version,
            "patch": demo.patch,
            "build": format!("{}.{}", demo.version, demo.build),
            "released": demo.released,
            "title": demo.title,
            "updates": if demo.client { "both" } else { "server" },
            "restart": if demo.reboot { "reboot" } else { "application" },
            "database_changes": demo.database_changes,
            "rollback": demo.rollback,
            "release_notes": demo.notes,
        });
        if demo.client {
            template["client_version"] = json!(format!("{}.{}", demo.version, demo.patch));
        }
        // Packed next to the folder and renamed, so the TMC never lists a half-written file.
        let staged = work.path().join(&name);
        pack(signer, &template, &payload, &staged)
            .with_context(|| format!("cannot build the demo package {name}"))?;
        std::fs::rename(&staged, &out)?;
        written += 1;
    }
    Ok(written)
}

/// Deterministic bytes that look like a binary.
fn filler(seed: &str, len: usize) -> Vec<u8> {
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
