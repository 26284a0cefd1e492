//! HA clusters: two real nodes on one fresh PostgreSQL database, the leadership lease, the
//! passive node's answer, the HA patch rule, the procedure, installs that reach both nodes,
//! and node-to-node calls that need the cluster secret.

use std::time::{Duration, Instant};

use backend::service::cluster::ClusterConfig;
use serde_json::Value;
use tempfile::TempDir;

use testkit::{
    ADMIN_PASSWORD, PgTestDb, TestApp, Vendor, assert_error, eventually, free_ports, new_client,
    test_config,
};

use crate::install::stage_names;

pub(crate) const SECRET: &str = "a-shared-secret-for-both-nodes-0123456789";

/// Two nodes, `sms-a` (started first: active) and `sms-b` (passive), both logged in as admin.
struct Pair {
    a: TestApp,
    b: TestApp,
    _secret: TempDir,
}

pub(crate) fn node_config(
    name: &str,
    port: u16,
    peer: &str,
    pg: &PgTestDb,
    vendor: &Vendor,
    lease: (Duration, Duration),
) -> (backend::config::Config, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.listen = format!("127.0.0.1:{port}").parse().unwrap();
    config.node_name = name.to_owned();
    config.storage.database_url = pg.url.clone();
    config.trust_keys = vec![vendor.public_key().to_owned()];
    config.system.reboot_window = Duration::from_millis(400);
    config.cluster = Some(ClusterConfig {
        peer: reqwest::Url::parse(peer).unwrap(),
        secret: SECRET.to_owned(),
        lease_ttl: lease.0,
        lease_renew: lease.1,
        peer_trust: Default::default(),
    });
    (config, dir)
}

/// A lease renewed twice as often as the built-in one, for the tests that are not about the lease.
const FAST: (Duration, Duration) = (Duration::from_secs(3), Duration::from_millis(500));

async fn pair(vendor: &Vendor, lease: (Duration, Duration)) -> Option<Pair> {
    pair_with(vendor, lease, |_| {}).await
}

/// [`pair`], with `adjust_b` applied to node b's configuration first.
async fn pair_with(
    vendor: &Vendor,
    lease: (Duration, Duration),
    adjust_b: impl FnOnce(&mut backend::config::Config),
) -> Option<Pair> {
    let pg = PgTestDb::create().await?;
    let secret = tempfile::tempdir().unwrap();
    let [port_a, port_b] = free_ports();
    let url_a = format!("http://127.0.0.1:{port_a}/");
    let url_b = format!("http://127.0.0.1:{port_b}/");
    let (mut config_b, dir_b) = node_config("sms-b", port_b, &url_a, &pg, vendor, lease);
    adjust_b(&mut config_b);
    let (config_a, dir_a) = node_config("sms-a", port_a, &url_b, &pg, vendor, lease);
    let a = TestApp::start(config_a, dir_a, Some(pg)).await.unwrap();
    let b = TestApp::start(config_b, dir_b, None).await.unwrap();
    a.login_admin().await;
    b.login_admin().await;
    Some(Pair {
        a,
        b,
        _secret: secret,
    })
}

#[tokio::test]
async fn two_nodes_started_together_on_an_empty_database_both_come_up() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let vendor = Vendor::new();
    let [port_a, port_b] = free_ports();
    let url_a = format!("http://127.0.0.1:{port_a}/");
    let url_b = format!("http://127.0.0.1:{port_b}/");
    let (config_a, dir_a) = node_config("sms-a", port_a, &url_b, &pg, &vendor, FAST);
    let (config_b, dir_b) = node_config("sms-b", port_b, &url_a, &pg, &vendor, FAST);
    // The same moment, the same empty database: one migrates and records the first start,
    // the other waits for it, then finds the schema and the first admin in place.
    let (a, b) = tokio::join!(
        TestApp::start(config_a, dir_a, Some(pg)),
        TestApp::start(config_b, dir_b, None)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    a.login_admin().await;
    b.login_admin().await;
    let roles = [wait_for_any_role(&a).await, wait_for_any_role(&b).await];
    assert!(roles.contains(&"active".to_owned()), "{roles:?}");
}

