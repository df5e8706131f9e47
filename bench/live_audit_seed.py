"""Seeds a moto server with a sizeable account for bench/live-audit.

Usage: live_audit_seed.py ENDPOINT [--instances N] [--buckets N]
                                   [--repositories N] [--log-groups N]
                                   [--secrets N] [--event-subscriptions N]
                                   [--vaults N] [--backup-plans N]
                                   [--regions R1,R2,...]

Everything is split evenly over the regions (us-east-1 and eu-west-1 unless
--regions names others; bench/latency seeds four), with the same mix
of compliant and non-compliant settings in each (counted within the region),
so that every detail call of the audit meets both "configured" and "not
configured" answers:

- DB instances: every 4th encrypted with the region's KMS key, every 3rd
  with 7 days of backups, every 10th with a manual snapshot;
- buckets: every 3rd a backup bucket (versioned), every 2nd encrypted,
  every 5th with a lifecycle expiration, every 4th with a public access block;
- ECR repositories: every 2nd with a lifecycle policy and immutable tags;
- log groups: every 2nd with a retention policy;
- secrets: every 3rd replicated to the other region (the replica is listed
  there too, as a secret of its own), every 4th encrypted with the region's
  KMS key, every 15th (none of them replicated) scheduled for deletion;
- RDS event subscriptions, each with its own SNS topic, in turn: backup
  events of every instance; backup events of three named instances; failure
  events only (not a backup alert); a disabled one; every category of every
  instance. The topics of the even ones in us-east-1 and of the odd ones in
  eu-west-1 have an email subscription (which moto confirms at once), so
  some alerts reach someone and some reach nobody;
- AWS Backup vaults: every 2nd locked (7 to 365 days), every 3rd encrypted
  with the region's KMS key (the others name no key: moto lists none for
  them, where AWS would name the AWS-managed one);
- AWS Backup plans: one daily rule keeping 35 days into the region's first
  vault, every 2nd copying to the other region's first vault. No resource
  selections: moto implements neither CreateBackupSelection nor
  ListBackupSelections (HTTP 500), so the audit cannot read a plan's
  selections whatever is seeded, and the two plan rules report `error`.

Prints one JSON line: seconds and API requests per resource kind.
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

REGIONS = ["us-east-1", "eu-west-1"]
THREADS = 8


def client(endpoint, service, region):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=THREADS * 2,
        ),
    )


def split(n):
    """n items over the regions: (region, index within region, global index)."""
    out = []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        out.append((region, i // len(REGIONS), i))
    return out


def run_all(fn, items):
    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(fn, items))
    return sum(counts)


def seed_rds(endpoint, n, keys):
    rds = {r: client(endpoint, "rds", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        name = f"bench-db-{i:04d}"
        args = dict(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="password123",
            BackupRetentionPeriod=7 if j % 3 == 0 else 1,
            MultiAZ=j % 2 == 0,
            DeletionProtection=j % 2 == 1,
        )
        if j % 4 == 0:
            args.update(StorageEncrypted=True, KmsKeyId=keys[region])
        rds[region].create_db_instance(**args)
        calls = 1
        if j % 10 == 0:
            rds[region].create_db_snapshot(
                DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-manual"
            )
            calls += 1
        return calls

    return run_all(one, split(n))


def seed_s3(endpoint, n):
    s3 = {r: client(endpoint, "s3", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        c = s3[region]
        name = f"bench-{'backup' if j % 3 == 0 else 'data'}-{i:04d}-{region}"
        if region == "us-east-1":
            c.create_bucket(Bucket=name)
        else:
            c.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
            )
        calls = 1
        if j % 3 == 0:
            c.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
            calls += 1
        if j % 2 == 0:
            c.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
            )
            calls += 1
        if j % 5 == 0:
            c.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "expire",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "Expiration": {"Days": 30},
                        }
                    ]
                },
            )
            calls += 1
        if j % 4 == 0:
            c.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
            calls += 1
        return calls

    return run_all(one, split(n))


LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def seed_ecr(endpoint, n):
    ecr = {r: client(endpoint, "ecr", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        name = f"bench/service-{i:04d}"
        governed = j % 2 == 0
        ecr[region].create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE" if governed else "MUTABLE",
        )
        if governed:
            ecr[region].put_lifecycle_policy(
                repositoryName=name, lifecyclePolicyText=LIFECYCLE
            )
            return 2
        return 1

    return run_all(one, split(n))


def seed_logs(endpoint, n):
    logs = {r: client(endpoint, "logs", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        name = f"/bench/app-{i:04d}"
        logs[region].create_log_group(logGroupName=name)
        if j % 2 == 0:
            logs[region].put_retention_policy(logGroupName=name, retentionInDays=30)
            return 2
        return 1

    return run_all(one, split(n))


def other(region):
    return REGIONS[(REGIONS.index(region) + 1) % len(REGIONS)]


def seed_secrets(endpoint, n, keys):
    sm = {r: client(endpoint, "secretsmanager", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        name = f"bench/app-{i:04d}/db-password"
        args = dict(Name=name, SecretString=f"s3cr3t-{i}")
        if j % 4 == 0:
            args["KmsKeyId"] = keys[region]
        replicated = j % 3 == 0
        if replicated:
            args["AddReplicaRegions"] = [{"Region": other(region)}]
        sm[region].create_secret(**args)
        if j % 15 == 1:  # never a replicated one (j % 3 == 1)
            sm[region].delete_secret(SecretId=name, RecoveryWindowInDays=7)
            return 2
        return 1

    return run_all(one, split(n))


def seed_event_subscriptions(endpoint, n, instances):
    """instances: the seeded DB instance names of each region."""
    rds = {r: client(endpoint, "rds", r) for r in REGIONS}
    sns = {r: client(endpoint, "sns", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        topic = sns[region].create_topic(Name=f"bench-db-events-{i:03d}")["TopicArn"]
        calls = 1
        # Half the topics reach someone, not the same half in each region.
        if (j + REGIONS.index(region)) % 2 == 0:
            sns[region].subscribe(
                TopicArn=topic, Protocol="email", Endpoint=f"oncall-{i:03d}@example.com"
            )
            calls += 1
        args = dict(
            SubscriptionName=f"bench-db-events-{i:03d}",
            SnsTopicArn=topic,
            SourceType="db-instance",
            # moto defaults Enabled to false, AWS to true: always sent.
            Enabled=j % 5 != 3,
        )
        kind = j % 5
        if kind in (0, 3):
            args["EventCategories"] = ["backup"]
        elif kind == 1:
            named = instances[region][3 * j : 3 * j + 3] or instances[region][:3]
            args.update(EventCategories=["backup"], SourceIds=named)
        elif kind == 2:
            args["EventCategories"] = ["failure"]
        rds[region].create_event_subscription(**args)
        return calls + 1

    return run_all(one, split(n))


def seed_vaults(endpoint, n, keys):
    backup = {r: client(endpoint, "backup", r) for r in REGIONS}

    def one(item):
        region, j, i = item
        name = f"bench-vault-{i:02d}"
        args = dict(BackupVaultName=name)
        if j % 3 == 1:
            args["EncryptionKeyArn"] = keys[region]
        backup[region].create_backup_vault(**args)
        if j % 2 == 0:
            backup[region].put_backup_vault_lock_configuration(
                BackupVaultName=name, MinRetentionDays=7, MaxRetentionDays=365
            )
            return 2
        return 1

    return run_all(one, split(n))


def seed_backup_plans(endpoint, n, vaults):
    """vaults: the number of vaults seeded (the first of each region is the
    plans' target, the other region's first their copy destination)."""
    backup = {r: client(endpoint, "backup", r) for r in REGIONS}
    account = client(endpoint, "sts", REGIONS[0]).get_caller_identity()["Account"]
    first = {
        region: f"bench-vault-{k:02d}" if k < vaults else "Default"
        for k, region in enumerate(REGIONS)
    }

    def one(item):
        region, j, i = item
        keep = {"DeleteAfterDays": 35}
        rule = {
            "RuleName": "daily",
            "TargetBackupVaultName": first[region],
            "ScheduleExpression": "cron(0 5 ? * * *)",
            "Lifecycle": keep,
        }
        if j % 2 == 0:
            dest = other(region)
            rule["CopyActions"] = [
                {
                    "DestinationBackupVaultArn": f"arn:aws:backup:{dest}:{account}:"
                    f"backup-vault:{first[dest]}",
                    "Lifecycle": keep,
                }
            ]
        backup[region].create_backup_plan(
            BackupPlan={"BackupPlanName": f"bench-plan-{i:02d}", "Rules": [rule]}
        )
        return 1

    return run_all(one, split(n)) + 1  # and the GetCallerIdentity


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--buckets", type=int, default=300)
    parser.add_argument("--repositories", type=int, default=100)
    parser.add_argument("--log-groups", type=int, default=500)
    parser.add_argument("--secrets", type=int, default=200)
    parser.add_argument("--event-subscriptions", type=int, default=10)
    parser.add_argument("--vaults", type=int, default=6)
    parser.add_argument("--backup-plans", type=int, default=4)
    parser.add_argument("--regions", default=",".join(REGIONS))
    args = parser.parse_args()
    REGIONS[:] = args.regions.split(",")

    result = {}
    started = time.monotonic()
    keys = {}
    for region in REGIONS:
        kms = client(args.endpoint, "kms", region)
        keys[region] = kms.create_key()["KeyMetadata"]["Arn"]
    instances = {r: [] for r in REGIONS}
    for region, _, i in split(args.instances):
        instances[region].append(f"bench-db-{i:04d}")
    for kind, fn, n in [
        ("log_groups", lambda: seed_logs(args.endpoint, args.log_groups), args.log_groups),
        ("repositories", lambda: seed_ecr(args.endpoint, args.repositories), args.repositories),
        ("buckets", lambda: seed_s3(args.endpoint, args.buckets), args.buckets),
        ("instances", lambda: seed_rds(args.endpoint, args.instances, keys), args.instances),
        ("secrets", lambda: seed_secrets(args.endpoint, args.secrets, keys), args.secrets),
        (
            "event_subscriptions",
            lambda: seed_event_subscriptions(args.endpoint, args.event_subscriptions, instances),
            args.event_subscriptions,
        ),
        ("vaults", lambda: seed_vaults(args.endpoint, args.vaults, keys), args.vaults),
        (
            "backup_plans",
            lambda: seed_backup_plans(args.endpoint, args.backup_plans, args.vaults),
            args.backup_plans,
        ),
    ]:
        t = time.monotonic()
        requests = fn()
        seconds = time.monotonic() - t
        result[kind] = {"count": n, "requests": requests, "seconds": round(seconds, 1)}
        print(
            f"  seeded {n} {kind.replace('_', ' ')}: {requests} requests in {seconds:.1f} s"
            f" ({requests / seconds:.0f} req/s)",
            file=sys.stderr,
        )
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
