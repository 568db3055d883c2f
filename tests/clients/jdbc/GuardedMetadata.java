import java.sql.*;
import java.util.*;

/** DatabaseMetaData as a guarded role sees it: prints tables, columns and a filtered count. */
public class GuardedMetadata {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0])) {
            DatabaseMetaData md = c.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "retail", "%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            System.out.println("tables: " + String.join(",", tables));
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "retail", "employees", "%")) {
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
            }
            System.out.println("employees columns: " + String.join(",", cols));
            try (ResultSet rs = md.getPrimaryKeys(null, "retail", "stores")) {
                while (rs.next()) System.out.println("stores pk: " + rs.getString("COLUMN_NAME"));
            }
            List<String> fks = new ArrayList<>();
            try (ResultSet rs = md.getImportedKeys(null, "retail", "orders")) {
                while (rs.next()) fks.add(rs.getString("FKCOLUMN_NAME") + "->" + rs.getString("PKTABLE_NAME"));
            }
            Collections.sort(fks);
            System.out.println("orders fks: " + String.join(",", fks));
            int indexes = 0;
            try (ResultSet rs = md.getIndexInfo(null, "retail", "employees", false, false)) {
                while (rs.next()) indexes++;
            }
            System.out.println("employees indexes: " + indexes);
            try (ResultSet rs = md.getSchemas()) {
                List<String> schemas = new ArrayList<>();
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
                System.out.println("schemas: " + String.join(",", schemas));
            }
            for (int i = 0; i < 3; i++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM retail.stores WHERE store_id > ?")) {
                    ps.setInt(1, 0);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (i == 2) System.out.println("stores rows: " + rs.getLong(1));
                    }
                }
            }
        }
    }
}