/// A certificate and key for 127.0.0.1, written into `dir`; and its SHA-256.
fn node_certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, [u8; 32]) {
    use sha2::Digest;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.join("node.pem"), dir.join("node.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (cert_file, key_file, sha2::Sha256::digest(cert.der()).into())
}

#[tokio::test]
async fn nodes_over_https_check_each_other_by_fingerprint_and_a_wrong_one_is_refused() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let vendor = Vendor::new();
    let (certs_a, certs_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (cert_a, key_a, _) = node_certificate(certs_a.path());
    let (cert_b, key_b, pin_b) = node_certificate(certs_b.path());
    let [port_a, port_b] = free_ports();
    let url_a = format!("https://127.0.0.1:{port_a}/");
    let url_b = format!("https://127.0.0.1:{port_b}/");
    let (mut config_a, dir_a) = node_config("sms-a", port_a, &url_b, &pg, &vendor, FAST);
    let (mut config_b, dir_b) = node_config("sms-b", port_b, &url_a, &pg, &vendor, FAST);
    config_a.transport = backend::config::Transport::Https {
        cert: cert_a,
        key: key_a,
    };
    config_b.transport = backend::config::Transport::Https {
        cert: cert_b,
        key: key_b,
    };
    // A trusts B's certificate; B pins a certificate A does not have.
    config_a.cluster.as_mut().unwrap().peer_trust.fingerprint = Some(pin_b);
    config_b.cluster.as_mut().unwrap().peer_trust.fingerprint = Some([7u8; 32]);
    let a = TestApp::start(config_a, dir_a, Some(pg)).await.unwrap();
    let b = TestApp::start(config_b, dir_b, None).await.unwrap();
    assert!(a.base_url.starts_with("https://"));
    a.login_admin().await;
    b.login_admin().await;

    let seen = eventually("A to see B over HTTPS", Duration::from_secs(10), || async {
        let view = cluster(&a).await;
        match view["peer"]["node"]["name"].as_str() {
            Some("sms-b") => Ok(view),
            _ => Err(format!("{}", view["peer"])),
        }
    })
    .await
    .unwrap();
    assert_eq!(seen["peer"]["url"], url_b);

    let refused = eventually(
        "B to refuse A's certificate",
        Duration::from_secs(10),
        || async {
            let view = cluster(&b).await;
            match view["peer"]["error"].as_str() {
                Some(error) => Ok(error.to_owned()),
                None => Err(format!("{}", view["peer"])),
            }
        },
    )
    .await
    .unwrap();
    assert!(cluster(&b).await["peer"]["node"].is_null(), "{refused}");
}

pub(crate) async fn cluster(app: &TestApp) -> Value {
    let response = app.cluster().await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Waits until `app` reports `role` (the lease is renewed on an interval).
async fn wait_for_role(app: &TestApp, role: &str, within: Duration) {
    let what = format!("{} to become {role}", app.config.node_name);
    eventually(&what, within, || async {
        let info = cluster(app).await;
        if info["node"]["role"] == role {
            Ok(())
        } else {
            Err(info.to_string())
        }
    })
    .await
    .unwrap();
}

async fn install(app: &TestApp, patch: &str) -> Value {
    app.follow_job(app.install(patch).await).await
}

#[tokio::test]
async fn the_first_node_is_active_and_the_passive_one_sends_clients_to_it() {
    let vendor = Vendor::new();
    let Some(pair) = pair(&vendor, FAST).await else {
        return;
    };
    let a = cluster(&pair.a).await;
    assert_eq!(a["configured"], true);
    assert_eq!(a["enabled"], true);
    assert_eq!(a["node"]["name"], "sms-a");
    assert_eq!(a["node"]["role"], "active");
    assert_eq!(a["peer"]["node"]["name"], "sms-b");
    assert_eq!(a["peer"]["node"]["role"], "passive");
    assert_eq!(a["peer"]["node"]["patch_level"], 0);
    assert_eq!(a["peer"]["url"], pair.b.url("/"));
    assert_eq!(a["mismatch"], Value::Null);
    assert_eq!(a["active_url"], Value::Null);

    let b = cluster(&pair.b).await;
    assert_eq!(b["node"]["role"], "passive");
    assert_eq!(b["active_url"], pair.a.url("/"));

    // The passive node sends API clients to the active one.
    let refused = pair.b.patches().await;
    assert_eq!(refused.status(), 421);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "node_passive");
    assert_eq!(body["error"]["active_url"], pair.a.url("/"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&pair.a.url("/"))
    );
    let served = pair.a.patches().await;
    assert_eq!(served.status(), 200);

    // Swap: the roles change hands at once, and it is audited.
    let swapped = pair.a.cluster_action("swap").await;
    assert_eq!(swapped.status(), 200, "{}", swapped.text().await.unwrap());
    wait_for_role(&pair.b, "active", Duration::from_secs(5)).await;
    wait_for_role(&pair.a, "passive", Duration::from_secs(5)).await;
    let refused = pair.a.cluster_action("swap").await;
    assert_eq!(refused.status(), 421, "the passive node holds its API");
    let audit: Value = pair.b.audit("").await.json().await.unwrap();
    let swap = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "cluster_swap")
        .unwrap_or_else(|| panic!("no cluster_swap in {audit}"));
    assert_eq!(swap["outcome"], "success", "{swap}");
    assert_eq!(swap["actor"], "admin", "{swap}");
}

