// pgjdbc against the Querent proxy, checked against exact values and against PostgreSQL
// directly. Single-file program (no build):
//
//   java -cp /usr/share/java/postgresql.jar tests/clients/jdbc/JdbcClientTest.java PROXY_PORT [DIRECT_URL]
//
// PROXY_PORT may also be given as env QUERENT_PORT; DIRECT_URL defaults to
// jdbc:postgresql://127.0.0.1:5432/test?user=root. Exits non-zero with a message naming the
// first mismatch.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

public class JdbcClientTest {
    static String proxyUrl;
    static String directUrl;
    static String schema;

    static final class Mismatch extends RuntimeException {
        Mismatch(String m) {
            super(m);
        }
    }

    static void check(boolean cond, String what) {
        if (!cond) throw new Mismatch(what);
    }

    static void eq(Object got, Object want, String what) {
        boolean same = (got instanceof byte[] && want instanceof byte[])
                ? Arrays.equals((byte[]) got, (byte[]) want)
                : Objects.equals(got, want);
        if (!same) {
            throw new Mismatch(what + ": got " + show(got) + ", want " + show(want));
        }
    }

    static String show(Object o) {
        if (o instanceof byte[]) return Arrays.toString((byte[]) o);
        return o == null ? "null" : o + " (" + o.getClass().getSimpleName() + ")";
    }

