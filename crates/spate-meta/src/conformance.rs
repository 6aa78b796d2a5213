//! The conformance suite: one set of behavioural checks that every [`MetaStore`] backend must
//! pass, written only against the trait (DESIGN.md section 2; the tikv `engine_traits` idea).
//!
//! # Why it is always compiled (no cargo feature)
//!
//! Every check is generic over the store type, so none of it is compiled into a binary unless a
//! test instantiates it; a feature flag would cost nothing at run time either way, but would make
//! every backend's tests (this crate's, a future etcd crate's) remember to enable it. The suite
//! needs no dependency beyond what the crate already has (tokio).
//!
//! # How to use it
//!
//! - [`run_all`] runs every check, each on a store freshly made by the given closure. Use it for
//!   backends where each made store is private and new (embedded files, memory).
//! - [`run_shared`] skips the checks marked [`ConformanceCheck::private_store_only`]: those assert
//!   exact revision numbers (a fresh store is at 0, each changing commit adds exactly 1), which a
//!   namespace inside a shared etcd cluster cannot promise, since other tenants advance the same
//!   global counter. Every other check only relies on revisions being strictly increasing.
//! - [`checks`] lists the checks by name, for a harness that builds stores asynchronously or
//!   wants one test per check.
//!
//! Checks run on the caller's tokio runtime; use a multi-threaded one so the racing check
//! actually races. A failing check panics with its name in the message.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::{Check, Entry, MetaError, MetaStore, Outcome, Txn};

/// A check's future, boxed so checks of one store type fit in one list.
pub type CheckFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How long one check may run before it is reported as hung (a deadlocked backend).
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

/// One named check of the suite.
pub struct ConformanceCheck<S> {
    /// The check's function name in this module.
    pub name: &'static str,
    /// Whether the check needs a store that nobody else writes to (it asserts exact revisions).
    pub private_store_only: bool,
    /// Runs the check on a fresh store; panics on failure.
    pub run: fn(S) -> CheckFuture,
}

impl<S> fmt::Debug for ConformanceCheck<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConformanceCheck")
            .field("name", &self.name)
            .field("private_store_only", &self.private_store_only)
            .finish_non_exhaustive()
    }
}

/// Builds the list entry for the check function of the same name.
macro_rules! conformance_check {
    ($name:ident) => {
        conformance_check!($name, false)
    };
    ($name:ident, private) => {
        conformance_check!($name, true)
    };
    ($name:ident, $private:expr) => {
        ConformanceCheck {
            name: stringify!($name),
            private_store_only: $private,
            run: |store| Box::pin($name(store)),
        }
    };
}

/// Every check of the suite, in the order [`run_all`] runs them.
pub fn checks<S: MetaStore>() -> Vec<ConformanceCheck<S>> {
    vec![
        conformance_check!(fresh_store_is_empty_at_revision_zero, private),
        conformance_check!(revision_counts_changing_commits, private),
        conformance_check!(get_absent_key),
        conformance_check!(put_then_get),
        conformance_check!(overwrite_replaces_value_and_revision),
        conformance_check!(revisions_strictly_increase),
        conformance_check!(one_revision_per_txn),
        conformance_check!(scan_prefix_order_and_boundaries),
        conformance_check!(check_absent),
        conformance_check!(check_present),
        conformance_check!(check_revision),
        conformance_check!(failed_check_changes_nothing),
        conformance_check!(delete_removes_key),
        conformance_check!(delete_of_absent_key_changes_nothing),
        conformance_check!(checks_only_txn_commits_without_change),
        conformance_check!(empty_value_is_present),
        conformance_check!(large_value_round_trips),
        conformance_check!(stale_read_conflicts),
        conformance_check!(racing_counter_increments),
        conformance_check!(readers_see_whole_transactions),
        conformance_check!(invalid_requests_are_rejected),
    ]
}

/// Runs every check, each on a new store from `make`.
pub async fn run_all<S: MetaStore>(make: impl Fn() -> S) {
    for check in checks::<S>() {
        run_one(&check, make()).await;
    }
}

/// Runs the checks that hold on a store sharing its revision counter with other writers.
pub async fn run_shared<S: MetaStore>(make: impl Fn() -> S) {
    for check in checks::<S>() {
        if !check.private_store_only {
            run_one(&check, make()).await;
        }
    }
}

