//! Catalog relations for guarded roles: BI tools introspect through pg_catalog and
//! information_schema, and the upstream login sees everything there. Each catalog relation is
//! open (no user data), filtered to the relations and columns the role may read, or refused.
//! Anything not listed is refused (fail closed).

/// What a guarded role gets from one catalog relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogRule {
    /// Readable as is.
    Open,
    /// Readable through this filter (placeholders filled per session).
    Filter(&'static str),
    /// Refused.
    Deny,
}

const VISIBLE: &str = "(SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relnamespace IN {sys} OR c.oid = ANY({rels}) \
    OR c.oid IN (SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid = ANY({rels})))";

/// The rule for `pg_catalog.NAME` or `information_schema.NAME`.
pub fn rule(schema: &str, name: &str) -> CatalogRule {
    use CatalogRule::*;
    if schema == "information_schema" {
        return match name {
            "tables" | "views" | "table_constraints" | "constraint_table_usage" | "table_privileges" => {
                Filter("table_schema IN ('pg_catalog','information_schema') OR (table_schema, table_name) IN ({pairs})")
            }
            "columns" | "key_column_usage" | "column_privileges" | "column_udt_usage" | "constraint_column_usage" => Filter(
                "(table_schema IN ('pg_catalog','information_schema') OR (table_schema, table_name) IN ({pairs})) \
                 AND (table_schema, table_name, column_name) NOT IN ({hidden})",
            ),
            "triggers" => Filter("(event_object_schema, event_object_table) IN ({pairs})"),
            "view_table_usage" | "view_column_usage" => Filter("(view_schema, view_name) IN ({pairs}) AND (table_schema, table_name) IN ({pairs})"),
            "schemata" | "referential_constraints" | "check_constraints" | "domains" | "routines" | "parameters"
            | "element_types" | "character_sets" | "collations" | "attributes" | "user_defined_types" | "enabled_roles"
            | "applicable_roles" | "information_schema_catalog_name" | "data_type_privileges" | "domain_constraints"
            | "sql_features" | "sql_implementation_info" | "sql_parts" | "sql_sizing" => Open,
            _ => Deny,
        };
    }
    match name {
        "pg_class" => Filter("relnamespace IN {sys} OR oid = ANY({rels}) OR oid IN (SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid = ANY({rels}))"),
        "pg_attribute" => Filter("attrelid IN {visible} AND (attrelid, attname) NOT IN ({hidden_attrs})"),
        "pg_attrdef" => Filter("adrelid IN {visible}"),
        "pg_namespace" => Filter("oid IN {sys} OR nspname LIKE 'pg\\_%' OR oid IN (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = ANY({rels}))"),
        "pg_index" => Filter("indrelid IN {visible}"),
        "pg_constraint" => Filter("conrelid = 0 OR conrelid IN {visible}"),
        "pg_description" => Filter("classoid <> 'pg_catalog.pg_class'::pg_catalog.regclass OR objoid IN {visible}"),
        "pg_trigger" => Filter("tgrelid IN {visible}"),
        "pg_rewrite" => Filter("ev_class IN {visible}"),
        "pg_policy" => Filter("polrelid IN {visible}"),
        "pg_inherits" => Filter("inhrelid IN {visible}"),
        "pg_partitioned_table" => Filter("partrelid IN {visible}"),
        "pg_statistic_ext" => Filter("stxrelid IN {visible}"),
        "pg_publication_rel" => Filter("prrelid IN {visible}"),
        "pg_foreign_table" => Filter("ftrelid IN {visible}"),
        "pg_depend" => Filter("(classid <> 'pg_catalog.pg_class'::pg_catalog.regclass OR objid IN {visible}) AND (refclassid <> 'pg_catalog.pg_class'::pg_catalog.regclass OR refobjid IN {visible})"),
        "pg_tables" => Filter("schemaname IN ('pg_catalog','information_schema') OR (schemaname, tablename) IN ({pairs})"),
        "pg_views" => Filter("schemaname IN ('pg_catalog','information_schema') OR (schemaname, viewname) IN ({pairs})"),
        "pg_matviews" => Filter("(schemaname, matviewname) IN ({pairs})"),
        "pg_indexes" => Filter("schemaname IN ('pg_catalog','information_schema') OR (schemaname, tablename) IN ({pairs})"),
        // Statistics describe every row, hidden ones too: none for row-filtered tables.
        "pg_stats" => Filter("(schemaname, tablename) IN ({stat_pairs}) AND (schemaname, tablename, attname) NOT IN ({hidden_stats})"),
        "pg_stat_user_tables" | "pg_stat_all_tables" | "pg_statio_user_tables" | "pg_statio_all_tables" | "pg_stat_user_indexes"
        | "pg_stat_all_indexes" | "pg_statio_user_indexes" | "pg_statio_all_indexes" => {
            Filter("relid IN {visible} AND relid <> ALL({filtered_rels})")
        }
        // Statement texts: the session's own, but not one holding the hash mask's key.
        "pg_prepared_statements" | "pg_cursors" => Filter("true"),
        "pg_type" | "pg_proc" | "pg_am" | "pg_amop" | "pg_amproc" | "pg_opclass" | "pg_opfamily" | "pg_operator" | "pg_cast"
        | "pg_collation" | "pg_language" | "pg_database" | "pg_tablespace" | "pg_extension" | "pg_enum" | "pg_range"
        | "pg_settings" | "pg_roles" | "pg_user" | "pg_auth_members" | "pg_timezone_names" | "pg_timezone_abbrevs"
        | "pg_available_extensions" | "pg_available_extension_versions" | "pg_publication" | "pg_publication_namespace"
        | "pg_conversion" | "pg_aggregate" | "pg_ts_config" | "pg_ts_dict" | "pg_ts_parser" | "pg_ts_template"
        | "pg_ts_config_map" | "pg_foreign_data_wrapper" | "pg_transform" | "pg_event_trigger" | "pg_shdescription"
        | "pg_init_privs" | "pg_default_acl" | "pg_locks" | "pg_am_handler"
        | "pg_namespace_acl" | "pg_seclabel" | "pg_shseclabel" | "pg_group" | "pg_largeobject_metadata" | "pg_extension_config"
        | "pg_opclass_handler" | "pg_sequence" | "pg_statio_user_sequences" => Open,
        _ => Deny,
    }
}

