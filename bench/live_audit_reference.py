"""A plain boto3 client making the calls of `backstop audit` (built-in
rules), as the reference of bench/live-audit.

Usage: live_audit_reference.py ENDPOINT [--threads N] [--attempts N]

Same calls as backstop's collectors: identity; per region the RDS instance,
cluster and snapshot listings (the latter twice: AWS Backup's snapshots are
listed separately), the regions snapshot copies may be held in
(DescribeSourceRegions), snapshot attributes of manual snapshots, one
DescribeKey per distinct key; one ListBuckets, a GetBucketLocation per
bucket and five detail reads per bucket; per region the ECR repository
listing, the registry, a lifecycle policy per repository; the log group
listing, the account-level subscription filter policies and a
subscription-filter listing per group; per region the secrets (scheduled
deletions included) and a DescribeSecret per secret listed (replicas
included); the RDS event subscriptions and one ListSubscriptionsByTopic per
topic of an enabled backup alert covering an audited instance or cluster;
AWS Backup plans (GetBackupPlan and ListBackupSelections per plan), vaults
(DescribeBackupVault per vault, DescribeKey per vault naming a key),
protected resources (their restore jobs and recovery points) and completed
copy jobs (the recovery points of resources copied to another region).
"Not configured" answers are facts, as in backstop; calls moto does not
implement fail and count as calls, as in backstop, which records them as
collection errors. Detail calls run on N threads (default 1:
strictly sequential). Prints one JSON line: wall seconds, calls by
`service:Operation` (pages counted individually) and the calls that failed.
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
from botocore.parsers import ResponseParserError

# What a call moto does not implement raises: a ClientError (an HTTP 404
# or an AWS error) or, for its HTML HTTP 500 pages, a ResponseParserError.
FAILED = (ClientError, ResponseParserError)

REGIONS = ["us-east-1", "eu-west-1"]

calls = Counter()
failed = Counter()
lock = threading.Lock()


def count(op, n=1):
    with lock:
        calls[op] += n


def client(endpoint, service, region, threads, attempts):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            # Attempts in all, first included, as backstop's
            # AWS_MAX_ATTEMPTS (botocore's max_attempts would count the
            # retries after the first attempt).
            retries={"total_max_attempts": attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=max(10, threads * 2),
        ),
    )


def pages(c, method, op, key, **kwargs):
    """Every page of a listing; a page that fails counts as a call too (as
    in backstop's count)."""
    items = []
    listing = iter(c.get_paginator(method).paginate(**kwargs))
    while True:
        try:
            page = next(listing)
        except StopIteration:
            return items
        except FAILED:
            count(op)
            with lock:
                failed[op] += 1
            raise
        count(op)
        items.extend(page.get(key, []))


def call(op, fn, not_configured=()):
    count(op)
    try:
        return fn()
    except ClientError as e:
        if e.response["Error"]["Code"] in not_configured:
            return None
        with lock:
            failed[op] += 1
        raise
    except ResponseParserError:
        with lock:
            failed[op] += 1
        raise


def failing(fn):
    """Runs fn; a failure is what backstop records as a collection
    error and goes on (moto 5.1.22 does not implement every call)."""
    try:
        return fn()
    except FAILED:
        return None


def arn_region(arn):
    """The region field of an ARN, None when there is none."""
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else None


def region_of(arn, default):
    """The region field of an ARN when it is an audited region (backstop
    asks there), else default."""
    region = arn_region(arn)
    return region if region in REGIONS else default


def covers(sub, resource_id):
    """Whether an RDS event subscription covers the DB instance resource_id
    (the seed has no clusters)."""
    kind = sub.get("SourceType") or None
    ids = sub.get("SourceIdsList") or []
    return kind in (None, "db-instance") and (
        not ids or any(i.lower() == resource_id.lower() for i in ids)
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--attempts", type=int, default=3)
    args = parser.parse_args()
    ep, threads = args.endpoint, args.threads
    # Clients are created before the clock starts (botocore loads its
    # service models lazily and slowly; backstop's are compiled in).
    clients = {
        (s, r): client(ep, s, r, threads, args.attempts)
        for s in ["rds", "kms", "s3", "ecr", "logs", "sts", "secretsmanager", "sns", "backup"]
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
        # Against AWS backstop then lists the snapshots of each region found
        # outside the audited ones; moto fails this call, so this does not
        # follow it up.
        try:
            pages(rds, "describe_source_regions", "rds:DescribeSourceRegions", "SourceRegions")
        except FAILED:
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
        # Backup alerts: enabled subscriptions on backup events (or every
        # category) covering an instance; whether their topics reach anyone.
        subs = pages(
            rds,
            "describe_event_subscriptions",
            "rds:DescribeEventSubscriptions",
            "EventSubscriptionsList",
        )
        ids = [i["DBInstanceIdentifier"] for i in instances]
        topics = sorted(
            {
                sub["SnsTopicArn"]
                for sub in subs
                if sub.get("Enabled")
                and (not sub.get("EventCategoriesList") or "backup" in sub["EventCategoriesList"])
                and any(covers(sub, i) for i in ids)
            }
        )
        each(
            lambda t: failing(
                lambda: pages(
                    clients["sns", region_of(t, region)],
                    "list_subscriptions_by_topic",
                    "sns:ListSubscriptionsByTopic",
                    "Subscriptions",
                    TopicArn=t,
                )
            ),
            topics,
        )

    for region in REGIONS:
        sm = clients["secretsmanager", region]
        secrets = pages(
            sm,
            "list_secrets",
            "secretsmanager:ListSecrets",
            "SecretList",
            IncludePlannedDeletion=True,
        )
        each(
            lambda x: call(
                "secretsmanager:DescribeSecret",
                lambda: sm.describe_secret(SecretId=x["ARN"]),
                ["ResourceNotFoundException"],
            ),
            secrets,
        )

    for region in REGIONS:
        backup = clients["backup", region]
        plans = pages(backup, "list_backup_plans", "backup:ListBackupPlans", "BackupPlansList")

        def plan(p):
            call(
                "backup:GetBackupPlan",
                lambda: backup.get_backup_plan(BackupPlanId=p["BackupPlanId"]),
            )
            # moto 5.1.22 does not implement it (HTTP 500, retried).
            failing(
                lambda: pages(
                    backup,
                    "list_backup_selections",
                    "backup:ListBackupSelections",
                    "BackupSelectionsList",
                    BackupPlanId=p["BackupPlanId"],
                )
            )

        each(plan, plans)
        vaults = pages(backup, "list_backup_vaults", "backup:ListBackupVaults", "BackupVaultList")

        def vault(v):
            call(
                "backup:DescribeBackupVault",
                lambda: backup.describe_backup_vault(BackupVaultName=v["BackupVaultName"]),
            )
            # One DescribeKey per vault naming a key (not shared).
            key = v.get("EncryptionKeyArn")
            if key:
                kms = clients["kms", region_of(key, region)]
                call("kms:DescribeKey", lambda: kms.describe_key(KeyId=key))

        each(vault, vaults)
        # moto 5.1.22 implements neither (HTTP 404): no protected resource
        # and no copy job is read, so none of the calls that follow them
        # is made against it.
        protected = failing(
            lambda: pages(
                backup,
                "list_protected_resources",
                "backup:ListProtectedResources",
                "Results",
            )
        ) or []
        copies = failing(
            lambda: pages(
                backup,
                "list_copy_jobs",
                "backup:ListCopyJobs",
                "CopyJobs",
                ByState="COMPLETED",
            )
        ) or []
        each(
            lambda p: failing(
                lambda: pages(
                    backup,
                    "list_restore_jobs_by_protected_resource",
                    "backup:ListRestoreJobsByProtectedResource",
                    "RestoreJobs",
                    ResourceArn=p["ResourceArn"],
                )
            ),
            protected,
        )
        # Recovery points: of every protected resource, and of the resources
        # copied to another region (to date the copies).
        dated = {p["ResourceArn"] for p in protected}
        dated |= {
            c["ResourceArn"]
            for c in copies
            if c.get("State") == "COMPLETED"
            and c.get("ResourceArn")
            and arn_region(c.get("DestinationBackupVaultArn")) not in (None, region)
        }
        each(
            lambda arn: failing(
                lambda: pages(
                    backup,
                    "list_recovery_points_by_resource",
                    "backup:ListRecoveryPointsByResource",
                    "RecoveryPoints",
                    ResourceArn=arn,
                )
            ),
            sorted(dated),
        )

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
            except FAILED:
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
    print(
        json.dumps(
            {
                "wall": round(wall, 2),
                "calls": dict(sorted(calls.items())),
                "failed": dict(sorted(failed.items())),
            }
        )
    )


if __name__ == "__main__":
    main()
