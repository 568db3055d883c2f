//! Catalog profiling against the real PostgreSQL: figures of the retail dataset, sampling,
//! and profiling that never gets in the application's way (locks, transaction length,
//! statement timeouts).

mod catalog_common;
mod common;

use catalog_common::*;
use querent::catalog::introspect::IntrospectOptions;
use querent::catalog::ProfileSource;
use std::time::{Duration, Instant};

#[tokio::test]
async fn retail_profiles() {
    let client = retail().await;
    let cat = catalog_of(&client, &retail_opts()).await;
    assert_eq!(
        values(&cat, "regions.name"),
        strs(&["Central", "East", "North", "South", "West"])
    );
    let region = profile(&cat, "regions.name");
    assert_eq!(
        (region.distinct, region.source),
        (Some(5), Some(ProfileSource::Scan))
    );
    assert_eq!(
        values(&cat, "orders.channel"),
        strs(&["In-store", "Online", "Phone"])
    );
    assert_eq!(
        values(&cat, "customers.segment"),
        strs(&["Consumer", "Corporate", "Small Business"])
    );
    let date = profile(&cat, "orders.order_date");
    assert!(starts(&date.min, "2022-01-01"), "{date:?}");
    assert!(starts(&date.max, "2024-12-31"), "{date:?}");
    assert_eq!(date.values, None);

    let email = profile(&cat, "customers.email");
    assert_eq!(email.values, None, "5,000 emails are over the threshold");
    let d = email.distinct.expect("email distinct estimate");
    assert!((4_500..=5_500).contains(&d), "email distinct {d}");

    let price = profile(&cat, "order_items.unit_price");
    let (min, max): (f64, f64) = (
        price.min.as_deref().unwrap().parse().unwrap(),
        price.max.as_deref().unwrap().parse().unwrap(),
    );
    assert!(0.0 < min && min < max, "{price:?}");
    assert_eq!(price.values, None, "numbers have no value list");
    let rows = table(&cat, "orders").row_estimate.unwrap();
    let ids = profile(&cat, "orders.order_id");
    assert!(
        ids.distinct.unwrap().abs_diff(rows) < rows / 20,
        "{ids:?} vs {rows}"
    );
}

#[tokio::test]
async fn small_value_threshold_drops_value_lists() {
    let client = retail().await;
    let opts = IntrospectOptions {
        value_threshold: 3,
        ..retail_opts()
    };
    let cat = catalog_of(&client, &opts).await;
    let region = profile(&cat, "regions.name");
    assert_eq!((region.distinct, region.values), (Some(5), None));
    assert_eq!(
        values(&cat, "orders.channel"),
        strs(&["In-store", "Online", "Phone"])
    );
}