/// Runs one check in its own task, so its panic or hang is reported under its name.
pub async fn run_one<S: MetaStore>(check: &ConformanceCheck<S>, store: S) {
    let name = check.name;
    let task = tokio::spawn(tokio::time::timeout(CHECK_TIMEOUT, (check.run)(store)));
    match task.await {
        Ok(Ok(())) => {}
        Ok(Err(_elapsed)) => {
            panic!("conformance check `{name}` did not finish in {CHECK_TIMEOUT:?}")
        }
        Err(err) if err.is_panic() => {
            let payload = err.into_panic();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("conformance check `{name}` failed: {message}");
        }
        Err(err) => panic!("conformance check `{name}` was cancelled: {err}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers. They panic with the store's error, since a check has nothing better to do with it.

async fn commit_ok<S: MetaStore>(store: &S, txn: Txn) -> u64 {
    let described = format!("{txn:?}");
    match store.commit(txn).await {
        Ok(Outcome::Committed { revision }) => revision,
        Ok(Outcome::Conflict) => panic!("expected {described} to commit, it conflicted"),
        Err(err) => panic!("commit of {described} failed: {err}"),
    }
}

async fn assert_conflict<S: MetaStore>(store: &S, txn: Txn) {
    let described = format!("{txn:?}");
    match store.commit(txn).await {
        Ok(Outcome::Conflict) => {}
        Ok(committed) => panic!("expected {described} to conflict, got {committed:?}"),
        Err(err) => panic!("commit of {described} failed: {err}"),
    }
}

async fn put<S: MetaStore>(store: &S, key: &str, value: &[u8]) -> u64 {
    commit_ok(store, Txn::new().put(key, value.to_vec())).await
}

async fn get<S: MetaStore>(store: &S, key: &str) -> Option<Entry> {
    match store.get(key).await {
        Ok(entry) => entry,
        Err(err) => panic!("get({key:?}) failed: {err}"),
    }
}

async fn scan<S: MetaStore>(store: &S, prefix: &str) -> Vec<(String, Entry)> {
    match store.scan_prefix(prefix).await {
        Ok(found) => found,
        Err(err) => panic!("scan_prefix({prefix:?}) failed: {err}"),
    }
}

async fn scan_keys<S: MetaStore>(store: &S, prefix: &str) -> Vec<String> {
    let found = scan(store, prefix).await;
    found.into_iter().map(|(key, _)| key).collect()
}

async fn revision<S: MetaStore>(store: &S) -> u64 {
    match store.revision().await {
        Ok(revision) => revision,
        Err(err) => panic!("revision() failed: {err}"),
    }
}

fn entry(value: &[u8], revision: u64) -> Option<Entry> {
    Some(Entry {
        value: value.to_vec(),
        revision,
    })
}

// ---------------------------------------------------------------------------------------------
// Checks that need a private, fresh store.

/// A new store holds nothing and is at revision 0.
pub async fn fresh_store_is_empty_at_revision_zero<S: MetaStore>(store: S) {
    assert_eq!(revision(&store).await, 0);
    assert_eq!(scan(&store, "").await, Vec::new());
}

/// Each commit that changes something adds exactly 1; conflicts, no-op commits and rejected
/// requests add nothing.
pub async fn revision_counts_changing_commits<S: MetaStore>(store: S) {
    assert_eq!(put(&store, "a", b"1").await, 1);
    assert_eq!(
        commit_ok(
            &store,
            Txn::new().put("b", b"2".to_vec()).put("c", b"3".to_vec())
        )
        .await,
        2
    );
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Absent("a".into()))
            .put("d", b"4".to_vec()),
    )
    .await;
    assert_eq!(revision(&store).await, 2);
    assert_eq!(commit_ok(&store, Txn::new().delete("missing")).await, 2);
    assert_eq!(
        commit_ok(&store, Txn::new().check(Check::Present("a".into()))).await,
        2
    );
    assert_eq!(commit_ok(&store, Txn::new()).await, 2);
    let invalid = store.commit(Txn::new().put("", b"x".to_vec())).await;
    assert!(invalid.is_err(), "{invalid:?}");
    assert_eq!(revision(&store).await, 2);
    assert_eq!(commit_ok(&store, Txn::new().delete("a")).await, 3);
    assert_eq!(revision(&store).await, 3);
    assert_eq!(get(&store, "b").await, entry(b"2", 2));
}

// ---------------------------------------------------------------------------------------------
// Checks that hold on any store.

/// Reading a key that was never written finds nothing.
pub async fn get_absent_key<S: MetaStore>(store: S) {
    assert_eq!(get(&store, "never/written").await, None);
    assert_eq!(scan(&store, "never/").await, Vec::new());
}

/// A put is read back with the commit's revision.
pub async fn put_then_get<S: MetaStore>(store: S) {
    let committed = put(&store, "k", b"v").await;
    assert!(committed >= 1, "revisions start at 1, got {committed}");
    assert_eq!(get(&store, "k").await, entry(b"v", committed));
    let current = revision(&store).await;
    assert!(
        current >= committed,
        "revision() {current} is behind commit {committed}"
    );
}

/// Writing a key again replaces its value and moves it to the newer revision.
pub async fn overwrite_replaces_value_and_revision<S: MetaStore>(store: S) {
    let first = put(&store, "k", b"first value, longer").await;
    let second = put(&store, "k", b"2nd").await;
    assert!(second > first, "{second} must follow {first}");
    assert_eq!(get(&store, "k").await, entry(b"2nd", second));
    // Writing the same value again is still a change.
    let third = put(&store, "k", b"2nd").await;
    assert!(third > second, "{third} must follow {second}");
    assert_eq!(get(&store, "k").await, entry(b"2nd", third));
}

/// Every changing commit takes a higher revision than the one before, and a key keeps the
/// revision of the commit that last wrote it.
pub async fn revisions_strictly_increase<S: MetaStore>(store: S) {
    let keys = ["r/a", "r/b", "r/c", "r/a", "r/d", "r/b", "r/a"];
    let mut last_written = std::collections::BTreeMap::new();
    let mut previous = 0;
    for (i, key) in keys.iter().enumerate() {
        let value = format!("v{i}");
        let committed = put(&store, key, value.as_bytes()).await;
        assert!(
            committed > previous,
            "commit {i} got {committed} after {previous}"
        );
        previous = committed;
        last_written.insert(*key, (value, committed));
    }
    for (key, (value, committed)) in &last_written {
        assert_eq!(
            get(&store, key).await,
            entry(value.as_bytes(), *committed),
            "key {key}"
        );
    }
    let current = revision(&store).await;
    assert!(
        current >= previous,
        "revision() {current} is behind commit {previous}"
    );
}

/// All keys written by one transaction carry the same revision; untouched keys keep theirs.
pub async fn one_revision_per_txn<S: MetaStore>(store: S) {
    let untouched = put(&store, "u", b"keep").await;
    let old = put(&store, "t/old", b"old").await;
    let committed = commit_ok(
        &store,
        Txn::new()
            .put("t/a", b"1".to_vec())
            .put("t/b", b"2".to_vec())
            .delete("t/old")
            .put("t/c", b"3".to_vec()),
    )
    .await;
    assert!(committed > old);
    assert_eq!(
        scan(&store, "t/").await,
        vec![
            (
                "t/a".to_owned(),
                Entry {
                    value: b"1".to_vec(),
                    revision: committed
                }
            ),
            (
                "t/b".to_owned(),
                Entry {
                    value: b"2".to_vec(),
                    revision: committed
                }
            ),
            (
                "t/c".to_owned(),
                Entry {
                    value: b"3".to_vec(),
                    revision: committed
                }
            ),
        ]
    );
    assert_eq!(get(&store, "u").await, entry(b"keep", untouched));
}

/// Prefix scans return exactly the keys that start with the prefix, in byte order.
pub async fn scan_prefix_order_and_boundaries<S: MetaStore>(store: S) {
    // Written in a scrambled order, over several transactions.
    let keys = [
        "a/2",
        "b",
        "a0",
        "a/",
        "a",
        "a/b/c",
        "é",
        "a/10",
        "a.b",
        "ab",
        "z",
        "a/1",
        "a/\u{10FFFF}",
        "a\u{10FFFF}",
        "A",
    ];
    for chunk in keys.chunks(4) {
        let mut txn = Txn::new();
        for key in chunk {
            txn = txn.put(*key, key.as_bytes().to_vec());
        }
        commit_ok(&store, txn).await;
    }

    assert_eq!(
        scan_keys(&store, "a/").await,
        ["a/", "a/1", "a/10", "a/2", "a/b/c", "a/\u{10FFFF}"],
        "\"a/\" must not reach \"a0\" or \"a.b\""
    );
    assert_eq!(scan_keys(&store, "a/1").await, ["a/1", "a/10"]);
    assert_eq!(scan_keys(&store, "a0").await, ["a0"]);
    assert_eq!(scan_keys(&store, "a/b/c").await, ["a/b/c"]);
    assert_eq!(scan_keys(&store, "a/b/c/").await, Vec::<String>::new());
    assert_eq!(scan_keys(&store, "c").await, Vec::<String>::new());
    assert_eq!(scan_keys(&store, "zz").await, Vec::<String>::new());
    assert_eq!(scan_keys(&store, "\u{10FFFF}").await, Vec::<String>::new());

    // The model: filter and sort by bytes (Rust's `str` order is byte order).
    for prefix in ["", "a", "a/", "a/b", "b", "é", "A", "a\u{10FFFF}"] {
        let mut expected: Vec<String> = keys
            .iter()
            .filter(|key| key.starts_with(prefix))
            .map(|key| (*key).to_owned())
            .collect();
        expected.sort();
        assert_eq!(
            scan_keys(&store, prefix).await,
            expected,
            "prefix {prefix:?}"
        );
    }
    // Byte order, not character or case order: "A" < "a" < "z" < "é".
    let all = scan_keys(&store, "").await;
    let position = |key: &str| all.iter().position(|k| k == key);
    assert!(position("A") < position("a"));
    assert!(position("z") < position("é"));

    // Scans return the same entries as gets.
    for (key, found) in scan(&store, "").await {
        assert_eq!(found.value, key.as_bytes(), "value of {key:?}");
        assert_eq!(get(&store, &key).await, Some(found), "entry of {key:?}");
    }
}

/// `Check::Absent` holds exactly when the key does not exist.
pub async fn check_absent<S: MetaStore>(store: S) {
    let created = commit_ok(
        &store,
        Txn::new()
            .check(Check::Absent("k".into()))
            .put("k", b"first".to_vec()),
    )
    .await;
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Absent("k".into()))
            .put("k", b"second".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, entry(b"first", created));
    commit_ok(&store, Txn::new().delete("k")).await;
    let again = commit_ok(
        &store,
        Txn::new()
            .check(Check::Absent("k".into()))
            .put("k", b"third".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, entry(b"third", again));
}

/// `Check::Present` holds exactly when the key exists.
pub async fn check_present<S: MetaStore>(store: S) {
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Present("k".into()))
            .put("k", b"v".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, None);
    put(&store, "k", b"v1").await;
    let updated = commit_ok(
        &store,
        Txn::new()
            .check(Check::Present("k".into()))
            .put("k", b"v2".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, entry(b"v2", updated));
    // A check on a prefix of an existing key does not match it.
    assert_conflict(&store, Txn::new().check(Check::Present("k/".into()))).await;
}

/// `Check::Revision` holds exactly when the key exists with that revision.
pub async fn check_revision<S: MetaStore>(store: S) {
    let written = put(&store, "k", b"v1").await;
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Revision("k".into(), written + 1))
            .put("k", b"x".to_vec()),
    )
    .await;
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Revision("k".into(), written.saturating_sub(1)))
            .put("k", b"x".to_vec()),
    )
    .await;
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Revision("absent".into(), written))
            .put("k", b"x".to_vec()),
    )
    .await;
    // Revision 0 is never a key's revision, so it never matches, not even an absent key.
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Revision("absent".into(), 0))
            .put("k", b"x".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, entry(b"v1", written));

    let updated = commit_ok(
        &store,
        Txn::new()
            .check(Check::Revision("k".into(), written))
            .put("k", b"v2".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, entry(b"v2", updated));
    // The revision read before the update is now stale.
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Revision("k".into(), written))
            .put("k", b"v3".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "k").await, entry(b"v2", updated));
}

