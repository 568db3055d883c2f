"""SQLAlchemy 2 reflection as a guarded user, through psycopg2 and psycopg 3.

SQLAlchemy's PostgreSQL dialect reads pg_catalog with schema-qualified column references
(`pg_catalog.pg_namespace.nspname`), which must keep working after the guard replaces a
catalog relation by its filtered view. Usage:

    python3 sqlalchemy_reflection_test.py PORT USER PASSWORD DBNAME

Prints one line per check and exits non-zero on the first failure.
"""

import sys

import sqlalchemy
from sqlalchemy import inspect, text


def check(cond, what):
    if not cond:
        print(f"FAIL {what}")
        sys.exit(1)
    print(f"ok   {what}")


def reflect(driver, port, user, password, db):
    url = f"postgresql+{driver}://{user}:{password}@127.0.0.1:{port}/{db}"
    engine = sqlalchemy.create_engine(url)
    insp = inspect(engine)
    schemas = insp.get_schema_names()
    check("retail" in schemas, f"{driver}: schemas include retail ({schemas})")
    tables = insp.get_table_names(schema="retail")
    check({"stores", "orders", "employees"} <= set(tables), f"{driver}: tables of retail ({tables})")
    cols = [c["name"] for c in insp.get_columns("employees", schema="retail")]
    check("hire_date" in cols and "salary" not in cols, f"{driver}: employees columns without salary ({cols})")
    fks = insp.get_foreign_keys("orders", schema="retail")
    referred = sorted({fk["referred_table"] for fk in fks})
    check("stores" in referred, f"{driver}: foreign keys of orders ({referred})")
    pk = insp.get_pk_constraint("orders", schema="retail")
    check(pk["constrained_columns"] == ["order_id"], f"{driver}: primary key of orders ({pk})")
    idx = insp.get_indexes("orders", schema="retail")
    check(isinstance(idx, list), f"{driver}: indexes of orders ({len(idx)})")
    views = insp.get_view_names(schema="retail")
    check(isinstance(views, list), f"{driver}: views of retail ({views})")
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT pg_catalog.pg_namespace.nspname FROM pg_catalog.pg_namespace WHERE pg_catalog.pg_namespace.nspname = 'retail'")
        ).scalar()
        check(n == "retail", f"{driver}: schema-qualified catalog column ({n})")
        t = conn.execute(
            text("SELECT information_schema.tables.table_name FROM information_schema.tables WHERE information_schema.tables.table_name = 'stores'")
        ).scalar()
        check(t == "stores", f"{driver}: schema-qualified information_schema column ({t})")
    engine.dispose()


def main():
    port, user, password, db = sys.argv[1:5]
    print(f"sqlalchemy {sqlalchemy.__version__}")
    for driver in ("psycopg2", "psycopg"):
        reflect(driver, port, user, password, db)


if __name__ == "__main__":
    main()
