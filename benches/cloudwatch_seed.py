#!/usr/bin/env python3
"""Fill a CloudWatch Logs emulator (moto) with synthetic version-2 flow-log
records for the `pull cloudwatch` benchmark in BENCHMARKS.md.

    python3 benches/cloudwatch_seed.py --endpoint-url http://127.0.0.1:PORT \
        --log-group /bench/flowlogs --streams 8 --events 100000

One stream per ENI (`eni-…-all`), records 1 s apart starting two days ago
(the service refuses events older than 14 days), event timestamp = record
start. Deterministic apart from the base time. Needs boto3 (moto[server]
brings it); dummy credentials are used.
"""
import argparse
import time

import boto3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--region", default="ap-northeast-2")
    ap.add_argument("--log-group", default="/bench/flowlogs")
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--events", type=int, default=100_000, help="in all, spread over the streams")
    args = ap.parse_args()

    logs = boto3.client("logs", endpoint_url=args.endpoint_url, region_name=args.region,
                        aws_access_key_id="bench", aws_secret_access_key="bench")
    logs.create_log_group(logGroupName=args.log_group)
    base = int(time.time()) - 2 * 86400
    per = args.events // args.streams
    for k in range(args.streams):
        eni = f"eni-0be0c4{k:011x}"
        stream = f"{eni}-all"
        logs.create_log_stream(logGroupName=args.log_group, logStreamName=stream)
        events = []
        for i in range(per):
            start = base + i
            dst = f"52.219.{60 + i % 4}.{i % 250}" if i % 3 else f"10.0.1.{4 + i % 20}"
            action = "REJECT" if i % 17 == 0 else "ACCEPT"
            msg = (f"2 123456789012 {eni} 10.0.{k % 256}.{10 + i % 50} {dst} {32768 + i % 28000} 443 6 "
                   f"{1 + i % 40} {60 + (i * 13) % 90000} {start} {start + 59} {action} OK")
            events.append({"timestamp": start * 1000, "message": msg})
        for j in range(0, len(events), 5000):
            logs.put_log_events(logGroupName=args.log_group, logStreamName=stream,
                                logEvents=events[j:j + 5000])
    print(f"{args.log_group}: {per * args.streams} events in {args.streams} streams")


if __name__ == "__main__":
    main()
