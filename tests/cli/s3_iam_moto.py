"""A moto server with IAM enforced, for tests/cli/s3.rs (denied access).

Starts `python3 -m moto.server` on a free loopback port with
INITIAL_NO_AUTH_ACTION_COUNT=3, spends those three unauthenticated calls on
creating a bucket, a user without any policy and its access key, and prints
one JSON line: {"url", "bucket", "key", "secret"}. Every later request is
checked against IAM, so that user is denied. The server is stopped when
stdin closes.
"""
import json
import os
import socket
import subprocess
import sys
import time

import boto3

REGION = "ap-northeast-2"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        kw = dict(
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        bucket = "privpath-denied"
        boto3.client("s3", **kw).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="nobody")
        key = iam.create_access_key(UserName="nobody")["AccessKey"]
        print(
            json.dumps(
                {
                    "url": url,
                    "bucket": bucket,
                    "key": key["AccessKeyId"],
                    "secret": key["SecretAccessKey"],
                }
            ),
            flush=True,
        )
        sys.stdin.read()
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