/// One failing check, wherever it sits among passing ones, makes the whole transaction a
/// conflict that changes nothing.
pub async fn failed_check_changes_nothing<S: MetaStore>(store: S) {
    put(&store, "x", b"1").await;
    let y = put(&store, "y", b"2").await;
    let before = scan(&store, "").await;

    let passing = [
        Check::Present("x".into()),
        Check::Revision("y".into(), y),
        Check::Absent("new".into()),
    ];
    let failing = Check::Absent("x".into());
    for position in 0..=passing.len() {
        let mut checks = passing.to_vec();
        checks.insert(position, failing.clone());
        let txn = Txn {
            checks,
            ..Txn::new()
                .put("x", b"changed".to_vec())
                .delete("y")
                .put("new", b"3".to_vec())
        };
        assert_conflict(&store, txn).await;
        assert_eq!(
            scan(&store, "").await,
            before,
            "failing check at position {position}"
        );
    }
}

/// A delete removes the key from gets, scans and checks, and takes a new revision.
pub async fn delete_removes_key<S: MetaStore>(store: S) {
    let written = commit_ok(
        &store,
        Txn::new()
            .put("d/1", b"1".to_vec())
            .put("d/2", b"2".to_vec()),
    )
    .await;
    let deleted = commit_ok(&store, Txn::new().delete("d/1")).await;
    assert!(deleted > written);
    assert_eq!(get(&store, "d/1").await, None);
    assert_eq!(scan_keys(&store, "d/").await, ["d/2"]);
    assert_eq!(get(&store, "d/2").await, entry(b"2", written));
    assert_conflict(&store, Txn::new().check(Check::Present("d/1".into()))).await;
    assert_conflict(
        &store,
        Txn::new().check(Check::Revision("d/1".into(), written)),
    )
    .await;
    let recreated = commit_ok(
        &store,
        Txn::new()
            .check(Check::Absent("d/1".into()))
            .put("d/1", b"again".to_vec()),
    )
    .await;
    assert!(recreated > deleted);
    assert_eq!(get(&store, "d/1").await, entry(b"again", recreated));
}