#[tokio::test]
async fn the_passive_node_takes_over_when_the_active_one_stops() {
    let vendor = Vendor::new();
    // The built-in lease: 3 s, renewed every second.
    let Some(mut pair) = pair(&vendor, (Duration::from_secs(3), Duration::from_secs(1))).await
    else {
        return;
    };
    wait_for_role(&pair.b, "passive", Duration::from_secs(5)).await;
    let stopped = Instant::now();
    pair.a.stop().await;
    // Serving as active: the role, and the API answering.
    eventually(
        "sms-b to take over and serve the API",
        Duration::from_secs(10),
        || async {
            let response = pair.b.patches().await;
            if response.status() == 200 {
                return Ok(());
            }
            assert_eq!(response.status(), 421, "passive or active, nothing else");
            Err("421: still passive")
        },
    )
    .await
    .unwrap();
    let took = stopped.elapsed();
    eprintln!("takeover after a graceful stop: {} ms", took.as_millis());
    let b = cluster(&pair.b).await;
    assert_eq!(b["node"]["role"], "active");
    assert!(b["peer"]["node"].is_null(), "{b}");
    assert!(b["peer"]["error"].is_string(), "{b}");
}

/// Node a, the real supervised `sms serve` with the cluster flags, and node b in this process
/// (its lease 3 s, renewed every second), on the database `pg`; b sees a active. The folders
/// (the secret's, a's data dir) must live as long as the pair.
pub(crate) async fn a_served_and_b(
    vendor: &Vendor,
    pg: PgTestDb,
) -> (testkit::process::Served, TestApp, [TempDir; 2]) {
    use crate::cli::serve;
    let secret_dir = tempfile::tempdir().unwrap();
    let secret_file = secret_dir.path().join("cluster-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let [port_b] = free_ports();
    let url_b = format!("http://127.0.0.1:{port_b}/");
    let dir_a = tempfile::tempdir().unwrap();
    let node_a = serve(
        dir_a.path(),
        &[
            "--node-name",
            "sms-a",
            "--database-url",
            &pg.url,
            "--cluster-peer",
            &url_b,
            "--cluster-secret-file",
            secret_file.to_str().unwrap(),
            "--trust-key",
            vendor.public_key().to_str().unwrap(),
        ],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)],
    );
    let (config_b, dir_b) = node_config(
        "sms-b",
        port_b,
        &format!("{}/", node_a.url),
        &pg,
        vendor,
        (Duration::from_secs(3), Duration::from_secs(1)),
    );
    let b = TestApp::start(config_b, dir_b, Some(pg)).await.unwrap();
    b.login_admin().await;
    assert_eq!(cluster(&b).await["node"]["role"], "passive");
    assert_eq!(cluster(&b).await["peer"]["node"]["role"], "active");
    (node_a, b, [secret_dir, dir_a])
}

#[tokio::test]
async fn a_killed_active_node_loses_the_lease_when_it_runs_out() {
    let vendor = Vendor::new();
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let (mut node_a, b, _dirs) = a_served_and_b(&vendor, pg).await;

    // SIGKILL: no chance to give the lease up; it runs out (3 s) and b takes it.
    let killed = Instant::now();
    node_a.child.kill().unwrap();
    node_a.child.wait().unwrap();
    wait_for_role(&b, "active", Duration::from_secs(10)).await;
    let took = killed.elapsed();
    eprintln!(
        "takeover after the active node was killed: {} ms",
        took.as_millis()
    );
    assert!(
        took >= Duration::from_secs(1),
        "b must not take a lease that is still valid ({took:?})"
    );
    let served = b.patches().await;
    assert_eq!(served.status(), 200);
}

