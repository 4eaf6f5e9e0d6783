"""Which GuardDuty finding type a list hit makes: tables, per data source and list category.

PURE. A list's category falls into a *family*: ``custom`` (user lists: the ``.Custom``
types), ``tor`` (Tor exit nodes: the ``TorIPCaller`` / ``TorClient`` types) or ``intel``
(every other category: AWS-threat-intel-like feeds, the plain ``MaliciousIPCaller`` types
for API callers and a category-specific type for flows and DNS). A ``None`` cell means no
GuardDuty type exists for the combination, and no finding is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

Family = Literal["custom", "tor", "intel"]
Direction = Literal["INBOUND", "OUTBOUND"]

LOW, MEDIUM, HIGH = 2.0, 5.0, 8.0


@dataclass(frozen=True)
class TypeInfo:
    """Severity and MITRE ATT&CK tactic / technique of one finding type."""

    severity: float
    tactic: str
    technique: str


_TOR = ("Command and Control", "T1090.003")
_DNS_C2 = ("Command and Control", "T1071.004")
_HIJACK = ("Impact", "T1496")

#: Every type a list hit can make (severities: guardduty.md section 2).
FINDING_TYPES: Mapping[str, TypeInfo] = {
    "Recon:IAMUser/MaliciousIPCaller": TypeInfo(MEDIUM, "Discovery", "T1580"),
    "Recon:IAMUser/MaliciousIPCaller.Custom": TypeInfo(MEDIUM, "Discovery", "T1580"),
    "Recon:IAMUser/TorIPCaller": TypeInfo(MEDIUM, *_TOR),
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller": TypeInfo(MEDIUM, "Initial Access", "T1078.004"),
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom": TypeInfo(
        MEDIUM, "Initial Access", "T1078.004"
    ),
    "UnauthorizedAccess:IAMUser/TorIPCaller": TypeInfo(MEDIUM, *_TOR),
    "Discovery:S3/MaliciousIPCaller": TypeInfo(HIGH, "Discovery", "T1619"),
    "Discovery:S3/MaliciousIPCaller.Custom": TypeInfo(HIGH, "Discovery", "T1619"),
    "Discovery:S3/TorIPCaller": TypeInfo(MEDIUM, *_TOR),
    "Exfiltration:S3/MaliciousIPCaller": TypeInfo(HIGH, "Collection", "T1530"),
    "Impact:S3/MaliciousIPCaller": TypeInfo(HIGH, "Impact", "T1565"),
    "UnauthorizedAccess:S3/MaliciousIPCaller.Custom": TypeInfo(HIGH, "Initial Access", "T1078.004"),
    "UnauthorizedAccess:S3/TorIPCaller": TypeInfo(HIGH, *_TOR),
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom": TypeInfo(
        MEDIUM, "Command and Control", "T1071"
    ),
    "UnauthorizedAccess:EC2/TorClient": TypeInfo(HIGH, *_TOR),
    "Backdoor:EC2/C&CActivity.B": TypeInfo(HIGH, "Command and Control", "T1071"),
    "Backdoor:EC2/C&CActivity.B!DNS": TypeInfo(HIGH, *_DNS_C2),
    "CryptoCurrency:EC2/BitcoinTool.B": TypeInfo(HIGH, *_HIJACK),
    "CryptoCurrency:EC2/BitcoinTool.B!DNS": TypeInfo(HIGH, *_HIJACK),
    "Trojan:EC2/DropPoint": TypeInfo(MEDIUM, "Exfiltration", "T1041"),
    "Trojan:EC2/DropPoint!DNS": TypeInfo(MEDIUM, "Exfiltration", "T1041"),
    "Trojan:EC2/BlackholeTraffic": TypeInfo(MEDIUM, "Command and Control", "T1071"),
    "Trojan:EC2/BlackholeTraffic!DNS": TypeInfo(MEDIUM, *_DNS_C2),
    "Trojan:EC2/PhishingDomainRequest!DNS": TypeInfo(HIGH, "Initial Access", "T1566"),
    "Trojan:EC2/DriveBySourceTraffic!DNS": TypeInfo(HIGH, "Initial Access", "T1189"),
    "Trojan:EC2/DGADomainRequest.C!DNS": TypeInfo(HIGH, "Command and Control", "T1568.002"),
    "Impact:EC2/MaliciousDomainRequest.Custom": TypeInfo(MEDIUM, *_DNS_C2),
    "Impact:EC2/MaliciousDomainRequest.Reputation": TypeInfo(HIGH, *_DNS_C2),
    "Impact:EC2/AbusedDomainRequest.Reputation": TypeInfo(MEDIUM, "Command and Control", "T1568"),
    "Impact:EC2/BitcoinDomainRequest.Reputation": TypeInfo(HIGH, *_HIJACK),
    "Impact:EC2/SuspiciousDomainRequest.Reputation": TypeInfo(LOW, *_DNS_C2),
}

# --- CloudTrail management events (resource: the access key) -----------------------------

#: API name patterns of reconnaissance calls; any other call is "access".
IAM_RECON_PATTERNS = ("List*", "Describe*", "Get*")
IAM_TYPES: Mapping[tuple[str, Family], str] = {
    ("recon", "custom"): "Recon:IAMUser/MaliciousIPCaller.Custom",
    ("recon", "tor"): "Recon:IAMUser/TorIPCaller",
    ("recon", "intel"): "Recon:IAMUser/MaliciousIPCaller",
    ("access", "custom"): "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
    ("access", "tor"): "UnauthorizedAccess:IAMUser/TorIPCaller",
    ("access", "intel"): "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
}

# --- CloudTrail S3 data events (resource: the bucket) --------------------------------------

#: (API name pattern, class), first match wins.
S3_API_CLASSES: tuple[tuple[str, str], ...] = (
    ("Get*Acl", "discovery"),
    ("GetObject", "exfiltration"),
    ("GetObjectTorrent", "exfiltration"),
    ("CopyObject", "exfiltration"),
    ("SelectObjectContent", "exfiltration"),
    ("UploadPartCopy", "exfiltration"),
    ("List*", "discovery"),
    ("Head*", "discovery"),
    ("Get*", "discovery"),
    ("*", "impact"),
)
S3_TYPES: Mapping[tuple[str, Family], str] = {
    ("discovery", "custom"): "Discovery:S3/MaliciousIPCaller.Custom",
    ("discovery", "tor"): "Discovery:S3/TorIPCaller",
    ("discovery", "intel"): "Discovery:S3/MaliciousIPCaller",
    ("exfiltration", "custom"): "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
    ("exfiltration", "tor"): "UnauthorizedAccess:S3/TorIPCaller",
    ("exfiltration", "intel"): "Exfiltration:S3/MaliciousIPCaller",
    ("impact", "custom"): "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
    ("impact", "tor"): "UnauthorizedAccess:S3/TorIPCaller",
    ("impact", "intel"): "Impact:S3/MaliciousIPCaller",
}

# --- EKS audit logs (resource: the cluster) -------------------------------------------------

_READ = frozenset({"get", "list", "watch"})
_WRITE = frozenset({"create", "update", "patch"})
_DELETE = frozenset({"delete", "deletecollection"})
_PERSISTENT = frozenset(
    {"roles", "clusterroles", "rolebindings", "clusterrolebindings", "serviceaccounts"}
    | {"daemonsets", "deployments", "statefulsets", "replicasets", "cronjobs", "jobs", "pods"}
    | {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}
    | {"certificatesigningrequests", "secrets"}
)
_EXEC = frozenset({"exec", "attach", "portforward", "proxy"})

#: (verbs, resources (None: any), subresources (None: any), tactic), first match wins.
EksRow = tuple[frozenset[str], frozenset[str] | None, frozenset[str] | None, str]
EKS_TACTICS: tuple[EksRow, ...] = (
    (_READ, frozenset({"secrets"}), None, "CredentialAccess"),
    (_READ, None, None, "Discovery"),
    (_DELETE, frozenset({"events"}), None, "DefenseEvasion"),
    (frozenset({"impersonate"}), None, None, "DefenseEvasion"),
    (_WRITE, frozenset({"pods"}), _EXEC, "Impact"),
    (_WRITE, _PERSISTENT, None, "Persistence"),
    (_WRITE | _DELETE, None, None, "Impact"),
)
EKS_MECHANISMS: Mapping[Family, str] = {
    "custom": "MaliciousIPCaller.Custom",
    "tor": "TorIPCaller",
    "intel": "MaliciousIPCaller",
}
EKS_SEVERITY: Mapping[str, float] = {
    "CredentialAccess": HIGH,
    "DefenseEvasion": HIGH,
    "Discovery": MEDIUM,
    "Impact": HIGH,
    "Persistence": MEDIUM,
}
EKS_MITRE: Mapping[str, tuple[str, str]] = {
    "CredentialAccess": ("Credential Access", "T1552.007"),
    "DefenseEvasion": ("Defense Evasion", "T1070"),
    "Discovery": ("Discovery", "T1613"),
    "Impact": ("Impact", "T1485"),
    "Persistence": ("Persistence", "T1098"),
}
#: Health endpoints: excluded, as GuardDuty excludes them from Discovery.
EKS_HEALTH_PATHS = ("/healthz", "/livez", "/readyz", "/version")

# --- VPC flow logs (resource: the instance; role by direction) ----------------------------

# Keyed by the direction of the *connection* (``findings.connection_direction``: the replies
# of an instance's connection to a C&C server are part of an OUTBOUND connection). The
# custom type is made for both directions (TARGET inbound, ACTOR outbound), as GuardDuty
# documents; the others for connections the instance opens. GuardDuty has no flow type for
# reputation-listed ("malicious") addresses, nor for connections opened from Tor exits.

FLOW_TYPES: Mapping[tuple[str, Direction], str] = {
    ("custom", "INBOUND"): "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
    ("custom", "OUTBOUND"): "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
    ("tor", "OUTBOUND"): "UnauthorizedAccess:EC2/TorClient",
    ("c2", "OUTBOUND"): "Backdoor:EC2/C&CActivity.B",
    ("cryptomining", "OUTBOUND"): "CryptoCurrency:EC2/BitcoinTool.B",
    ("droppoint", "OUTBOUND"): "Trojan:EC2/DropPoint",
    ("blackhole", "OUTBOUND"): "Trojan:EC2/BlackholeTraffic",
}

# --- Route 53 resolver query logs (domain entries only) ---------------------------------

DNS_TYPES: Mapping[str, str] = {
    "custom": "Impact:EC2/MaliciousDomainRequest.Custom",
    "c2": "Backdoor:EC2/C&CActivity.B!DNS",
    "cryptomining": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "malicious": "Impact:EC2/MaliciousDomainRequest.Reputation",
    "cryptocurrency": "Impact:EC2/BitcoinDomainRequest.Reputation",
    "abused": "Impact:EC2/AbusedDomainRequest.Reputation",
    "suspicious": "Impact:EC2/SuspiciousDomainRequest.Reputation",
    "droppoint": "Trojan:EC2/DropPoint!DNS",
    "blackhole": "Trojan:EC2/BlackholeTraffic!DNS",
    "phishing": "Trojan:EC2/PhishingDomainRequest!DNS",
    "driveby": "Trojan:EC2/DriveBySourceTraffic!DNS",
    "dga": "Trojan:EC2/DGADomainRequest.C!DNS",
}


def family(category: str) -> Family:
    """The family of a list category."""
    if category in ("custom", "tor"):
        return "custom" if category == "custom" else "tor"
    return "intel"


def iam_type(category: str, api: str) -> str:
    """The type of a CloudTrail management call from a listed IP."""
    recon = any(fnmatchcase(api, pattern) for pattern in IAM_RECON_PATTERNS)
    return IAM_TYPES[("recon" if recon else "access", family(category))]


def s3_type(category: str, api: str) -> str:
    """The type of an S3 data event from a listed IP."""
    api_class = next(c for pattern, c in S3_API_CLASSES if fnmatchcase(api, pattern))
    return S3_TYPES[(api_class, family(category))]


def eks_tactic(verb: str, resource: str, subresource: str, uri: str) -> str | None:
    """The tactic of a Kubernetes API call (None: a health probe or an unclassified verb)."""
    path = uri.split("?", 1)[0]
    if any(path == p or path.startswith(p + "/") for p in EKS_HEALTH_PATHS):
        return None
    for verbs, resources, subresources, tactic in EKS_TACTICS:
        if verb not in verbs or (resources is not None and resource not in resources):
            continue
        if subresources is None or subresource in subresources:
            return tactic
    return None


def eks_type(category: str, tactic: str) -> str:
    """The type of a Kubernetes API call of ``tactic`` from a listed IP."""
    return f"{tactic}:Kubernetes/{EKS_MECHANISMS[family(category)]}"


def type_info(finding_type: str) -> TypeInfo:
    """Severity and MITRE mapping of any type :func:`eks_type` or the tables produce."""
    known = FINDING_TYPES.get(finding_type)
    if known is not None:
        return known
    tactic = finding_type.split(":", 1)[0]
    mechanism = finding_type.rsplit("/", 1)[-1]
    if mechanism == "TorIPCaller":
        return TypeInfo(EKS_SEVERITY[tactic], *_TOR)
    return TypeInfo(EKS_SEVERITY[tactic], *EKS_MITRE[tactic])
