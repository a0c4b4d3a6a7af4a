#!/usr/bin/env python3
"""The audit as SQL on DuckDB and Spark (local mode) against the native audit, on the same
generated flow logs, in one run: wall time, CPU time and peak memory (RSS of the whole
process tree, the JVM included), as ratios to the native audit.

    benches/sql_engines.py --privpath target/release/privpath --records 4000000 [--work DIR]
                           [--engines native,duckdb,spark] [--spark-memory 6g]

Generates the case with ../shared/tools/make_scale_case.py (text flow logs, S3 layout), exports
the topology (Parquet), prints the verdict statement per dialect, then runs:
  native  privpath audit --topology T FLOWLOGS -o json
  duckdb  read_csv over the same text files as `vpc_flow_logs`, the emitted verdicts query
  spark   spark.read.csv over the same files (local[*]), the emitted verdicts query
and checks that every engine returned the native verdict table (row for row).
Needs the Python packages duckdb and pyspark and Java 17. Nothing is written outside --work.
"""
import argparse
import csv
import datetime
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TYPES = [
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

DUCKDB_RUN = r'''
import duckdb, sys, csv
files, ddl, query, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
types = dict(%(types)s)
con = duckdb.connect()
# The files hold every v5 field in the Athena DDL's order (read by position, as Athena does).
cols = "{" + ", ".join("'%%s': '%%s'" %% (k, 'VARCHAR' if v == 'STRING' else v) for k, v in types.items()) + "}"
con.execute(f"""CREATE VIEW vpc_flow_logs AS SELECT *, strftime(to_timestamp(start), '%%Y/%%m/%%d') AS day
  FROM read_csv('{files}', delim=' ', header=true, nullstr='-', columns={cols})""")
con.execute(open(ddl).read())
cur = con.execute(open(query).read())
names = [d[0] for d in cur.description]
with open(out, "w", newline="") as fh:
    w = csv.writer(fh); w.writerow(names)
    for r in cur.fetchall(): w.writerow(["" if v is None else v for v in r])
'''

SPARK_RUN = r'''
import sys, csv
from pyspark.sql import SparkSession, functions as F, types as T
files, ddl, query, out, mem = sys.argv[1:6]
spark = (SparkSession.builder.master("local[*]").appName("privpath-bench")
         .config("spark.ui.enabled", "false").config("spark.driver.memory", mem)
         .config("spark.sql.shuffle.partitions", "16")
         .config("spark.sql.constraintPropagation.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
types = dict(%(types)s)
tm = {"INT": T.IntegerType(), "BIGINT": T.LongType(), "STRING": T.StringType()}
# The files hold every v5 field in the Athena DDL's order (read by position, as Athena does).
schema = T.StructType([T.StructField(k, tm[v]) for k, v in types.items()])
df = spark.read.csv(files, sep=" ", header=True, nullValue="-", schema=schema, enforceSchema=True)
df = df.withColumn("day", F.date_format(F.from_unixtime(F.col("start")), "yyyy/MM/dd"))
df.createOrReplaceTempView("vpc_flow_logs")
for stmt in open(ddl).read().split(";"):
    body = "\n".join(l for l in stmt.splitlines() if not l.strip().startswith("--")).strip()
    if body:
        spark.sql(body)
res = spark.sql(open(query).read().rstrip().rstrip(";"))
rows = res.collect()
with open(out, "w", newline="") as fh:
    w = csv.writer(fh); w.writerow(res.columns)
    for r in rows: w.writerow(["" if v is None else v for v in r])
spark.stop()
'''


def tree_rss(root_pid):
    """RSS in bytes of a process and all its descendants."""
    children = {}
    rss = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            ppid = int(parts[1])
            children.setdefault(ppid, []).append(int(p))
            rss[int(p)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def measure(cmd, stdout_path):
    """Run cmd: (wall s, CPU s of the whole tree, peak tree RSS bytes, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss(proc.pid))
                time.sleep(0.2)
        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, err = proc.communicate()
        done.set()
        th.join()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return wall, cpu, peak[0], proc.returncode


def verdict_rows_native(path):
    d = json.load(open(path))
    ts = lambda s: int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
    rows = set()
    for v in d["verdicts"]:
        h = v["host"]
        for p in v["paths"]:
            rows.add((v["service"], h["instance_id"] or "", h["eni"] or "", h["address"] or "",
                      v["verdict"], p["path"], p["flows"], p["packets"], p["bytes"],
                      ts(p["first"]), ts(p["last"]), p["outcome"]))
    return rows


def verdict_rows_sql(path):
    rows = set()
    for r in csv.DictReader(open(path)):
        rows.add((r["service"], r["instance_id"], r["eni"], r["address"], r["verdict"], r["path"],
                  int(r["flows"]), int(r["packets"]), int(r["bytes"]), int(r["first"]),
                  int(r["last"]), r["outcome"]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privpath", default=os.path.join(ROOT, "target/release/privpath"))
    ap.add_argument("--records", type=int, default=4_000_000)
    ap.add_argument("--work", default=None)
    ap.add_argument("--engines", default="native,duckdb,spark")
    ap.add_argument("--spark-memory", default="6g")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="privpath-sql-bench-")
    case = os.path.join(work, "case")
    if not os.path.isdir(case):
        subprocess.run([sys.executable, os.path.join(ROOT, "../shared/tools/make_scale_case.py"), case,
                        "--records", str(a.records), "--seed", "1"], check=True)
    tables = os.path.join(work, "tables")
    subprocess.run([a.privpath, "-q", "topology", "export", "--topology", os.path.join(case, "topology"),
                    "--out", tables], check=True)
    files = os.path.join(case, "flowlogs", "AWSLogs", "*", "vpcflowlogs", "*", "*", "*", "*", "*.log")
    types = repr(TYPES)
    results = {}
    for engine in a.engines.split(","):
        out = os.path.join(work, f"{engine}.out")
        if engine == "native":
            cmd = [a.privpath, "-q", "audit", "--topology", os.path.join(case, "topology"),
                   os.path.join(case, "flowlogs"), "-o", "json"]
            m = measure(cmd, out)
            rows = verdict_rows_native(out)
        else:
            q = os.path.join(work, f"{engine}.sql")
            with open(q, "w") as fh:
                fh.write(subprocess.run([a.privpath, "sql", "--dialect", engine, "--select", "verdicts"],
                                        check=True, capture_output=True, text=True).stdout)
            script = os.path.join(work, f"run_{engine}.py")
            with open(script, "w") as fh:
                fh.write((DUCKDB_RUN if engine == "duckdb" else SPARK_RUN) % {"types": types})
            res = os.path.join(work, f"{engine}.csv")
            cmd = [sys.executable, script, files, os.path.join(tables, "ddl", f"{engine}.sql"), q, res]
            if engine == "spark":
                cmd.append(a.spark_memory)
            m = measure(cmd, out)
            rows = verdict_rows_sql(res) if os.path.exists(res) else set()
        results[engine] = (m, rows)
        print(f"{engine}: wall {m[0]:.1f} s, cpu {m[1]:.1f} s, peak rss {m[2] / 2**20:.0f} MiB, exit {m[3]}, "
              f"{len(rows)} verdict rows", flush=True)
    if "native" in results:
        nw, nc, nr, _ = results["native"][0]
        for engine, (m, rows) in results.items():
            if engine == "native":
                continue
            same = rows == results["native"][1]
            print(f"{engine}/native: wall {m[0] / nw:.1f}x, cpu {m[1] / nc:.1f}x, peak rss {m[2] / nr:.1f}x; "
                  f"verdicts {'equal' if same else 'DIFFER'}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