#[tokio::test]
async fn a_patch_with_database_changes_is_refused_while_clustering_is_enabled() {
    let vendor = Vendor::new();
    let Some(pair) = pair(&vendor, FAST).await else {
        return;
    };
    pair.a
        .import_file(&vendor.package(3).database_changes().write())
        .await;
    let refused = pair.a.install("6.4.0.3").await;
    let message = assert_error(refused, 412, "ha_cluster_enabled").await;
    assert!(message.contains("Disable clustering"), "{message}");
    assert!(message.contains("re-establish"), "{message}");
    assert_eq!(pair.a.level().await, 0);
    assert_eq!(pair.b.level().await, 0);

    // A restore would replace the database the two nodes share: refused the same way.
    let backup = pair
        .a
        .follow_job(pair.a.post("/api/v1/backups").await)
        .await;
    assert_eq!(backup["state"], "succeeded", "{backup}");
    let list = pair.a.get_json("/api/v1/backups").await;
    let id = list["backups"][0]["id"].as_str().unwrap().to_owned();
    let refused = pair.a.post(&format!("/api/v1/backups/{id}/restore")).await;
    let message = assert_error(refused, 412, "ha_cluster_enabled").await;
    assert!(message.contains("Disable clustering"), "{message}");
}

#[tokio::test]
async fn the_procedure_disable_patch_each_node_then_re_establish() {
    let vendor = Vendor::new();
    let Some(pair) = pair(&vendor, FAST).await else {
        return;
    };
    let package = vendor.package(3).database_changes().write();

    // Disable: both nodes serve on their own.
    let disabled = pair.a.cluster_action("disable").await;
    assert_eq!(disabled.status(), 200, "{}", disabled.text().await.unwrap());
    let info: Value = disabled.json().await.unwrap();
    assert_eq!(info["enabled"], false);
    assert_eq!(info["changed_by"], "admin");
    wait_for_role(&pair.a, "standalone", Duration::from_secs(5)).await;
    wait_for_role(&pair.b, "standalone", Duration::from_secs(5)).await;

    // Patch node a.
    pair.a.import_file(&package).await;
    let done = install(&pair.a, "6.4.0.3").await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(
        !stage_names(&done)
            .iter()
            .any(|(name, _)| name.starts_with("peer_")),
        "a disabled cluster installs on one node: {done}"
    );
    assert_eq!(pair.a.level().await, 3);
    assert_eq!(pair.b.level().await, 0);

    // Re-establishing is refused while the levels differ, saying which.
    let refused = pair.a.cluster_action("establish").await;
    let message = assert_error(refused, 412, "cluster_mismatch").await;
    assert!(message.contains("patch levels differ"), "{message}");
    assert!(message.contains("sms-a runs Patch 3"), "{message}");
    assert!(message.contains("sms-b runs level 0"), "{message}");
    let info = cluster(&pair.a).await;
    assert_eq!(info["enabled"], false);
    assert!(
        info["mismatch"]
            .as_str()
            .unwrap()
            .contains("patch levels differ")
    );

    // Patch node b, then re-establish.
    pair.b.import_file(&package).await;
    let done = install(&pair.b, "6.4.0.3").await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let established = pair.b.cluster_action("establish").await;
    assert_eq!(
        established.status(),
        200,
        "{}",
        established.text().await.unwrap()
    );
    let roles = [
        wait_for_any_role(&pair.a).await,
        wait_for_any_role(&pair.b).await,
    ];
    let mut sorted = roles.clone();
    sorted.sort();
    assert_eq!(sorted, ["active", "passive"], "{roles:?}");
    let info = cluster(&pair.a).await;
    assert_eq!(info["enabled"], true);
    assert_eq!(info["mismatch"], Value::Null);

    // Every action is in the audit log, the refusal too.
    let audit: Value = pair.a.audit("").await.json().await.unwrap();
    let actions: Vec<(String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("cluster_"))
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("cluster_disable", "success"),
        ("cluster_establish", "failure"),
        ("cluster_establish", "success"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} missing from {actions:?}"
        );
    }
}