/// Deleting a key that does not exist commits but creates no revision (as in etcd).
pub async fn delete_of_absent_key_changes_nothing<S: MetaStore>(store: S) {
    let written = put(&store, "k", b"v").await;
    let noop = commit_ok(&store, Txn::new().delete("missing")).await;
    assert!(noop >= written, "{noop} is behind {written}");
    assert_eq!(get(&store, "k").await, entry(b"v", written));
    assert_eq!(get(&store, "missing").await, None);
    let next = put(&store, "k", b"w").await;
    assert!(
        next > noop,
        "a later write {next} must follow the no-op commit {noop}"
    );
}

/// A transaction with checks and no ops (etcd's read-only transaction, used to confirm
/// ownership) commits when its checks hold, and changes nothing either way.
pub async fn checks_only_txn_commits_without_change<S: MetaStore>(store: S) {
    let written = put(&store, "owner", b"node-1").await;
    let before = scan(&store, "").await;
    let confirmed = commit_ok(
        &store,
        Txn::new()
            .check(Check::Revision("owner".into(), written))
            .check(Check::Absent("other".into())),
    )
    .await;
    assert!(confirmed >= written);
    assert_conflict(
        &store,
        Txn::new().check(Check::Revision("owner".into(), written + 1)),
    )
    .await;
    let empty = commit_ok(&store, Txn::new()).await;
    assert!(empty >= written);
    assert_eq!(scan(&store, "").await, before);
}

