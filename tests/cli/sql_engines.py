#!/usr/bin/env python3
"""Run privpath's emitted SQL on real engines for the tests (tests/cli/sql.rs).

    sql_engines.py JOBS.json

JOBS.json: {"engine": "duckdb"|"spark"|"sqlglot", "jobs": [
  {"name": ..., "ddl": "<topology DDL file for this engine>",
   "flows": {"kind": "text", "files": [...]} | {"kind": "parquet", "files": [...]},
   "queries": {"verdicts": "<sql file>", "findings": "<sql file>", ...},
   "out": "<folder>"}]}

Each job loads the flow-log files as the table `vpc_flow_logs` with AWS's Athena column
names and types (text: space-separated, header line first, `-` for absent values; a `day`
partition column `yyyy/MM/dd` from `start`, as partition projection gives), declares the
topology tables with the DDL privpath wrote, runs each query and writes its rows as CSV to
OUT/<query>.csv (header line, empty cell = NULL). One Spark session serves every job (it is
slow to start). For "sqlglot", each query is parsed with read="trino" and nothing runs.

Exit status: 0 all ran; 3 the engine's Python package is missing (the test decides whether
that skips or fails); 1 anything else.
"""
import csv
import json
import os
import sys

COLUMNS = [
    ("version", "INT"), ("account_id", "STRING"), ("interface_id", "STRING"),
    ("srcaddr", "STRING"), ("dstaddr", "STRING"), ("srcport", "INT"), ("dstport", "INT"),
    ("protocol", "BIGINT"), ("packets", "BIGINT"), ("bytes", "BIGINT"), ("start", "BIGINT"),
    ("end", "BIGINT"), ("action", "STRING"), ("log_status", "STRING"), ("vpc_id", "STRING"),
    ("subnet_id", "STRING"), ("instance_id", "STRING"), ("tcp_flags", "INT"), ("type", "STRING"),
    ("pkt_srcaddr", "STRING"), ("pkt_dstaddr", "STRING"), ("region", "STRING"),
    ("az_id", "STRING"), ("sublocation_type", "STRING"), ("sublocation_id", "STRING"),
    ("pkt_src_aws_service", "STRING"), ("pkt_dst_aws_service", "STRING"),
    ("flow_direction", "STRING"), ("traffic_path", "INT"),
]


def text_rows(files):
    """The records of flow-log text files (gzip or plain), by AWS column name."""
    import gzip
    for f in files:
        opener = gzip.open if f.endswith(".gz") else open
        with opener(f, "rt") as fh:
            header = None
            for line in fh:
                toks = line.split()
                if not toks:
                    continue
                if header is None:
                    header = [t.replace("-", "_") for t in toks]
                    continue
                yield dict(zip(header, toks))


def typed(rec):
    out = []
    for name, ty in COLUMNS:
        v = rec.get(name)
        if v is None or v == "-":
            out.append(None)
        elif ty in ("INT", "BIGINT"):
            try:
                out.append(int(v))
            except ValueError:
                out.append(None)
        else:
            out.append(v)
    start = out[10]
    import time
    day = time.strftime("%Y/%m/%d", time.gmtime(start)) if start is not None else None
    return out + [day]


def write_csv(path, names, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in rows:
            w.writerow(["" if v is None else (str(v).lower() if isinstance(v, bool) else v) for v in r])


def run_duckdb(jobs):
    try:
        import duckdb
    except ImportError:
        print("skipped: the Python package duckdb is not installed (pip install duckdb)")
        return 3
    for job in jobs:
        con = duckdb.connect()
        con.execute("SET threads TO 2")
        cols = ", ".join(f'"{n}" {"VARCHAR" if t == "STRING" else t}' for n, t in COLUMNS)
        if job["flows"]["kind"] == "parquet":
            files = ", ".join("'" + f + "'" for f in job["flows"]["files"])
            con.execute(
                f"CREATE VIEW vpc_flow_logs AS SELECT *, strftime(to_timestamp(start), '%Y/%m/%d') AS day "
                f"FROM read_parquet([{files}])")
        else:
            con.execute(f"CREATE TABLE vpc_flow_logs ({cols}, day VARCHAR)")
            rows = [typed(r) for r in text_rows(job["flows"]["files"])]
            if rows:
                con.executemany(
                    f"INSERT INTO vpc_flow_logs VALUES ({', '.join('?' * (len(COLUMNS) + 1))})", rows)
        con.execute(open(job["ddl"]).read())
        os.makedirs(job["out"], exist_ok=True)
        for q, path in job["queries"].items():
            cur = con.execute(open(path).read())
            names = [d[0] for d in cur.description]
            write_csv(os.path.join(job["out"], q + ".csv"), names, cur.fetchall())
        con.close()
    return 0


def run_spark(jobs):
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql import types as T
    except ImportError:
        print("skipped: the Python package pyspark is not installed (pip install pyspark)")
        return 3
    spark = (SparkSession.builder.master("local[2]").appName("privpath-sql-test")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.memory", "2g")
             # What `privpath sql --dialect spark` asks for (its header says why).
             .config("spark.sql.constraintPropagation.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    tmap = {"INT": T.IntegerType(), "BIGINT": T.LongType(), "STRING": T.StringType()}
    schema = T.StructType([T.StructField(n, tmap[t]) for n, t in COLUMNS]
                          + [T.StructField("day", T.StringType())])
    try:
        for job in jobs:
            if job["flows"]["kind"] == "parquet":
                df = spark.read.parquet(*job["flows"]["files"])
                from pyspark.sql import functions as F
                df = df.withColumn("day", F.date_format(F.from_unixtime(F.col("start")), "yyyy/MM/dd"))
            else:
                rows = [typed(r) for r in text_rows(job["flows"]["files"])]
                df = spark.createDataFrame(rows, schema)
            df.createOrReplaceTempView("vpc_flow_logs")
            for stmt in open(job["ddl"]).read().split(";"):
                body = "\n".join(l for l in stmt.splitlines() if not l.strip().startswith("--")).strip()
                if body:
                    spark.sql(body)
            os.makedirs(job["out"], exist_ok=True)
            for q, path in job["queries"].items():
                res = spark.sql(open(path).read().rstrip().rstrip(";"))
                write_csv(os.path.join(job["out"], q + ".csv"), res.columns,
                          [list(r) for r in res.collect()])
    finally:
        spark.stop()
    return 0


def run_sqlglot(jobs):
    try:
        import sqlglot
    except ImportError:
        print("skipped: the Python package sqlglot is not installed (pip install sqlglot)")
        return 3
    for job in jobs:
        for q, path in job["queries"].items():
            text = open(path).read()
            parsed = [s for s in sqlglot.parse(text, read="trino") if s is not None]
            if not parsed:
                raise SystemExit(f"{path}: no statement parsed")
    return 0


def main():
    spec = json.load(open(sys.argv[1]))
    run = {"duckdb": run_duckdb, "spark": run_spark, "sqlglot": run_sqlglot}[spec["engine"]]
    sys.exit(run(spec["jobs"]))


if __name__ == "__main__":
    main()
