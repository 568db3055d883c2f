// ask('...') as a relation through pgjdbc, checked against PostgreSQL directly: a
// PreparedStatement with a `?` outside the call whose ResultSetMetaData is read before it runs
// (Parse/Describe), prepareThreshold=1 (named server statements, binary results), setFetchSize
// in a transaction (Execute with max_rows, PortalSuspended), the wrappings Superset and Tableau
// send, a CTE, ask_followups(); and the same through preferQueryMode=simple (what Tableau's
// and DBeaver's plain Statements look like on the wire). Single-file program (no build):
//
//   java -cp /usr/share/java/postgresql.jar tests/clients/jdbc/AskRelationTest.java PORT ADMIN:PW ALICE:PW
//
// Env: QUERENT_DB (default querent_retail), PG_DIRECT_URL (default
// jdbc:postgresql://127.0.0.1:5432/<QUERENT_DB>?user=root). Prints "ok - ..." per check,
// "skip - ..." for ask_insights() while the server answers 0A000, exits non-zero on a mismatch.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

public class AskRelationTest {
    static final String Q = "revenue by region in 2024";
    static final String TRUTH_SQL = "SELECT r.name, sum(oi.quantity * oi.unit_price * (1 - oi.discount))"
            + " FROM retail.order_items oi JOIN retail.orders o ON o.order_id = oi.order_id"
            + " JOIN retail.stores s ON s.store_id = o.store_id JOIN retail.regions r ON r.region_id = s.region_id"
            + " WHERE o.status = 'completed' AND o.order_date >= DATE '2024-01-01' AND o.order_date < DATE '2025-01-01'"
            + " GROUP BY r.name";
    static final String SUPERSET = "SELECT region, revenue FROM (SELECT * FROM ask('" + Q + "')) AS virtual_table LIMIT 1000";
    static final String TABLEAU = "SELECT * FROM (SELECT * FROM ask('" + Q + "')) \"Custom SQL Query\" WHERE 1=0";
    static final String CTE = "WITH a AS (SELECT * FROM ask('" + Q + "')) "
            + "SELECT region, revenue FROM a WHERE revenue > 0 ORDER BY revenue DESC";

    static final class Mismatch extends RuntimeException {
        Mismatch(String m) {
            super(m);
        }
    }

    static void check(boolean cond, String what) {
        if (!cond) throw new Mismatch(what);
    }

    static void ok(String m) {
        System.out.println("ok - " + m);
        System.out.flush();
    }

    /** Columns are region text (VARCHAR) and revenue numeric (NUMERIC), whatever produced them. */
    static void regionRevenue(ResultSetMetaData md, String what) throws SQLException {
        check(md != null, what + ": no ResultSetMetaData");
        String got = md.getColumnCount() + ":";
        for (int i = 1; i <= md.getColumnCount(); i++) {
            got += " " + md.getColumnLabel(i) + "/" + md.getColumnTypeName(i) + "/" + md.getColumnType(i);
        }
        String want = "2: region/text/" + Types.VARCHAR + " revenue/numeric/" + Types.NUMERIC;
        check(got.equals(want), what + ": columns " + got + ", want " + want);
    }

    static Map<String, BigDecimal> rows(ResultSet rs) throws SQLException {
        Map<String, BigDecimal> m = new TreeMap<>();
        while (rs.next()) {
            check(m.put(rs.getString("region"), rs.getBigDecimal("revenue")) == null, "duplicate region");
        }
        return m;
    }

    static void same(Map<String, BigDecimal> got, Map<String, BigDecimal> want, String what) {
        check(got.equals(want), what + ": rows " + got + ", want " + want);
    }

