"""CloudTrail API calls by MITRE ATT&CK tactic, with the weight of one first-seen call.

The IAMUser/AnomalousBehavior detectors score a principal's first-seen calls of one tactic by
these weights: 1 for calls that are common in admin work (one alone is not suspicious), 2 for
rarer ones, 3 for calls where a single first-seen use is worth a finding (with the default
``min_score`` of 3). An API name appears under one tactic only. Calls that already have their
own signature finding (trail stopped, deleted or narrowed: ``StopLogging``, ``DeleteTrail``,
``UpdateTrail``, ``PutEventSelectors``; ``UpdateAccountPasswordPolicy``,
``DeleteModelInvocationLoggingConfiguration``, S3 public-access and logging settings) are left
to those rules, so one call never yields two findings.
"""

from __future__ import annotations

from collections.abc import Mapping

TACTICS: Mapping[str, Mapping[str, int]] = {
    "Discovery": {
        **dict.fromkeys(
            (
                "ListUsers", "ListRoles", "ListGroups", "ListPolicies", "ListAccessKeys",
                "ListAttachedUserPolicies", "ListAttachedRolePolicies", "ListUserPolicies",
                "ListRolePolicies", "ListGroupsForUser", "ListInstanceProfiles",
                "GetAccountSummary", "ListAccountAliases", "GetUser", "GetRole", "GetPolicy",
                "GetPolicyVersion", "ListMFADevices", "ListSSHPublicKeys",
                "DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets",
                "DescribeSnapshots", "DescribeVolumes", "DescribeKeyPairs", "DescribeImages",
                "DescribeDBInstances", "DescribeDBSnapshots", "ListBuckets", "GetBucketPolicy",
                "GetBucketAcl", "ListSecrets", "ListFunctions20150331", "DescribeTrails",
                "GetTrailStatus", "ListKeys", "ListClusters", "DescribeParameters",
                "ListDetectors", "DescribeConfigurationRecorders", "ListHostedZones",
            ),
            1,
        ),
        **dict.fromkeys(
            ("GetAccountAuthorizationDetails", "GenerateCredentialReport", "GetCredentialReport"),
            2,
        ),
    },
    "Persistence": {
        **dict.fromkeys(("CreateKeyPair", "CreateFunction20150331", "CreateInstanceProfile"), 1),
        **dict.fromkeys(("CreateUser", "CreateRole", "ImportKeyPair"), 2),
        **dict.fromkeys(
            (
                "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile",
                "UploadSSHPublicKey", "CreateServiceSpecificCredential",
            ),
            3,
        ),
    },
    "PrivilegeEscalation": dict.fromkeys(
        (
            "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "PutUserPolicy",
            "PutRolePolicy", "PutGroupPolicy", "AddUserToGroup", "UpdateAssumeRolePolicy",
            "CreatePolicyVersion", "SetDefaultPolicyVersion", "AddRoleToInstanceProfile",
            "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
        ),
        3,
    ),
    "DefenseEvasion": {
        **dict.fromkeys(("DeleteLogStream", "PutRetentionPolicy"), 1),
        **dict.fromkeys(("DeleteLogGroup", "DeleteAlarms", "UpdateDetector"), 2),
        **dict.fromkeys(
            (
                "DeleteFlowLogs", "DeleteDetector",
                "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount",
                "DeleteMembers", "StopConfigurationRecorder", "DeleteConfigurationRecorder",
                "DeleteDeliveryChannel", "DeleteConfigRule", "DisableAlarmActions",
            ),
            3,
        ),
    },
    "CredentialAccess": {
        **dict.fromkeys(("GetParameter", "GetParameters"), 1),
        **dict.fromkeys(("GetSecretValue", "GetParametersByPath"), 2),
        **dict.fromkeys(("GetPasswordData", "BatchGetSecretValue"), 3),
    },
    "Exfiltration": {
        **dict.fromkeys(("CreateSnapshot", "CreateDBSnapshot"), 1),
        **dict.fromkeys(("CopySnapshot", "CopyDBSnapshot", "CreateImage"), 2),
        **dict.fromkeys(
            (
                "ModifySnapshotAttribute", "ModifyImageAttribute", "ModifyDBSnapshotAttribute",
                "ModifyDBClusterSnapshotAttribute", "PutBucketReplication",
            ),
            3,
        ),
    },
    "Impact": {
        **dict.fromkeys(("StopInstances", "DeleteSecurityGroup"), 1),
        **dict.fromkeys(
            (
                "TerminateInstances", "DeleteVolume", "DeleteSnapshot", "PutBucketPolicy",
                "PutBucketVersioning", "PutBucketLifecycle", "PutBucketLifecycleConfiguration",
                "DeleteRole", "DeleteUser",
            ),
            2,
        ),
        **dict.fromkeys(
            (
                "DeleteBucket", "DeleteDBInstance", "DeleteDBCluster", "ScheduleKeyDeletion",
                "DisableKey", "DeleteFileSystem",
            ),
            3,
        ),
    },
    "InitialAccess": {
        **dict.fromkeys(("ConsoleLogin", "GetSessionToken", "StartSession"), 2),
        **dict.fromkeys(("GetFederationToken", "GetSigninToken"), 3),
    },
}  # fmt: skip
"""tactic (as in the finding type) -> {eventName: weight}."""

TECHNIQUES: Mapping[str, str] = {
    "Discovery": "T1087.004",
    "Persistence": "T1098.001",
    "PrivilegeEscalation": "T1098.003",
    "DefenseEvasion": "T1562.008",
    "CredentialAccess": "T1555.006",
    "Exfiltration": "T1537",
    "Impact": "T1485",
    "InitialAccess": "T1078.004",
}
"""The representative ATT&CK (cloud) technique of each tactic's findings."""

TACTIC_NAMES: Mapping[str, str] = {
    "PrivilegeEscalation": "Privilege Escalation",
    "DefenseEvasion": "Defense Evasion",
    "CredentialAccess": "Credential Access",
    "InitialAccess": "Initial Access",
}
"""ATT&CK's spelling of a tactic where it differs from the finding type's."""
