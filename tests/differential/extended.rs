//! Extended-protocol scenarios built in code: named and unnamed statements and portals,
//! Describe before Bind, binary and text parameters, partial Execute, Close, Flush,
//! pipelining, errors inside a pipeline, and statements reused across Syncs.

use crate::engine::{Check, Scenario, Step};
use crate::wire::{bind, close, describe, execute, flush, parse, query, sync};

const INT4: u32 = 23;
const INT8: u32 = 20;
const TEXT: u32 = 25;
const BYTEA: u32 = 17;
const FLOAT8: u32 = 701;
const BOOL: u32 = 16;

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn b(v: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    Some(v.as_ref().to_vec())
}

/// Send all parts at once, then read through `ready` ReadyForQuery messages.
fn batch(parts: &[Vec<u8>], ready: usize) -> Vec<Step> {
    vec![Step::Send(cat(parts)), Step::Until(ready)]
}

const TYPED_SQL: &str = "SELECT $1::int4 AS i4, $2::int8 AS i8, $3::text AS t, $4::bytea AS by, $5::float8 AS f8, $6::bool AS bo, \
                         $1 + 1 AS i4_plus, length($3) AS tlen, pg_typeof($5)::text AS f8type";

fn binary_params() -> Vec<Option<Vec<u8>>> {
    vec![
        b((-2147483648i32).to_be_bytes()),
        b(9223372036854775807i64.to_be_bytes()),
        b("ünïcode ✓ 'q'"),
        b([0u8, 1, 255, 92]),
        b(0.1f64.to_be_bytes()),
        b([1u8]),
    ]
}

fn text_params() -> Vec<Option<Vec<u8>>> {
    vec![
        b("-2147483648"),
        b("9223372036854775807"),
        b("ünïcode ✓ 'q'"),
        b("\\x0001ff5c"),
        b("0.1"),
        b("true"),
    ]
}