/// An empty value is a present key, distinct from an absent one.
pub async fn empty_value_is_present<S: MetaStore>(store: S) {
    let written = put(&store, "e", b"").await;
    assert_eq!(get(&store, "e").await, entry(b"", written));
    assert_eq!(
        scan(&store, "e").await,
        vec![(
            "e".to_owned(),
            Entry {
                value: Vec::new(),
                revision: written
            }
        )]
    );
    commit_ok(&store, Txn::new().check(Check::Present("e".into()))).await;
    assert_conflict(&store, Txn::new().check(Check::Absent("e".into()))).await;
    let filled = put(&store, "e", b"x").await;
    assert_eq!(get(&store, "e").await, entry(b"x", filled));
    let emptied = put(&store, "e", b"").await;
    assert_eq!(get(&store, "e").await, entry(b"", emptied));
}

/// A 1 MiB value round-trips exactly, and a short value replacing it leaves no trace of it.
pub async fn large_value_round_trips<S: MetaStore>(store: S) {
    let large: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let written = commit_ok(&store, Txn::new().put("big", large.clone())).await;
    assert!(
        get(&store, "big").await == entry(&large, written),
        "1 MiB value changed in the store"
    );
    let scanned = scan(&store, "big").await;
    assert!(
        scanned.len() == 1 && scanned[0].1.value == large,
        "1 MiB value changed in a scan"
    );
    let replaced = put(&store, "big", b"ab").await;
    assert_eq!(get(&store, "big").await, entry(b"ab", replaced));
}

/// Read-modify-write with a revision check fails if someone wrote in between.
pub async fn stale_read_conflicts<S: MetaStore>(store: S) {
    put(&store, "counter", b"0").await;
    let read_by_a = get(&store, "counter")
        .await
        .expect("counter was just written");
    let read_by_b = read_by_a.clone();
    let a = commit_ok(
        &store,
        Txn::new()
            .check(Check::Revision("counter".into(), read_by_a.revision))
            .put("counter", b"1".to_vec()),
    )
    .await;
    assert_conflict(
        &store,
        Txn::new()
            .check(Check::Revision("counter".into(), read_by_b.revision))
            .put("counter", b"1".to_vec()),
    )
    .await;
    assert_eq!(get(&store, "counter").await, entry(b"1", a));
}