#[tokio::test]
async fn big_tables_are_sampled() {
    let client = retail().await;
    let opts = IntrospectOptions {
        full_scan_rows: 1000,
        sample_rows: 5000,
        ..retail_opts()
    };
    let started = Instant::now();
    let cat = catalog_of(&client, &opts).await;
    let region = profile(&cat, "regions.name");
    assert_eq!(region.source, Some(ProfileSource::Scan), "5 rows: scanned");
    let channel = profile(&cat, "orders.channel");
    assert_eq!(channel.source, Some(ProfileSource::Sample));
    assert_eq!(channel.values, strs(&["In-store", "Online", "Phone"]));
    let date = profile(&cat, "orders.order_date");
    assert!(
        date.min.as_deref().is_some_and(|m| m < "2022-03-01"),
        "{date:?}"
    );
    assert!(
        date.max.as_deref().is_some_and(|m| m > "2024-10-31"),
        "{date:?}"
    );
    let rows = table(&cat, "order_items").row_estimate.unwrap();
    let ids = profile(&cat, "order_items.order_item_id");
    assert_eq!(ids.source, Some(ProfileSource::Sample));
    let d = ids.distinct.unwrap();
    assert!(
        d > rows / 2,
        "a unique column's estimate grows with the table: {d} of {rows}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_table_does_not_block_introspection() {
    let client = connect(common::PG_DB).await;
    let s = Scratch::create(
        &client,
        common::PG_DB,
        "lock",
        "CREATE TABLE $S.busy (id int PRIMARY KEY, label text);
         INSERT INTO $S.busy SELECT i, 'b' || (i % 3) FROM generate_series(1, 100) i;
         ANALYZE $S.busy;
         CREATE TABLE $S.hidden (id int, note text);
         INSERT INTO $S.hidden SELECT i, 'n' FROM generate_series(1, 10) i;
         CREATE TABLE $S.calm (id int PRIMARY KEY, colour text, busy_id int REFERENCES $S.busy);
         INSERT INTO $S.calm
             SELECT i, (ARRAY['red','green','blue'])[1 + i % 3], i FROM generate_series(1, 100) i;",
    )
    .await;
    // A reader holds `busy`, and an ACCESS EXCLUSIVE request (think ALTER TABLE) on `hidden`
    // then `busy` holds the first and queues behind the reader for the second: every new
    // reader of either table would wait.
    let reader = connect(common::PG_DB).await;
    reader
        .batch_execute(&format!("BEGIN; SELECT count(*) FROM {}.busy", s.name))
        .await
        .unwrap();
    let locker = std::sync::Arc::new(connect(common::PG_DB).await);
    let l2 = locker.clone();
    let lock_sql = format!(
        "BEGIN; LOCK TABLE {0}.hidden, {0}.busy IN ACCESS EXCLUSIVE MODE",
        s.name
    );
    let pending = tokio::spawn(async move { l2.batch_execute(&lock_sql).await });
    let waiting = format!(
        "SELECT count(*) FROM pg_locks WHERE relation = '{}.busy'::regclass \
         AND mode = 'AccessExclusiveLock' AND NOT granted",
        s.name
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .query_one(&waiting, &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        assert!(Instant::now() < deadline, "the lock request never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let opts = IntrospectOptions {
        schemas: vec![s.name.clone()],
        ..IntrospectOptions::default()
    };
    let started = Instant::now();
    let cat = catalog_of(&client, &opts).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "introspection took {took:?}");
    let busy = table(&cat, &format!("{}.busy", s.name));
    assert_eq!(busy.columns.len(), 2, "the structure is read without locks");
    assert_eq!(busy.primary_key, vec![0]);
    // `busy` cannot be read, but was analyzed: its profiles come from pg_stats alone.
    let label = busy.columns[1].profile.clone().expect("pg_stats profile");
    assert_eq!(label.source, Some(ProfileSource::Stats));
    assert_eq!(
        (label.distinct, label.values),
        (Some(3), strs(&["b0", "b1", "b2"]))
    );
    let id = busy.columns[0].profile.clone().expect("pg_stats profile");
    assert_eq!((id.distinct, id.min.as_deref()), (Some(100), Some("1")));
    // `hidden` was never analyzed: no profile at all (autovacuum leaves 10 rows alone).
    let hidden = table(&cat, &format!("{}.hidden", s.name));
    assert!(
        hidden.columns.iter().all(|c| c.profile.is_none()),
        "{hidden:?}"
    );
    let calm = format!("{}.calm.colour", s.name);
    assert_eq!(values(&cat, &calm), strs(&["blue", "green", "red"]));
    assert_eq!(cat.relations.len(), 1);
    assert!(!pending.is_finished(), "the lock request is still queued");

    reader.batch_execute("COMMIT").await.unwrap();
    pending.await.unwrap().unwrap();
    locker.batch_execute("ROLLBACK").await.unwrap();
}

/// Every profiling statement runs in a transaction of its own (so the lock it takes on a table
/// is held for that statement only), and never without a statement timeout. A view shows what
/// the profiler's statements see: `now()`, the start of their transaction, differs between the
/// queries of two columns' values; the statement timeout is 5 s even when configured as 0.
#[tokio::test]
async fn each_profiling_statement_is_a_short_transaction_of_its_own() {
    let client = connect(common::PG_DB).await;
    let s = Scratch::create(
        &client,
        common::PG_DB,
        "tx",
        "CREATE VIEW $S.probe AS
             SELECT now()::text AS first_start, now()::text AS second_start,
                    current_setting('statement_timeout') AS timeout;",
    )
    .await;
    let opts = IntrospectOptions {
        schemas: vec![s.name.clone()],
        statement_timeout_ms: 0,
        ..IntrospectOptions::default()
    };
    let cat = catalog_of(&client, &opts).await;
    let first = values(&cat, "probe.first_start").expect("values of first_start");
    let second = values(&cat, "probe.second_start").expect("values of second_start");
    assert_ne!(first, second, "both columns were read in one transaction");
    assert_eq!(values(&cat, "probe.timeout"), strs(&["5s"]));
    let set = IntrospectOptions {
        statement_timeout_ms: 1500,
        ..opts
    };
    let cat = catalog_of(&client, &set).await;
    assert_eq!(values(&cat, "probe.timeout"), strs(&["1500ms"]));
}