/// All programmatic scenarios.
pub fn scenarios(schema: &str) -> Vec<Scenario> {
    let sq = |sql: &str| sql.replace("@schema@", schema);
    let types = [INT4, INT8, TEXT, BYTEA, FLOAT8, BOOL];
    let mut out = Vec::new();

    for (fmt_name, fmt) in [("text", 0i16), ("binary", 1)] {
        out.push(
            Scenario::new(
                format!("binary_params/results_{fmt_name}"),
                batch(
                    &[
                        parse("", TYPED_SQL, &types),
                        bind("", "", &[1], &binary_params(), &[fmt]),
                        describe(b'P', ""),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
            )
            .check(Check::Rows(1))
            .check(Check::Contains("ünïcode ✓ 'q'".into()))
            .text_only(fmt == 0),
        );
        out.push(
            Scenario::new(
                format!("text_params/results_{fmt_name}"),
                batch(
                    &[
                        parse("", TYPED_SQL, &types),
                        bind("", "", &[], &text_params(), &[fmt]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
            )
            .check(Check::Rows(1))
            .check(Check::Contains("9223372036854775807".into()))
            .text_only(fmt == 0),
        );
    }

    // Mixed per-parameter formats, NULL parameters, per-column result formats.
    let mut mixed = binary_params();
    mixed[2] = b("plain text");
    mixed[3] = None;
    mixed[5] = None;
    out.push(
        Scenario::new(
            "mixed_param_and_result_formats",
            batch(
                &[
                    parse("", TYPED_SQL, &types),
                    bind(
                        "",
                        "",
                        &[1, 1, 0, 1, 1, 0],
                        &mixed,
                        &[0, 1, 0, 1, 1, 0, 1, 0, 1],
                    ),
                    describe(b'P', ""),
                    execute("", 0),
                    sync(),
                ],
                1,
            ),
        )
        .check(Check::Rows(1))
        .check(Check::Contains("plain text".into())),
    );

    // Untyped parameters: the server infers types; Describe statement before Bind.
    out.push(
        Scenario::new(
            "describe_unnamed_before_bind",
            batch(
                &[
                    parse(
                        "",
                        "SELECT $1 + 1 AS n, $2 || 'x' AS s, $3::numeric * 2 AS m",
                        &[0, 0, 0],
                    ),
                    describe(b'S', ""),
                    bind("", "", &[], &[b("41"), b("ab"), b("1.25")], &[]),
                    describe(b'P', ""),
                    execute("", 0),
                    sync(),
                ],
                1,
            ),
        )
        .check(Check::Has(b't'))
        .check(Check::Contains("42".into())),
    );

    // Named statement described in its own Sync, then bound into a named portal.
    out.push(
        Scenario::new(
            "describe_named_statement_then_portal",
            [
                batch(&[parse("s1", &sq("SELECT id, name, price, feeling FROM @schema@.items WHERE id > $1 ORDER BY id"), &[INT4]), describe(b'S', "s1"), sync()], 1),
                batch(
                    &[
                        bind("p1", "s1", &[1], &[b(1i32.to_be_bytes())], &[1, 0, 1, 0]),
                        describe(b'P', "p1"),
                        execute("p1", 0),
                        close(b'P', "p1"),
                        close(b'S', "s1"),
                        sync(),
                    ],
                    1,
                ),
            ]
            .concat(),
        )
        .check(Check::Rows(3))
        .check(Check::Has(b'3'))
        .check(Check::Status("II".into())),
    );

    // NoData for a statement without rows; EmptyQueryResponse from an empty Parse.
    out.push(
        Scenario::new(
            "describe_nodata_and_empty",
            batch(
                &[
                    parse("", "DO $$ BEGIN RAISE NOTICE 'from do'; END $$", &[]),
                    describe(b'S', ""),
                    bind("", "", &[], &[], &[]),
                    describe(b'P', ""),
                    execute("", 0),
                    parse("", "", &[]),
                    bind("", "", &[], &[], &[]),
                    describe(b'P', ""),
                    execute("", 0),
                    sync(),
                ],
                1,
            ),
        )
        .check(Check::Has(b'n'))
        .check(Check::Has(b'I'))
        .check(Check::Notice("00000".into())),
    );

    // Execute with max_rows: PortalSuspended, then continue, then the rest.
    out.push(
        Scenario::new(
            "partial_execute_unnamed",
            batch(
                &[
                    parse(
                        "",
                        "SELECT g, g::text AS t FROM generate_series(1, 10) g",
                        &[],
                    ),
                    bind("", "", &[], &[], &[1]),
                    execute("", 3),
                    execute("", 3),
                    execute("", 0),
                    sync(),
                ],
                1,
            ),
        )
        .check(Check::Rows(10))
        .check(Check::Has(b's')),
    );

    // A named portal in a transaction, fetched across several Syncs; exact-size last fetch.
    out.push(
        Scenario::new(
            "partial_execute_named_across_syncs",
            [
                vec![Step::Send(query("BEGIN")), Step::Until(1)],
                batch(
                    &[
                        parse("cur", "SELECT g FROM generate_series(1, 6) g", &[]),
                        bind("pc", "cur", &[], &[], &[1]),
                        execute("pc", 2),
                        sync(),
                    ],
                    1,
                ),
                batch(&[execute("pc", 2), sync()], 1),
                batch(&[execute("pc", 2), sync()], 1),
                batch(&[execute("pc", 2), close(b'P', "pc"), sync()], 1),
                vec![Step::Send(query("COMMIT")), Step::Until(1)],
            ]
            .concat(),
        )
        .check(Check::Rows(6))
        .check(Check::Has(b's'))
        .check(Check::Status("TTTTTI".into())),
    );

    // Flush makes the server send what it has without a Sync.
    out.push(
        Scenario::new(
            "flush_before_sync",
            vec![
                Step::Send(cat(&[
                    parse("f", "SELECT 1 AS one, 'flushed' AS s", &[]),
                    bind("", "f", &[], &[], &[]),
                    execute("", 0),
                    flush(),
                ])),
                Step::Read(4),
                Step::Send(cat(&[describe(b'S', "f"), flush()])),
                Step::Read(2),
                Step::Send(sync()),
                Step::Until(1),
            ],
        )
        .check(Check::Rows(1))
        .check(Check::Contains("flushed".into())),
    );

    // A pipeline of several statements before one Sync.
    out.push(
        Scenario::new(
            "pipeline_batch",
            batch(
                &[
                    parse("a", "SELECT $1::int4 * 2 AS doubled", &[INT4]),
                    parse("b", "SELECT $1::text || '!' AS shout", &[TEXT]),
                    bind("", "a", &[1], &[b(21i32.to_be_bytes())], &[0]),
                    execute("", 0),
                    bind("", "b", &[0], &[b("hey")], &[0]),
                    execute("", 0),
                    bind("pa", "a", &[0], &[b("50")], &[1]),
                    bind("pb", "b", &[1], &[b("bin")], &[1]),
                    execute("pb", 0),
                    execute("pa", 0),
                    parse("", &sq("SELECT count(*) FROM @schema@.items"), &[]),
                    bind("", "", &[], &[], &[]),
                    execute("", 0),
                    sync(),
                ],
                1,
            ),
        )
        .check(Check::Rows(5))
        .check(Check::Contains("hey!".into())),
    );

    // A parse error in the middle of a pipeline: everything until Sync is skipped.
    out.push(
        Scenario::new(
            "pipeline_parse_error",
            [
                batch(
                    &[
                        parse("", "SELECT 1 AS ok", &[]),
                        bind("", "", &[], &[], &[]),
                        execute("", 0),
                        parse("", "SELEC oops", &[]),
                        bind("", "", &[], &[], &[]),
                        execute("", 0),
                        parse("", "SELECT 2 AS skipped", &[]),
                        bind("", "", &[], &[], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
                batch(
                    &[
                        parse("", "SELECT 3 AS recovered", &[]),
                        bind("", "", &[], &[], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
            ]
            .concat(),
        )
        .check(Check::Error("42601".into()))
        .check(Check::Rows(2))
        .check(Check::Status("II".into())),
    );

    // A run-time error inside an explicit transaction pipeline, then recovery.
    out.push(
        Scenario::new(
            "pipeline_execute_error_in_transaction",
            [
                batch(
                    &[
                        parse("", "BEGIN", &[]),
                        bind("", "", &[], &[], &[]),
                        execute("", 0),
                        parse("div", "SELECT 10 / $1::int4 AS q", &[INT4]),
                        bind("", "div", &[1], &[b(2i32.to_be_bytes())], &[]),
                        execute("", 0),
                        bind("", "div", &[1], &[b(0i32.to_be_bytes())], &[]),
                        execute("", 0),
                        bind("", "div", &[1], &[b(5i32.to_be_bytes())], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
                batch(
                    &[
                        bind("", "div", &[0], &[b("1")], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
                vec![Step::Send(query("ROLLBACK")), Step::Until(1)],
                batch(
                    &[
                        bind("", "div", &[0], &[b("1")], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
            ]
            .concat(),
        )
        .check(Check::Error("22012".into()))
        .check(Check::Error("25P02".into()))
        .check(Check::Rows(2))
        .check(Check::Status("EEII".into())),
    );

    // One prepared statement bound and executed across several Syncs, then closed and reused.
    let mut reuse = vec![
        Step::Send(cat(&[
            parse(
                "ps",
                "SELECT $1::int8 * 3 AS tripled, $2::text AS label",
                &[INT8, TEXT],
            ),
            sync(),
        ])),
        Step::Until(1),
    ];
    for (i, v) in [1i64, -7, i64::MAX / 3].into_iter().enumerate() {
        let fmt = (i % 2) as i16;
        reuse.extend(batch(
            &[
                bind(
                    "",
                    "ps",
                    &[1, 0],
                    &[b(v.to_be_bytes()), b(format!("run {i}"))],
                    &[fmt],
                ),
                execute("", 0),
                sync(),
            ],
            1,
        ));
    }
    reuse.extend(batch(&[close(b'S', "ps"), sync()], 1));
    reuse.extend(batch(
        &[
            bind("", "ps", &[], &[b("1"), b("x")], &[]),
            execute("", 0),
            sync(),
        ],
        1,
    ));
    out.push(
        Scenario::new("prepared_reused_across_syncs", reuse)
            .check(Check::Rows(3))
            .check(Check::Error("26000".into()))
            .check(Check::Has(b'3')),
    );

    // Protocol-level errors the server reports: wrong parameter count, bad binary value,
    // duplicate statement name, unknown portal.
    out.push(
        Scenario::new(
            "bind_errors",
            [
                batch(
                    &[
                        parse("", "SELECT $1::int4", &[INT4]),
                        bind("", "", &[], &[], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
                batch(
                    &[
                        parse("", "SELECT $1::int4", &[INT4]),
                        bind("", "", &[1], &[b([0u8, 0, 0, 1, 2])], &[]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
                batch(
                    &[
                        parse("dup", "SELECT 1", &[]),
                        parse("dup", "SELECT 2", &[]),
                        sync(),
                    ],
                    1,
                ),
                batch(&[execute("no_such_portal", 0), sync()], 1),
                batch(&[describe(b'S', "no_such_statement"), sync()], 1),
            ]
            .concat(),
        )
        .check(Check::Error("08P01".into()))
        .check(Check::Error("22P03".into()))
        .check(Check::Error("42P05".into()))
        .check(Check::Error("34000".into()))
        .check(Check::Error("26000".into()))
        .check(Check::Status("IIIII".into())),
    );

    // COPY TO STDOUT and a data-modifying statement through the extended protocol.
    out.push(
        Scenario::new(
            "extended_copy_and_dml",
            [
                batch(&[parse("", &sq("COPY (SELECT id, name FROM @schema@.items ORDER BY id) TO STDOUT WITH (FORMAT csv)"), &[]), bind("", "", &[], &[], &[]), execute("", 0), sync()], 1),
                vec![Step::Send(query("BEGIN")), Step::Until(1)],
                batch(
                    &[
                        parse("ins", &sq("INSERT INTO @schema@.scratch VALUES ($1, $2) RETURNING id, note"), &[INT4, TEXT]),
                        bind("", "ins", &[1, 1], &[b(5i32.to_be_bytes()), b("five")], &[1]),
                        execute("", 0),
                        bind("", "ins", &[0, 0], &[b("6"), None], &[0]),
                        execute("", 0),
                        sync(),
                    ],
                    1,
                ),
                vec![Step::Send(query("ROLLBACK")), Step::Until(1)],
            ]
            .concat(),
        )
        .check(Check::Has(b'H'))
        .check(Check::Has(b'd'))
        .check(Check::Rows(2))
        .check(Check::Contains("INSERT 0 1".into())),
    );

    // Extended and simple protocol interleaved; notices inside the extended flow.
    out.push(
        Scenario::new(
            "interleaved_simple_and_extended",
            [
                batch(&[parse("n", "SELECT $1::text AS v", &[TEXT]), sync()], 1),
                vec![Step::Send(query("SET TimeZone = 'Asia/Kathmandu'; SELECT '2020-01-01 00:00+00'::timestamptz AS ts")), Step::Until(1)],
                batch(&[bind("", "n", &[], &[b("after simple")], &[]), execute("", 0), sync()], 1),
                batch(&[parse("", "SELECT '2020-06-01 12:00+00'::timestamptz AS ts", &[]), bind("", "", &[], &[], &[1]), execute("", 0), sync()], 1),
            ]
            .concat(),
        )
        .check(Check::Rows(3))
        .check(Check::Has(b'S'))
        .check(Check::Contains("after simple".into())),
    );

    out
}
