"""DynamoDB tables and the artifacts bucket, built from the shared topology definition."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.config import StackConfig
from shared.topology.definition import Table, Topology


def _table_args(table: Table) -> dict:
    """The aws.dynamodb.Table arguments of one topology table."""
    args: dict = {
        "name": table.name,
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": table.hash_key.name,
        "attributes": [{"name": a.name, "type": a.type} for a in table.attributes()],
        "global_secondary_indexes": [
            {
                "name": index.name,
                "key_schemas": [{"attribute_name": index.hash_key.name, "key_type": "HASH"}]
                + ([{"attribute_name": index.range_key.name, "key_type": "RANGE"}] if index.range_key else []),
                "projection_type": "ALL",
            }
            for index in table.indexes
        ],
        "server_side_encryption": {"enabled": True},
        "point_in_time_recovery": {"enabled": True},
    }
    if table.range_key:
        args["range_key"] = table.range_key.name
    if table.ttl_attribute:
        args["ttl"] = {"attribute_name": table.ttl_attribute, "enabled": True}
    return args


class Data(pulumi.ComponentResource):
    """Every table of the topology (keys, indexes, TTL) and the artifacts bucket."""

    def __init__(self, name: str, topology: Topology, config: StackConfig,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Data", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.tables: dict[str, aws.dynamodb.Table] = {
            t.logical: aws.dynamodb.Table(f"{name}-{t.logical}", deletion_protection_enabled=config.deletion_protection,
                                          opts=child, **_table_args(t))
            for t in topology.tables
        }

        self.bucket = aws.s3.Bucket(f"{name}-artifacts", bucket=topology.bucket_name, opts=child)
        aws.s3.BucketPublicAccessBlock(f"{name}-artifacts", bucket=self.bucket.id, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts", bucket=self.bucket.id,
            rules=[{"id": f"expire-{prefix.rstrip('/')}", "status": "Enabled", "filter": {"prefix": prefix},
                    "expiration": {"days": config.artifacts_retention_days}}
                   for prefix in ("tasks/", "trajectories/")],
            opts=child)
        aws.s3.BucketPolicy(f"{name}-artifacts-tls", bucket=self.bucket.id,
                            policy=self.bucket.arn.apply(_tls_only), opts=child)
        self.register_outputs({"table_names": {k: t.name for k, t in self.tables.items()},
                               "bucket": self.bucket.bucket})


def _tls_only(bucket_arn: str) -> str:
    """Refuse every request to the bucket that is not over TLS."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]})