/// Tasks racing to increment one counter, each with a revision check on what it read: the final
/// count equals the number of commits (no lost update), and no two commits share a revision.
pub async fn racing_counter_increments<S: MetaStore>(store: S) {
    const TASKS: usize = 4;
    const ATTEMPTS: usize = 20;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            for _ in 0..ATTEMPTS {
                let current = get(&*store, "counter").await;
                let (count, check) = match &current {
                    None => (0, Check::Absent("counter".into())),
                    Some(found) => (
                        parse_count(&found.value),
                        Check::Revision("counter".into(), found.revision),
                    ),
                };
                tokio::task::yield_now().await;
                let txn = Txn::new()
                    .check(check)
                    .put("counter", (count + 1).to_string().into_bytes());
                match store.commit(txn).await {
                    Ok(Outcome::Committed { revision }) => committed.push(revision),
                    Ok(Outcome::Conflict) => {}
                    Err(err) => panic!("racing commit failed: {err}"),
                }
            }
            committed
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        match task.await {
            Ok(committed) => revisions.extend(committed),
            Err(err) => panic!("racing task failed: {err}"),
        }
    }
    assert!(!revisions.is_empty(), "some increment must win every round");
    let distinct: BTreeSet<u64> = revisions.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        revisions.len(),
        "two commits shared a revision: {revisions:?}"
    );

    let last = get(&*store, "counter")
        .await
        .expect("the counter was written");
    assert_eq!(
        parse_count(&last.value),
        revisions.len() as u64,
        "final count vs. committed increments"
    );
    assert_eq!(
        Some(&last.revision),
        distinct.last(),
        "the counter carries the last commit's revision"
    );
}

fn parse_count(value: &[u8]) -> u64 {
    let text = std::str::from_utf8(value).expect("the counter is written as decimal text");
    text.parse()
        .expect("the counter is written as a decimal number")
}

/// Readers never see half of a transaction: two keys always written together are always read
/// together, with equal values and equal revisions.
pub async fn readers_see_whole_transactions<S: MetaStore>(store: S) {
    const ROUNDS: u64 = 30;
    let store = Arc::new(store);
    commit_ok(
        &*store,
        Txn::new()
            .put("p/a", b"0".to_vec())
            .put("p/b", b"0".to_vec()),
    )
    .await;
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for round in 1..=ROUNDS {
                let value = round.to_string().into_bytes();
                commit_ok(
                    &*store,
                    Txn::new().put("p/a", value.clone()).put("p/b", value),
                )
                .await;
            }
        })
    };
    loop {
        let pair = scan(&*store, "p/").await;
        assert_eq!(pair.len(), 2, "{pair:?}");
        assert_eq!(pair[0].1, pair[1].1, "a scan saw half a transaction");
        if parse_count(&pair[0].1.value) == ROUNDS {
            break;
        }
        tokio::task::yield_now().await;
    }
    if let Err(err) = writer.await {
        panic!("writer task failed: {err}");
    }
}

/// Requests no backend accepts fail with `InvalidArgument`, are not retryable, and change nothing.
pub async fn invalid_requests_are_rejected<S: MetaStore>(store: S) {
    put(&store, "k", b"v").await;
    let before = scan(&store, "").await;
    let invalid = [
        Txn::new().put("", b"x".to_vec()),
        Txn::new().put("side", b"x".to_vec()).delete(""),
        Txn::new()
            .check(Check::Present(String::new()))
            .put("side", b"x".to_vec()),
        Txn::new()
            .put("side", b"1".to_vec())
            .put("side", b"2".to_vec()),
        Txn::new().put("k", b"1".to_vec()).delete("k"),
    ];
    for txn in invalid {
        let described = format!("{txn:?}");
        let result = store.commit(txn).await;
        assert_invalid(result, &described);
    }
    assert_invalid(store.get("").await, "get(\"\")");
    assert_eq!(scan(&store, "").await, before);
}

fn assert_invalid<T: fmt::Debug>(result: Result<T, MetaError>, what: &str) {
    match result {
        Err(err @ MetaError::InvalidArgument(_)) => {
            assert!(
                !err.is_retryable(),
                "{what}: an invalid request is not retryable"
            );
        }
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    }
}
