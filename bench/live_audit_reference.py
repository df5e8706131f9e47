"""A plain boto3 client making the calls of `backstop audit` (built-in
rules), as the reference of bench/live-audit.

Usage: live_audit_reference.py ENDPOINT [--threads N]

Same calls as backstop's collectors: identity; per region the RDS instance,
cluster and snapshot listings (the latter twice: AWS Backup's snapshots are
listed separately), the regions snapshot copies may be held in
(DescribeSourceRegions), snapshot attributes of manual snapshots, one
DescribeKey per distinct key; one ListBuckets, a GetBucketLocation per
bucket and five detail reads per bucket; per region the ECR repository
listing, the registry, a lifecycle policy per repository; the log group
listing, the account-level subscription filter policies and a
subscription-filter listing per group. "Not configured"
answers are facts, as in backstop. Detail calls run on N threads (default 1:
strictly sequential). Prints one JSON line: wall seconds and calls by
`service:Operation`, pages counted individually.
"""

import argparse
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGIONS = ["us-east-1", "eu-west-1"]

calls = Counter()
lock = threading.Lock()


def count(op, n=1):
    with lock:
        calls[op] += n


def client(endpoint, service, region, threads):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=max(10, threads * 2),
        ),
    )


def pages(c, method, op, key, **kwargs):
    items = []
    for page in c.get_paginator(method).paginate(**kwargs):
        count(op)
        items.extend(page.get(key, []))
    return items


def call(op, fn, not_configured=()):
    count(op)
    try:
        return fn()
    except ClientError as e:
        if e.response["Error"]["Code"] in not_configured:
            return None
        raise


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    ep, threads = args.endpoint, args.threads
    # Clients are created before the clock starts (botocore loads its
    # service models lazily and slowly; backstop's are compiled in).
    clients = {
        (s, r): client(ep, s, r, threads)
        for s in ["rds", "kms", "s3", "ecr", "logs", "sts"]
        for r in REGIONS
    }
    pool = ThreadPoolExecutor(threads)

    def each(fn, items):
        return list(pool.map(fn, items))

    started = time.monotonic()
    call("sts:GetCallerIdentity", clients["sts", REGIONS[0]].get_caller_identity)

    for region in REGIONS:
        rds, kms = clients["rds", region], clients["kms", region]
        instances = pages(rds, "describe_db_instances", "rds:DescribeDBInstances", "DBInstances")
        pages(rds, "describe_db_clusters", "rds:DescribeDBClusters", "DBClusters")
        snapshots = pages(rds, "describe_db_snapshots", "rds:DescribeDBSnapshots", "DBSnapshots")
        # AWS Backup's snapshots are listed only when asked for by type.
        snapshots += pages(
            rds,
            "describe_db_snapshots",
            "rds:DescribeDBSnapshots",
            "DBSnapshots",
            SnapshotType="awsbackup",
        )
        # The regions snapshot copies may be held in (copy_regions' default).
        try:
            pages(rds, "describe_source_regions", "rds:DescribeSourceRegions", "SourceRegions")
        except ClientError:
            # moto 5.1.22 does not implement it (HTTP 500); backstop records
            # the failure as an error and goes on, and so does this.
            pass
        manual = [s["DBSnapshotIdentifier"] for s in snapshots if s.get("SnapshotType") == "manual"]
        each(
            lambda s: call(
                "rds:DescribeDBSnapshotAttributes",
                lambda: rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=s),
            ),
            manual,
        )
        # Cluster snapshots, the same two listings (the seed has no clusters,
        # so no attribute calls follow).
        for extra in ({}, {"SnapshotType": "awsbackup"}):
            pages(
                rds,
                "describe_db_cluster_snapshots",
                "rds:DescribeDBClusterSnapshots",
                "DBClusterSnapshots",
                **extra,
            )
        keys = sorted({i["KmsKeyId"] for i in instances if i.get("KmsKeyId")})
        each(lambda k: call("kms:DescribeKey", lambda: kms.describe_key(KeyId=k)), keys)

    s3 = clients["s3", REGIONS[0]]
    buckets = [b["Name"] for b in pages(s3, "list_buckets", "s3:ListBuckets", "Buckets")]

    def location(b):
        answer = call("s3:GetBucketLocation", lambda: s3.get_bucket_location(Bucket=b))
        return answer.get("LocationConstraint") or "us-east-1"

    regions = each(location, buckets)

    def details(item):
        b, region = item
        c = clients["s3", region]
        call(
            "s3:GetBucketEncryption",
            lambda: c.get_bucket_encryption(Bucket=b),
            ["ServerSideEncryptionConfigurationNotFoundError"],
        )
        call("s3:GetBucketVersioning", lambda: c.get_bucket_versioning(Bucket=b))
        call(
            "s3:GetBucketLifecycleConfiguration",
            lambda: c.get_bucket_lifecycle_configuration(Bucket=b),
            ["NoSuchLifecycleConfiguration"],
        )
        call(
            "s3:GetBucketReplication",
            lambda: c.get_bucket_replication(Bucket=b),
            ["ReplicationConfigurationNotFoundError"],
        )
        call(
            "s3:GetPublicAccessBlock",
            lambda: c.get_public_access_block(Bucket=b),
            ["NoSuchPublicAccessBlockConfiguration"],
        )

    each(details, [(b, r) for b, r in zip(buckets, regions) if r in REGIONS])

    for region in REGIONS:
        ecr, logs = clients["ecr", region], clients["logs", region]
        repos = pages(ecr, "describe_repositories", "ecr:DescribeRepositories", "repositories")
        call("ecr:DescribeRegistry", ecr.describe_registry)
        each(
            lambda r: call(
                "ecr:GetLifecyclePolicy",
                lambda: ecr.get_lifecycle_policy(repositoryName=r["repositoryName"]),
                ["LifecyclePolicyNotFoundException"],
            ),
            repos,
        )
        groups = pages(logs, "describe_log_groups", "logs:DescribeLogGroups", "logGroups")
        token = None
        while True:
            kwargs = {"policyType": "SUBSCRIPTION_FILTER_POLICY"}
            if token:
                kwargs["nextToken"] = token
            try:
                page = call(
                    "logs:DescribeAccountPolicies",
                    lambda: logs.describe_account_policies(**kwargs),
                )
            except ClientError:
                # moto 5.1.22 does not implement it (HTTP 500); backstop
                # records the failure as an error and goes on, and so does this.
                break
            token = page.get("nextToken")
            if not token:
                break
        each(
            lambda g: pages(
                logs,
                "describe_subscription_filters",
                "logs:DescribeSubscriptionFilters",
                "subscriptionFilters",
                logGroupName=g["logGroupName"],
            ),
            groups,
        )

    wall = time.monotonic() - started
    print(json.dumps({"wall": round(wall, 2), "calls": dict(sorted(calls.items()))}))


if __name__ == "__main__":
    main()