/// The role once the lease has settled (active or passive).
async fn wait_for_any_role(app: &TestApp) -> String {
    let what = format!("{} to be active or passive", app.config.node_name);
    eventually(&what, Duration::from_secs(5), || async {
        let role = cluster(app).await["node"]["role"]
            .as_str()
            .unwrap()
            .to_owned();
        if role == "standalone" {
            Err("still standalone")
        } else {
            Ok(role)
        }
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_patch_without_database_changes_reaches_both_nodes() {
    let vendor = Vendor::new();
    let Some(pair) = pair(&vendor, FAST).await else {
        return;
    };
    // Only the active node has the package: it sends it to the passive one.
    pair.a.import_file(&vendor.package(3).write()).await;
    let done = install(&pair.a, "6.4.0.3").await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let stages = stage_names(&done);
    let names: Vec<&str> = stages.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "verify",
            "precheck",
            "peer_push",
            "stop_clients",
            "stage_payload",
            "switch",
            "restart",
            "postcheck",
            "peer_install",
            "done"
        ]
    );
    assert!(
        stages
            .iter()
            .all(|(_, outcome)| outcome.as_deref() == Some("ok")),
        "{done}"
    );
    assert_eq!(pair.a.level().await, 3);
    assert_eq!(pair.b.level().await, 3);
    let info = cluster(&pair.a).await;
    assert_eq!(info["node"]["patch_level"], 3);
    assert_eq!(info["peer"]["node"]["patch_level"], 3);
    assert_eq!(info["mismatch"], Value::Null);
    // Each node records its own install.
    let (b_history, _) = pair.b.state.jobs.history(1, 10).await.unwrap();
    assert_eq!(b_history.len(), 1, "{b_history:?}");
    assert!(b_history[0].started_by.contains("from the active node"));
}

#[tokio::test]
async fn a_failed_install_on_the_passive_node_is_reported_and_shown_as_a_mismatch() {
    let vendor = Vendor::new();
    // Node b's post-check fails: its own configuration says so, not the test process's
    // environment, which node a (and any test beside this one under `cargo test`) shares.
    let Some(pair) = pair_with(&vendor, FAST, |b| b.fail_postcheck = true).await else {
        return;
    };
    pair.a.import_file(&vendor.package(3).write()).await;
    let done = install(&pair.a, "6.4.0.3").await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "peer_install_failed", "{done}");
    let message = done["error"]["message"].as_str().unwrap();
    assert!(message.contains("This node now runs Patch 3"), "{message}");
    assert_eq!(pair.a.level().await, 3);
    assert_eq!(pair.b.level().await, 0);
    let info = cluster(&pair.a).await;
    assert!(
        info["mismatch"]
            .as_str()
            .unwrap()
            .contains("patch levels differ"),
        "{info}"
    );
}

#[tokio::test]
async fn node_to_node_calls_need_the_cluster_secret() {
    let vendor = Vendor::new();
    let Some(pair) = pair(&vendor, FAST).await else {
        return;
    };
    let anonymous = new_client();
    let node = pair.a.url("/cluster/v1/node");

    let response = anonymous.get(&node).send().await.unwrap();
    assert_error(response, 401, "cluster_secret_required").await;
    let response = anonymous
        .get(&node)
        .bearer_auth("not-the-secret-of-this-cluster")
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "cluster_secret_invalid").await;
    // An admin session is not enough either.
    let response = pair.a.client.get(&node).send().await.unwrap();
    assert_error(response, 401, "cluster_secret_required").await;
    let response = pair
        .a
        .client
        .post(pair.a.url("/cluster/v1/install"))
        .json(&serde_json::json!({"patch": "6.4.0.3", "actor": "mallory"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "cluster_secret_required").await;
    let response = anonymous
        .put(pair.a.url("/cluster/v1/patches"))
        .bearer_auth("not-the-secret-of-this-cluster")
        .header("Content-Type", "application/octet-stream")
        .body(vendor.package(3).bytes())
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "cluster_secret_invalid").await;
    assert!(pair.a.state.repository.list().await.unwrap().is_empty());

    let response = anonymous
        .get(&node)
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["name"], "sms-a");
    assert_eq!(info["role"], "active");
}

#[tokio::test]
async fn clustering_refuses_sqlite_and_a_missing_secret() {
    use backend::cli::args::ServeArgs;
    use backend::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    let mut args = ServeArgs::default();
    args.storage.data_dir = Some(dir.path().to_owned());
    args.cluster.cluster_peer = Some("http://127.0.0.1:9/".into());
    args.cluster.cluster_secret_file = Some(secret.clone());
    let err = Config::load(&args).unwrap_err().to_string();
    assert!(err.contains("needs PostgreSQL"), "{err}");

    args.storage.database_url = Some("postgres://postgres@127.0.0.1/x".into());
    args.cluster.cluster_secret_file = None;
    let err = Config::load(&args).unwrap_err().to_string();
    assert!(err.contains("--cluster-secret-file"), "{err}");

    std::fs::write(&secret, "short").unwrap();
    args.cluster.cluster_secret_file = Some(secret);
    let err = Config::load(&args).unwrap_err().to_string();
    assert!(err.contains("too short"), "{err}");
}