/// Columns of a filtered catalog relation shown as an expression instead of their value:
/// counts of row-filtered tables (`{filtered_rels}`) and statement texts holding the hash
/// mask's key (`{key}`).
pub fn overrides(schema: &str, name: &str) -> &'static [(&'static str, &'static str)] {
    match (schema, name) {
        ("pg_catalog", "pg_class") => &[
            ("relpages", "CASE WHEN oid = ANY({filtered_rels}) THEN 0 ELSE relpages END"),
            ("reltuples", "CASE WHEN oid = ANY({filtered_rels}) THEN -1::pg_catalog.float4 ELSE reltuples END"),
            ("relallvisible", "CASE WHEN oid = ANY({filtered_rels}) THEN 0 ELSE relallvisible END"),
        ],
        ("pg_catalog", "pg_prepared_statements" | "pg_cursors") => &[(
            "statement",
            "CASE WHEN pg_catalog.strpos(statement, {key}) > 0 THEN '(hidden by Querent: the statement holds the hash mask key)' ELSE statement END",
        )],
        _ => &[],
    }
}

/// The placeholder `{visible}` expands to this subquery (itself using `{sys}` and `{rels}`).
pub fn visible() -> &'static str {
    VISIBLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_closed() {
        assert_eq!(rule("pg_catalog", "pg_statistic"), CatalogRule::Deny);
        assert_eq!(rule("pg_catalog", "pg_authid"), CatalogRule::Deny);
        assert_eq!(rule("pg_catalog", "pg_stat_activity"), CatalogRule::Deny);
        assert_eq!(rule("pg_catalog", "pg_something_new"), CatalogRule::Deny);
        assert_eq!(
            rule("information_schema", "something_new"),
            CatalogRule::Deny
        );
        assert_eq!(rule("pg_catalog", "pg_type"), CatalogRule::Open);
        assert!(matches!(
            rule("pg_catalog", "pg_stats"),
            CatalogRule::Filter(_)
        ));
    }
}
