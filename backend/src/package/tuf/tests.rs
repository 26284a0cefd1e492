//! The keys folder's chain of roots and the signed roles, checked with tough's own verifier.

use super::*;
use tough::schema::Signed;

#[tokio::test]
async fn init_then_rotations_give_a_chain_each_step_signed_by_old_and_new() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    init(dir.path(), now).await.unwrap();
    rotate_root(dir.path(), now).await.unwrap();
    rotate_key(dir.path(), KeyRole::Targets, now).await.unwrap();
    rotate_key(dir.path(), KeyRole::Timestamp, now)
        .await
        .unwrap();
    let folder = KeysFolder::read(dir.path()).unwrap();
    assert_eq!(
        folder.roots.keys().copied().collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let mut previous: Option<Signed<Root>> = None;
    for (version, bytes) in &folder.roots {
        let root = parse_root(Path::new("x"), bytes).unwrap();
        assert_eq!(root.signed.version.get(), *version);
        if let Some(previous) = &previous {
            previous.signed.verify_role(&root).unwrap();
        }
        previous = Some(root);
    }
    let (_, latest) = folder.latest_root().unwrap();
    // Every role can sign with the folder's current keys.
    for role in [
        RoleType::Root,
        RoleType::Targets,
        RoleType::Snapshot,
        RoleType::Timestamp,
    ] {
        assert!(!folder.keys_of(&latest.signed, role).is_empty(), "{role:?}");
    }
    // The snapshot key was the online key; rotating the timestamp left it alone.
    let snapshot = &latest.signed.roles[&RoleType::Snapshot].keyids;
    let timestamp = &latest.signed.roles[&RoleType::Timestamp].keyids;
    assert_ne!(snapshot, timestamp);
    assert!(dir.path().join("online.key").exists());
    assert!(dir.path().join(RETIRED).join("root-1-v1.key").exists());
}

#[tokio::test]
async fn a_root_that_is_not_signed_by_its_threshold_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = init(dir.path(), Utc::now()).await.unwrap();
    let mut root: Signed<Root> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    root.signatures.truncate(1);
    let bytes = serde_json::to_vec(&root).unwrap();
    assert!(matches!(
        parse_root(&path, &bytes),
        Err(TufError::BadRoot(..))
    ));
}

#[tokio::test]
async fn signed_roles_name_each_other_by_version_length_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), Utc::now()).await.unwrap();
    let folder = KeysFolder::read(dir.path()).unwrap();
    let (_, root) = folder.latest_root().unwrap();
    let target = FeedTarget {
        name: "catalog.json".into(),
        length: 2,
        sha256: hex::encode([7u8; 32]),
    };
    let roles = sign_roles(
        &root.signed,
        &folder.all_keys(),
        &[target],
        Versions {
            targets: 5,
            snapshot: 6,
            timestamp: 7,
        },
        Lifetimes::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    let timestamp: Signed<Timestamp> = serde_json::from_slice(&roles.timestamp).unwrap();
    root.signed.verify_role(&timestamp).unwrap();
    let meta = &timestamp.signed.meta["snapshot.json"];
    assert_eq!(meta.version.get(), 6);
    assert_eq!(meta.length, Some(roles.snapshot.len() as u64));
    let snapshot: Signed<Snapshot> = serde_json::from_slice(&roles.snapshot).unwrap();
    assert_eq!(snapshot.signed.meta["targets.json"].version.get(), 5);
    let text = String::from_utf8(roles.timestamp.clone()).unwrap();
    assert!(text.contains("\"expires\": \""), "{text}");
    assert!(!text.contains(".000"), "whole seconds: {text}");
}

#[tokio::test]
async fn an_added_key_joins_its_role_through_a_new_root_and_the_threshold_stays() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    init(dir.path(), now).await.unwrap();
    add_key(dir.path(), KeyRole::Targets, now).await.unwrap();
    let folder = KeysFolder::read(dir.path()).unwrap();
    let (version, root) = folder.latest_root().unwrap();
    assert_eq!(version, 2);
    let first = parse_root(Path::new("1"), &folder.roots[&1]).unwrap();
    first.signed.verify_role(&root).unwrap();
    let targets = &root.signed.roles[&RoleType::Targets];
    assert_eq!(targets.keyids.len(), 3);
    assert_eq!(targets.threshold.get(), 1);
    assert_eq!(folder.keys_of(&root.signed, RoleType::Targets).len(), 3);
    assert!(dir.path().join("targets-3.key").exists());
}
