// SCRAM-SHA-256 logins through the Querent proxy with pgjdbc (its own SCRAM code), on plain
// TCP and on TLS verified against the test CA.
//   java -cp /usr/share/java/postgresql.jar tests/clients/jdbc/ScramLoginTest.java PORT USER PASSWORD CA_PEM
// The proxy must run with --auth scram and TLS. Exits non-zero naming the first mismatch.

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

public class ScramLoginTest {
    public static void main(String[] a) {
        String port = a[0], user = a[1], password = a[2], ca = a[3];
        try {
            for (String label : new String[] {"plain", "tls"}) {
                String url = "jdbc:postgresql://localhost:" + port + "/test?connectTimeout=10"
                        + (label.equals("tls") ? "&sslmode=verify-full&sslrootcert=" + ca : "&sslmode=disable");
                Properties p = new Properties();
                p.setProperty("user", user);
                p.setProperty("password", password);
                try (Connection c = DriverManager.getConnection(url, p);
                        ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
                    rs.next();
                    if (!rs.getString(1).equals("root")) throw new IllegalStateException(label + ": current_user " + rs.getString(1));
                }
                expect(url, user, "wrong-" + password, "28P01", label);
                expect(url, "nosuch_" + port, password, "28P01", label);
                System.out.println("ok - pgjdbc SCRAM over " + label + ": right password works, 28P01 for a wrong password or an unknown user");
            }
            System.out.println("scram pgjdbc: all checks passed");
        } catch (Exception e) {
            e.printStackTrace();
            System.err.println("FAIL [scram pgjdbc]: " + e);
            System.exit(1);
        }
    }

    static void expect(String url, String user, String password, String state, String label) {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        try (Connection c = DriverManager.getConnection(url, p)) {
            throw new IllegalStateException(label + ": login as " + user + " succeeded");
        } catch (SQLException e) {
            if (!state.equals(e.getSQLState())) {
                throw new IllegalStateException(label + ": login as " + user + " gave SQLSTATE " + e.getSQLState() + " (" + e.getMessage() + "), want " + state);
            }
        }
    }
}