    static void extended(Connection c, String who, Map<String, BigDecimal> truth) throws SQLException {
        // A `?` outside the call; the metadata comes from Describe, before any execution.
        String sql = "SELECT * FROM ask('" + Q + "') WHERE revenue > ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            regionRevenue(ps.getMetaData(), who + " metadata before execute");
            check(ps.getParameterMetaData().getParameterCount() == 1, who + ": parameter count");
            for (int k = 0; k < 3; k++) {
                ps.setBigDecimal(1, BigDecimal.ZERO);
                try (ResultSet rs = ps.executeQuery()) {
                    regionRevenue(rs.getMetaData(), who + " run " + k);
                    same(rows(rs), truth, who + " run " + k);
                }
            }
            ps.setBigDecimal(1, new BigDecimal("1e12"));
            try (ResultSet rs = ps.executeQuery()) {
                check(!rs.next(), who + ": revenue > 1e12 gave rows");
            }
        }
        ok(who + ": PreparedStatement with ? outside the call: metadata before execute, 4 runs");
        // setFetchSize in a transaction: Execute with max_rows 2, PortalSuspended, Execute again.
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(CTE)) {
            ps.setFetchSize(2);
            for (int k = 0; k < 2; k++) {
                List<BigDecimal> order = new ArrayList<>();
                Map<String, BigDecimal> got = new TreeMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    regionRevenue(rs.getMetaData(), who + " fetch size");
                    while (rs.next()) {
                        got.put(rs.getString(1), rs.getBigDecimal(2));
                        order.add(rs.getBigDecimal(2));
                    }
                }
                same(got, truth, who + " CTE with setFetchSize(2)");
                List<BigDecimal> sorted = new ArrayList<>(order);
                sorted.sort((a, b) -> b.compareTo(a));
                check(order.equals(sorted), who + ": CTE order " + order);
            }
        } finally {
            c.commit();
            c.setAutoCommit(true);
        }
        ok(who + ": CTE with setFetchSize(2) in a transaction, ordered by revenue");
        try (PreparedStatement ps = c.prepareStatement(SUPERSET)) {
            regionRevenue(ps.getMetaData(), who + " superset metadata");
            try (ResultSet rs = ps.executeQuery()) {
                same(rows(rs), truth, who + " superset");
            }
        }
        ok(who + ": Superset virtual_table");
    }

    static void anyMode(Connection c, String who, Map<String, BigDecimal> truth, List<String> forbidden) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT * FROM ask('" + Q + "')")) {
                regionRevenue(rs.getMetaData(), who + " SELECT * FROM ask()");
                same(rows(rs), truth, who + " SELECT * FROM ask()");
            }
            ok(who + ": SELECT * FROM ask() -> " + truth.size() + " rows");
            try (ResultSet rs = s.executeQuery(TABLEAU)) {
                regionRevenue(rs.getMetaData(), who + " tableau");
                check(!rs.next(), who + ": Tableau WHERE 1=0 returned rows");
            }
            ok(who + ": Tableau WHERE 1=0 -> no rows, columns region/revenue");
            List<String> questions = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT * FROM ask_followups('" + Q + "')")) {
                ResultSetMetaData md = rs.getMetaData();
                String cols = md.getColumnLabel(1) + "/" + md.getColumnTypeName(1) + " "
                        + md.getColumnLabel(2) + "/" + md.getColumnTypeName(2);
                check(md.getColumnCount() == 2 && cols.equals("question/text kind/text"), who + ": ask_followups " + cols);
                while (rs.next()) questions.add(rs.getString("question"));
            }
            check(questions.size() >= 2 && questions.size() <= 3, who + ": ask_followups " + questions);
            for (String q : questions) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ask('" + q.replace("'", "''") + "')")) {
                    check(rs.next() && rs.getLong(1) > 0, who + ": follow-up " + q + " answered no rows");
                }
            }
            ok(who + ": ask_followups " + questions);
        }
        insights(c, who, forbidden);
    }

    /** ask_insights(): (kind text, text text, score float8, columns text) rows, none naming what
     *  the user may not see ({@code forbidden}). A server without it answers 0A000: a skip. */
    static void insights(Connection c, String who, List<String> forbidden) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM ask_insights('" + Q + "')")) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> names = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) names.add(md.getColumnLabel(i) + "/" + md.getColumnTypeName(i));
            check(names.equals(List.of("kind/text", "text/text", "score/float8", "columns/text")), who + ": ask_insights columns " + names);
            int n = 0;
            while (rs.next()) {
                n++;
                String text = rs.getString("text");
                check(rs.getString("kind") != null && text != null, who + ": ask_insights row without kind/text");
                check(rs.getObject("score") instanceof Double, who + ": score " + rs.getObject("score"));
                for (String word : forbidden) {
                    check(!text.contains(word), who + ": ask_insights text names " + word + ": " + text);
                }
            }
            check(n >= 1, who + ": ask_insights gave no rows");
            ok(who + ": ask_insights " + n + " rows " + names);
        } catch (SQLException e) {
            if (!"0A000".equals(e.getSQLState())) throw e;
            System.out.println("skip - " + who + ": ask_insights() answers 0A000 (" + e.getMessage().split("\n")[0] + ")");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: AskRelationTest.java PORT ADMIN:PASSWORD ALICE:PASSWORD");
            System.exit(2);
        }
        String db = System.getenv().getOrDefault("QUERENT_DB", "querent_retail");
        String direct = System.getenv().getOrDefault("PG_DIRECT_URL", "jdbc:postgresql://127.0.0.1:5432/" + db + "?user=root");
        try {
            Map<String, BigDecimal> truth;
            try (Connection d = DriverManager.getConnection(direct);
                    Statement s = d.createStatement();
                    ResultSet rs = s.executeQuery(TRUTH_SQL)) {
                truth = new TreeMap<>();
                while (rs.next()) truth.put(rs.getString(1), rs.getBigDecimal(2));
            }
            check(truth.size() == 5, "direct: " + truth.size() + " regions in 2024, want 5");
            System.out.println("truth " + truth);
            Map<String, BigDecimal> east = new TreeMap<>(Map.of("East", truth.get("East")));
            // alice's insights must not name the regions she cannot see, nor the all-region total.
            List<String> hidden = new ArrayList<>(truth.keySet());
            hidden.remove("East");
            BigDecimal total = truth.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
            hidden.add(String.format(java.util.Locale.US, "%,d", total.toBigInteger()));
            for (String[] who : new String[][] {args[1].split(":", 2), args[2].split(":", 2)}) {
                boolean admin = who[0].equals(args[1].split(":", 2)[0]);
                Map<String, BigDecimal> want = admin ? truth : east;
                List<String> forbidden = admin ? List.of() : hidden;
                String base = "jdbc:postgresql://127.0.0.1:" + args[0] + "/" + db + "?connectTimeout=10&socketTimeout=60";
                java.util.Properties props = new java.util.Properties();
                props.setProperty("user", who[0]);
                props.setProperty("password", who[1]);
                try (Connection c = DriverManager.getConnection(base + "&prepareThreshold=1", props)) {
                    String name = "pgjdbc " + who[0];
                    extended(c, name, want);
                    anyMode(c, name, want, forbidden);
                }
                try (Connection c = DriverManager.getConnection(base + "&preferQueryMode=simple", props)) {
                    anyMode(c, "pgjdbc simple " + who[0], want, forbidden);
                }
            }
            System.out.println("pgjdbc: all ask() checks passed");
        } catch (Mismatch e) {
            System.err.println("FAIL [pgjdbc ask()]: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
        }
    }
}
