#!/usr/bin/env python3
"""`privpath pull s3` against `aws s3 sync` on moto's S3, same objects, one run.

For each object count N: upload N gzip flow-log files (AWS key layout, one day
folder, ~2 KiB each, 20 records) to a fresh bucket, then time
`privpath pull s3 s3://B/AWSLogs/ --out D1` and `aws s3 sync s3://B/AWSLogs/ D2`
(both under /usr/bin/time -v: wall time, peak RSS), check that both copies are
byte-identical, and print one Markdown row per N: objects/s of each, the
ratio, and privpath's peak RSS (flat as N grows if memory does not grow with
the object count).

Usage: benches/s3_pull.py [--privpath target/release/privpath]
                          [--counts 500,2000,8000] [--concurrency 8]
Starts its own moto server on a free loopback port unless
PRIVPATH_TEST_S3_URL is set. Needs `pip install 'moto[server]' awscli`.
"""
import argparse
import concurrent.futures
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import boto3

REGION = "ap-northeast-2"
DAY = "AWSLogs/111122223333/vpcflowlogs/ap-northeast-2/2026/11/02/"
STEM = "111122223333_vpcflowlogs_ap-northeast-2_fl-0b4e6a8c1d3f5a729_"
HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_moto():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto did not start")


def body(i):
    lines = [HEADER]
    for r in range(20):
        start = 1_793_610_000 + i * 60 + r
        lines.append(
            f"2 111122223333 eni-02b4d6f8103c5e7a9 10.0.0.{10 + r % 5} 52.219.60.{(i + r) % 250} "
            f"{30000 + (i * 20 + r) % 30000} 443 6 {1 + r} {60 + r * 97} {start} {start + 59} ACCEPT OK"
        )
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def key(i):
    return f"{DAY}{STEM}20261102T{(i // 60) % 24:02d}{i % 60:02d}Z_{i:08x}.log.gz"


def upload(s3, bucket, n):
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=key(i), Body=body(i)), range(n)))


def timed(cmd, env):
    out = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{out.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", out.stderr)
    h, m, s = wall.groups()
    secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", out.stderr).group(1))
              for k in ("User", "System"))
    return secs, rss, cpu


def same_tree(a, b):
    files = lambda root: sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, _, fs in os.walk(root)
        for f in fs
        if not f.startswith(".")
    )
    fa, fb = files(a), files(b)
    if fa != fb:
        return False
    return all(open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read() for f in fa)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privpath", default="target/release/privpath")
    ap.add_argument("--counts", default="500,2000,8000")
    ap.add_argument("--concurrency", default="8")
    args = ap.parse_args()

    url = os.environ.get("PRIVPATH_TEST_S3_URL")
    proc = None
    if not url:
        proc, url = start_moto()
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_S3=url,
    )
    s3 = boto3.client("s3", endpoint_url=url, region_name=REGION,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    work = tempfile.mkdtemp(prefix="privpath-s3-bench-")
    print("| objects | privpath pull s3 | aws s3 sync | ratio (wall) | privpath CPU | aws CPU | ratio (CPU) | privpath peak RSS | aws peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for n in [int(c) for c in args.counts.split(",")]:
            bucket = f"bench-{n}-{os.getpid()}"
            upload(s3, bucket, n)
            d1, d2 = os.path.join(work, f"pp-{n}"), os.path.join(work, f"aws-{n}")
            t1, r1, c1 = timed([args.privpath, "-q", "pull", "s3", f"s3://{bucket}/AWSLogs/",
                            "--out", d1, "--concurrent-objects", args.concurrency], env)
            t2, r2, c2 = timed(["aws", "--endpoint-url", url, "s3", "sync", "--quiet",
                            f"s3://{bucket}/AWSLogs/", d2], env)
            if not same_tree(d1, d2):
                sys.exit(f"the copies of {n} objects differ")
            print(f"| {n} | {n / t1:.0f} obj/s ({t1:.1f} s) | {n / t2:.0f} obj/s ({t2:.1f} s) | "
                  f"{t2 / t1:.2f}× | {c1:.2f} s | {c2:.2f} s | {c2 / c1:.1f}× | "
                  f"{r1 / 1024:.0f} MiB | {r2 / 1024:.0f} MiB |", flush=True)
            shutil.rmtree(d1)
            shutil.rmtree(d2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if proc:
            proc.kill()


if __name__ == "__main__":
    main()