    static void ok(String m) {
        System.out.println("ok - " + m);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        String port = args.length > 0 ? args[0] : System.getenv("QUERENT_PORT");
        if (port == null || port.isEmpty()) {
            System.err.println("usage: JdbcClientTest.java PROXY_PORT [DIRECT_URL] (or QUERENT_PORT)");
            System.exit(2);
        }
        proxyUrl = "jdbc:postgresql://127.0.0.1:" + port + "/test?user=root&prepareThreshold=1&connectTimeout=10&socketTimeout=60";
        directUrl = args.length > 1 ? args[1] : "jdbc:postgresql://127.0.0.1:5432/test?user=root";
        schema = "querent_jdbc_" + port;
        try (Connection direct = DriverManager.getConnection(directUrl)) {
            try (Statement s = direct.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                s.execute("CREATE SCHEMA " + schema);
                s.execute("CREATE TABLE " + schema + ".gadgets (id int PRIMARY KEY, name varchar(40) NOT NULL,"
                        + " price numeric(10,2), made timestamptz, tag uuid, blob bytea, ok boolean DEFAULT true)");
                s.execute("COMMENT ON TABLE " + schema + ".gadgets IS 'jdbc gadgets'");
            }
            try (Connection c = DriverManager.getConnection(proxyUrl)) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET TIME ZONE 'UTC'");
                }
                preparedTyped(c);
                fetchSize(c);
                batch(c);
                metadata(c, direct);
                sqlState(c);
            } finally {
                try (Statement s = direct.createStatement()) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                }
            }
            System.out.println("pgjdbc: all checks passed");
        } catch (Mismatch e) {
            System.err.println("FAIL [pgjdbc]: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
        } catch (Throwable e) {
            e.printStackTrace();
            System.err.println("FAIL [pgjdbc]: unexpected " + e);
            System.exit(1);
        }
    }

    /** prepareThreshold=1: after the first execution the driver uses a named server-side
     *  statement with binary results; typed getters must give exact values every time. */
    static void preparedTyped(Connection c) throws SQLException {
        String sql = "SELECT ?::int4 AS i, ?::int8 AS l, ?::numeric AS n, ?::float8 AS d, ?::bool AS b, ?::text AS s,"
                + " ?::bytea AS by, ?::date AS dt, ?::timestamp AS ts, ?::uuid AS u, ?::int2 AS sm, ?::float4 AS f,"
                + " NULL::int4 AS nul, ?::int4 + 1 AS i1";
        UUID uuid = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int k = 0; k < 200; k++) {
                int i = k % 2 == 0 ? -2147483648 + k : 2147483647 - k;
                long l = k % 3 == 0 ? Long.MAX_VALUE - k : Long.MIN_VALUE + k;
                BigDecimal n = new BigDecimal("-12345678901234567890.0001234567" + (k % 10));
                double d = k == 0 ? 0.1 : Math.PI * k;
                boolean b = k % 2 == 1;
                String s = "héllo ☃ " + k + (k % 5 == 0 ? "" : " 'q' \"dq\" \\");
                byte[] by = new byte[] {0, (byte) 255, (byte) k, 16, (byte) 222};
                Date dt = Date.valueOf("2024-02-29");
                Timestamp ts = Timestamp.valueOf("2024-03-10 12:34:56.789012");
                ps.setInt(1, i);
                ps.setLong(2, l);
                ps.setBigDecimal(3, n);
                ps.setDouble(4, d);
                ps.setBoolean(5, b);
                ps.setString(6, s);
                ps.setBytes(7, by);
                ps.setDate(8, dt);
                ps.setTimestamp(9, ts);
                ps.setObject(10, uuid);
                ps.setShort(11, (short) -32768);
                ps.setFloat(12, 1.5f);
                ps.setInt(13, k);
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "no row at execution " + k);
                    String at = " (execution " + k + ")";
                    eq(rs.getInt("i"), i, "getInt" + at);
                    eq(rs.getLong("l"), l, "getLong" + at);
                    eq(rs.getBigDecimal("n"), n, "getBigDecimal" + at);
                    eq(rs.getDouble("d"), d, "getDouble" + at);
                    eq(rs.getBoolean("b"), b, "getBoolean" + at);
                    eq(rs.getString("s"), s, "getString" + at);
                    eq(rs.getBytes("by"), by, "getBytes" + at);
                    eq(rs.getDate("dt"), dt, "getDate" + at);
                    eq(rs.getTimestamp("ts"), ts, "getTimestamp" + at);
                    eq(rs.getObject("u"), uuid, "getObject(uuid)" + at);
                    eq(rs.getObject("u", UUID.class), uuid, "getObject(uuid, UUID.class)" + at);
                    eq(rs.getShort("sm"), (short) -32768, "getShort" + at);
                    eq(rs.getFloat("f"), 1.5f, "getFloat" + at);
                    eq(rs.getInt("nul"), 0, "getInt of NULL" + at);
                    check(rs.wasNull(), "wasNull after NULL" + at);
                    eq(rs.getObject("nul"), null, "getObject of NULL" + at);
                    eq(rs.getInt("i1"), k + 1, "getInt(i1)" + at);
                    check(!rs.next(), "more than one row" + at);
                }
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'S\\_%' AND statement LIKE 'SELECT $1::int4 AS i,%'")) {
            rs.next();
            eq(rs.getLong(1), 1L, "named server-side statements for the typed query");
        }
        // A second statement object for the same SQL reuses the cached server statement.
        for (int k = 0; k < 50; k++) {
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int8 * 2, ?::text || 'x'")) {
                ps.setLong(1, k);
                ps.setString(2, "v" + k);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    eq(rs.getLong(1), 2L * k, "cached statement long " + k);
                    eq(rs.getString(2), "v" + k + "x", "cached statement text " + k);
                }
            }
        }
        ok("prepareThreshold=1: 200 executions with 13 typed getters exact (named binary statement), 50 cached re-prepares");
    }

    /** setFetchSize inside a transaction: Execute with max_rows, PortalSuspended, more Executes. */
    static void fetchSize(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT g, md5(g::text) AS h, g::numeric / 4 AS q FROM generate_series(1, ?) g ORDER BY g")) {
                ps.setFetchSize(10);
                ps.setInt(1, 1000);
                for (int round = 0; round < 3; round++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                            eq(rs.getInt(1), n, "row order with fetchSize 10 (round " + round + ")");
                            eq(rs.getBigDecimal(3), new BigDecimal(n).divide(new BigDecimal(4)).setScale(rs.getBigDecimal(3).scale()),
                                    "numeric with fetchSize 10");
                            if (n == 1) eq(rs.getString(2), "c4ca4238a0b923820dcc509a6f75849b", "md5(1)");
                            if (n == 15) {
                                // The portal is suspended between fetches: it is visible as an open cursor.
                                try (Statement s = c.createStatement();
                                        ResultSet cr = s.executeQuery("SELECT count(*) FROM pg_cursors WHERE name LIKE 'C\\_%'")) {
                                    cr.next();
                                    check(cr.getLong(1) >= 1, "no suspended portal (C_n) open while fetching in batches of 10");
                                }
                            }
                        }
                        eq(n, 1000, "rows with fetchSize 10 (round " + round + ")");
                    }
                }
            }
            // Two interleaved portals.
            try (Statement a = c.createStatement(); Statement b = c.createStatement()) {
                a.setFetchSize(7);
                b.setFetchSize(3);
                try (ResultSet ra = a.executeQuery("SELECT g FROM generate_series(1, 100) g");
                        ResultSet rb = b.executeQuery("SELECT -g FROM generate_series(1, 100) g")) {
                    for (int i = 1; i <= 100; i++) {
                        check(ra.next() && rb.next(), "interleaved portals ended early at " + i);
                        eq(ra.getInt(1), i, "portal a");
                        eq(rb.getInt(1), -i, "portal b");
                    }
                    check(!ra.next() && !rb.next(), "interleaved portals too long");
                }
            }
            c.commit();
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
        ok("setFetchSize(10) in a transaction over 1000 rows x3 (suspended portal seen in pg_cursors), two interleaved portals");
    }

    static void batch(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE jdbc_batch (id int PRIMARY KEY, v text, n numeric, t timestamp)");
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_batch VALUES (?, ?, ?, ?)")) {
            for (int i = 0; i < 1000; i++) {
                ps.setInt(1, i);
                ps.setString(2, "row " + i);
                ps.setBigDecimal(3, new BigDecimal(i).movePointLeft(2));
                ps.setTimestamp(4, Timestamp.valueOf("2020-01-01 00:00:00"));
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            eq(counts.length, 1000, "batch update count length");
            for (int i = 0; i < counts.length; i++) eq(counts[i], 1, "batch update count " + i);
        }
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), sum(id), sum(n), max(v) FROM jdbc_batch")) {
            rs.next();
            eq(rs.getLong(1), 1000L, "batch rows");
            eq(rs.getLong(2), 499500L, "batch sum(id)");
            eq(rs.getBigDecimal(3), new BigDecimal("4995.00"), "batch sum(n)");
            eq(rs.getString(4), "row 999", "batch max(v)");
        }
        // A failing batch reports the error's SQLSTATE.
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_batch VALUES (?, 'x', 0, NULL)")) {
            ps.setInt(1, 5000);
            ps.addBatch();
            ps.setInt(1, 5);
            ps.addBatch();
            ps.executeBatch();
            throw new Mismatch("batch with a duplicate key succeeded");
        } catch (java.sql.BatchUpdateException e) {
            eq(e.getSQLState(), "23505", "batch duplicate SQLSTATE");
        }
        ok("batch insert of 1000 rows into a temp table (update counts, sums), failing batch 23505");
    }

    static List<String> rows(ResultSet rs, String... cols) throws SQLException {
        List<String> out = new ArrayList<>();
        while (rs.next()) {
            StringBuilder sb = new StringBuilder();
            for (String col : cols) sb.append(col).append('=').append(rs.getString(col)).append(' ');
            out.add(sb.toString().trim());
        }
        rs.close();
        return out;
    }

    static void metadata(Connection c, Connection direct) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        DatabaseMetaData dmd = direct.getMetaData();
        check(md.getDatabaseProductVersion().startsWith("15."), "product version " + md.getDatabaseProductVersion());
        String[] tcols = {"TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS"};
        List<String> tables = rows(md.getTables(null, schema, "%", new String[] {"TABLE"}), tcols);
        eq(tables, List.of("TABLE_SCHEM=" + schema + " TABLE_NAME=gadgets TABLE_TYPE=TABLE REMARKS=jdbc gadgets"), "getTables");
        eq(tables, rows(dmd.getTables(null, schema, "%", new String[] {"TABLE"}), tcols), "getTables proxy vs direct");
        String[] ccols = {"COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS", "NULLABLE", "COLUMN_DEF", "ORDINAL_POSITION"};
        List<String> columns = rows(md.getColumns(null, schema, "gadgets", "%"), ccols);
        eq(columns.size(), 7, "getColumns count: " + columns);
        eq(columns.get(1), "COLUMN_NAME=name DATA_TYPE=12 TYPE_NAME=varchar COLUMN_SIZE=40 DECIMAL_DIGITS=0 NULLABLE=0 COLUMN_DEF=null ORDINAL_POSITION=2", "getColumns name");
        eq(columns.get(2), "COLUMN_NAME=price DATA_TYPE=2 TYPE_NAME=numeric COLUMN_SIZE=10 DECIMAL_DIGITS=2 NULLABLE=1 COLUMN_DEF=null ORDINAL_POSITION=3", "getColumns price");
        eq(columns, rows(dmd.getColumns(null, schema, "gadgets", "%"), ccols), "getColumns proxy vs direct");
        List<String> pk = rows(md.getPrimaryKeys(null, schema, "gadgets"), "COLUMN_NAME", "KEY_SEQ");
        eq(pk, List.of("COLUMN_NAME=id KEY_SEQ=1"), "getPrimaryKeys");
        ok("DatabaseMetaData getTables/getColumns/getPrimaryKeys exact and equal to direct");
    }

    static void sqlState(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1/0");
            throw new Mismatch("division by zero did not throw");
        } catch (SQLException e) {
            eq(e.getSQLState(), "22012", "simple-query division by zero SQLSTATE");
            check(e.getMessage().contains("division by zero"), "message " + e.getMessage());
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT ?::int / ?::int")) {
            for (int k = 0; k < 3; k++) { // also once it is a named server-side statement
                ps.setInt(1, 1);
                ps.setInt(2, k == 2 ? 0 : 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    check(k < 2, "prepared division by zero did not throw");
                    eq(rs.getInt(1), 1, "1/1");
                } catch (SQLException e) {
                    check(k == 2, "unexpected error " + e);
                    eq(e.getSQLState(), "22012", "prepared division by zero SQLSTATE");
                }
            }
        }
        try (Statement s = c.createStatement()) {
            s.executeQuery("SELECT * FROM querent_no_such_table_xyz");
            throw new Mismatch("undefined table did not throw");
        } catch (SQLException e) {
            eq(e.getSQLState(), "42P01", "undefined table SQLSTATE");
        }
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            try {
                s.execute("SELECT 1/0");
            } catch (SQLException e) {
                eq(e.getSQLState(), "22012", "in-transaction error");
            }
            try {
                s.execute("SELECT 1");
                throw new Mismatch("statement in an aborted transaction did not throw");
            } catch (SQLException e) {
                eq(e.getSQLState(), "25P02", "aborted transaction SQLSTATE");
            }
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT 'usable'")) {
                rs.next();
                eq(rs.getString(1), "usable", "after rollback");
            }
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        ok("SQLException.getSQLState: 22012 (simple and named prepared), 42P01, 25P02 in an aborted transaction");
    }
}
