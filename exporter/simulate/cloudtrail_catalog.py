"""The API calls and user agents of background CloudTrail activity.

A call is ``(eventSource, eventName, readOnly, requestParameters)``; repeating a call in a
tuple weights it. Calls to global services (IAM) are only made in the account's home Region.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Call = tuple[str, str, bool, Any]

EC2 = "ec2.amazonaws.com"
IAM = "iam.amazonaws.com"
S3 = "s3.amazonaws.com"
CW = "monitoring.amazonaws.com"
GLOBAL_SOURCES = frozenset({IAM})

CLI_AGENT = "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off"
CLI_COPY_AGENT = f"{CLI_AGENT} command/s3.cp"
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
)
BOTO_AGENT = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0-18-cloud-amd64 md/arch#x86_64 "
    "lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
)
SSM_AGENT = "aws-sdk-go/1.44.260 (go1.21.9; linux; amd64) amazon-ssm-agent/3.3.40.0"
JAVA_AGENT = (
    "aws-sdk-java/2.25.11 Linux/6.5.0-1017-aws OpenJDK_64-Bit_Server_VM/17.0.10+7-Ubuntu-"
    "122.04.1 Java/17.0.10 vendor/Private_Build io/sync http/Apache cfg/retry-mode/legacy"
)
CNI_AGENT = "aws-sdk-go/1.50.8 (go1.21.7; linux; amd64)"
LAMBDA_AGENT = (
    "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.213-225.848.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.34.42"
)
BACKUP_AGENT = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off "
    "command/s3.cp"
)

CONSOLE_CALLS: tuple[Call, ...] = (
    (EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}),
    (EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}),
    (EC2, "DescribeInstanceStatus", True, {"instancesSet": {}, "includeAllInstances": True}),
    (EC2, "DescribeSecurityGroups", True, {"securityGroupSet": {}, "filterSet": {}}),
    (EC2, "DescribeVpcs", True, {"vpcSet": {}, "filterSet": {}}),
    (EC2, "DescribeVolumes", True, {"volumeSet": {}, "filterSet": {}}),
    (CW, "DescribeAlarms", True, {"maxRecords": 100}),
    (CW, "GetMetricData", True, None),
    (S3, "ListBuckets", True, {"Host": "s3.amazonaws.com"}),
    ("cloudtrail.amazonaws.com", "LookupEvents", True, {"maxResults": 50}),
    ("lambda.amazonaws.com", "ListFunctions20150331", True, {"functionVersion": "ALL"}),
    ("logs.amazonaws.com", "DescribeLogGroups", True, {"limit": 50}),
    ("eks.amazonaws.com", "ListClusters", True, None),
    (IAM, "ListUsers", True, None),
    (IAM, "ListRoles", True, {"maxItems": 1000}),
    (IAM, "GetAccountSummary", True, None),
)
ADMIN_CLI_CALLS: tuple[Call, ...] = (
    ("sts.amazonaws.com", "GetCallerIdentity", True, None),
    (EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}),
    (EC2, "DescribeRouteTables", True, {"routeTableIdSet": {}, "filterSet": {}}),
    ("ssm.amazonaws.com", "DescribeInstanceInformation", True, {"maxResults": 50}),
    ("logs.amazonaws.com", "FilterLogEvents", True, {"logGroupName": "/app/api", "limit": 100}),
    (IAM, "ListAttachedRolePolicies", True, {"roleName": "app-role"}),
)
DEVELOPER_CALLS: tuple[Call, ...] = (
    ("sts.amazonaws.com", "GetCallerIdentity", True, None),
    ("eks.amazonaws.com", "ListClusters", True, None),
    ("ecr.amazonaws.com", "DescribeImages", True, {"repositoryName": "api"}),
    ("logs.amazonaws.com", "FilterLogEvents", True, {"logGroupName": "/app/api", "limit": 100}),
    ("logs.amazonaws.com", "DescribeLogStreams", True, {"logGroupName": "/app/worker"}),
)
CI_CALLS: tuple[Call, ...] = (
    ("sts.amazonaws.com", "GetCallerIdentity", True, None),
    ("sts.amazonaws.com", "GetCallerIdentity", True, None),
    ("ecr.amazonaws.com", "GetAuthorizationToken", True, None),
    ("ecr.amazonaws.com", "BatchCheckLayerAvailability", True, {"repositoryName": "api"}),
    ("cloudformation.amazonaws.com", "DescribeStacks", True, {"stackName": "app-stack"}),
    ("cloudformation.amazonaws.com", "DescribeStackEvents", True, {"stackName": "app-stack"}),
    ("lambda.amazonaws.com", "GetFunction20150331v2", True, {"functionName": "thumbnailer"}),
    ("ssm.amazonaws.com", "GetParameter", True, {"name": "/ci/deploy/version"}),
    ("ecr.amazonaws.com", "PutImage", False, {"repositoryName": "api", "imageTag": "main"}),
)
SSM_CALLS: tuple[Call, ...] = (
    ("ssm.amazonaws.com", "UpdateInstanceInformation", False, None),
    ("ssm.amazonaws.com", "UpdateInstanceInformation", False, None),
    ("ssm.amazonaws.com", "ListInstanceAssociations", True, {"maxResults": 20}),
)
APP_CALLS: tuple[Call, ...] = (
    ("kms.amazonaws.com", "Decrypt", True, {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("kms.amazonaws.com", "Decrypt", True, {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("secretsmanager.amazonaws.com", "GetSecretValue", True, {"secretId": "prod/app/db"}),
    (
        "ssm.amazonaws.com",
        "GetParameters",
        True,
        {"names": ["/app/config"], "withDecryption": True},
    ),
)
WEB_CALLS: tuple[Call, ...] = (
    ("ssm.amazonaws.com", "GetParameters", True, {"names": ["/web/config"]}),
    (CW, "PutMetricData", False, {"namespace": "Web"}),
)
NODE_CALLS: tuple[Call, ...] = (
    ("ecr.amazonaws.com", "GetAuthorizationToken", True, None),
    (EC2, "DescribeNetworkInterfaces", True, {"networkInterfaceIdSet": {}, "filterSet": {}}),
    (EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}),
)
LAMBDA_CALLS: tuple[Call, ...] = (
    ("logs.amazonaws.com", "CreateLogStream", False, {"logGroupName": "/aws/lambda/fn"}),
    ("kms.amazonaws.com", "Decrypt", True, {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("ssm.amazonaws.com", "GetParameter", True, {"name": "/lambda/config"}),
)
CONFIG_CALLS: tuple[Call, ...] = (
    (EC2, "DescribeInstances", True, {"instancesSet": {}, "filterSet": {}}),
    (EC2, "DescribeSecurityGroups", True, {"securityGroupSet": {}, "filterSet": {}}),
    (EC2, "DescribeNetworkInterfaces", True, {"networkInterfaceIdSet": {}, "filterSet": {}}),
    (EC2, "DescribeSubnets", True, {"subnetSet": {}, "filterSet": {}}),
    (EC2, "DescribeVolumes", True, {"volumeSet": {}, "filterSet": {}}),
    (EC2, "DescribeRouteTables", True, {"routeTableIdSet": {}, "filterSet": {}}),
    ("lambda.amazonaws.com", "ListFunctions20150331", True, None),
    (S3, "GetBucketAcl", True, {"acl": ""}),
)


def regional(calls: tuple[Call, ...], home: bool) -> tuple[Call, ...]:
    """``calls`` without the global-service calls unless this is the home Region."""
    return calls if home else tuple(c for c in calls if c[0] not in GLOBAL_SOURCES)


@lru_cache(maxsize=256)
def cli_agent(source: str, name: str) -> str:
    """The aws-cli v2 user agent of a call, ``command/<service>.<kebab-name>`` included."""
    command = re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
    return f"{CLI_AGENT} command/{source.split('.')[0]}.{command}"
