"""The GuardDuty finding types of Duskwatch's five data sources (guardduty.md section 2).

Each type names its data source (a Duskwatch log type), default severity, resource type,
action type, the kind of logic that raises it and a one-line summary. Out-of-scope families
(Runtime, Malware Protection, Lambda, RDS, attack sequences) and retired types are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exporter.findings.severity import HIGH, LOW, MEDIUM
from exporter.registry import Registry

Logic = Literal["TI", "cTI", "Rule", "ML", "Rep"]
"""AWS threat intel, customer threat list, signature/heuristic, anomaly model, reputation."""


@dataclass(frozen=True)
class FindingType:
    """One finding type and what its findings look like."""

    name: str
    log_type: str
    severity: float
    resource_type: str
    action_type: str
    logic: Logic
    summary: str

    @property
    def uses_threat_list(self) -> bool:
        """True when a threat list raises it (the finding carries threat evidence)."""
        return self.logic in ("TI", "cTI")


FINDING_TYPES: Registry[FindingType] = Registry("finding type")


def default_severity(finding_type: str) -> float:
    """GuardDuty's severity of ``finding_type`` (the catalogue's)."""
    return FINDING_TYPES.get(finding_type).severity


_EC2_DNS_RULES = ("Trojan:EC2/DNSDataExfiltration", "UnauthorizedAccess:EC2/MetadataDNSRebind")


def _ec2(name: str, severity: float, logic: Logic, summary: str) -> None:
    dns = name.endswith("!DNS") or "DomainRequest" in name or name in _EC2_DNS_RULES
    log_type, action = ("route53", "DNS_REQUEST") if dns else ("vpcflow", "NETWORK_CONNECTION")
    if "PortProbe" in name:
        action = "PORT_PROBE"
    FINDING_TYPES.add(
        name, FindingType(name, log_type, severity, "Instance", action, logic, summary)
    )


def _cloudtrail(name: str, severity: float, logic: Logic, summary: str, resource: str) -> None:
    FINDING_TYPES.add(
        name, FindingType(name, "cloudtrail", severity, resource, "AWS_API_CALL", logic, summary)
    )


def _k8s(name: str, severity: float, logic: Logic, summary: str) -> None:
    FINDING_TYPES.add(
        name,
        FindingType(
            name, "eks-audit", severity, "EKSCluster", "KUBERNETES_API_CALL", logic, summary
        ),
    )


_EC2: tuple[tuple[str, float, Logic, str], ...] = (
    ("Backdoor:EC2/C&CActivity.B", HIGH, "TI", "instance talks to a command-and-control IP"),
    ("Backdoor:EC2/C&CActivity.B!DNS", HIGH, "TI", "instance queries a command-and-control domain"),
    ("Backdoor:EC2/DenialOfService.Dns", HIGH, "Rule", "outbound DNS flood to public IPs"),
    ("Backdoor:EC2/DenialOfService.Tcp", HIGH, "Rule", "outbound TCP flood to public IPs"),
    ("Backdoor:EC2/DenialOfService.Udp", HIGH, "Rule", "outbound UDP flood to public IPs"),
    ("Backdoor:EC2/DenialOfService.UdpOnTcpPorts", HIGH, "Rule", "outbound UDP flood on TCP ports"),
    ("Backdoor:EC2/DenialOfService.UnusualProtocol", HIGH, "Rule", "outbound flood, rare protocol"),
    ("Backdoor:EC2/Spambot", MEDIUM, "ML", "instance sends mail on port 25 without history"),
    ("Behavior:EC2/NetworkPortUnusual", MEDIUM, "ML", "instance talks to a new remote port"),
    ("Behavior:EC2/TrafficVolumeUnusual", MEDIUM, "ML", "traffic volume above the baseline"),
    ("CryptoCurrency:EC2/BitcoinTool.B", HIGH, "TI", "instance talks to a mining IP"),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", HIGH, "TI", "instance queries a mining domain"),
    ("DefenseEvasion:EC2/UnusualDNSResolver", MEDIUM, "ML", "instance uses a new public resolver"),
    ("DefenseEvasion:EC2/UnusualDoHActivity", MEDIUM, "ML", "instance uses a new DoH server"),
    ("DefenseEvasion:EC2/UnusualDoTActivity", MEDIUM, "ML", "instance uses a new DoT server"),
    ("Impact:EC2/AbusedDomainRequest.Reputation", MEDIUM, "Rep", "query of an abused domain"),
    ("Impact:EC2/BitcoinDomainRequest.Reputation", HIGH, "Rep", "query of a crypto domain"),
    ("Impact:EC2/MaliciousDomainRequest.Custom", MEDIUM, "cTI", "query of a listed domain"),
    ("Impact:EC2/MaliciousDomainRequest.Reputation", HIGH, "Rep", "query of a malicious domain"),
    ("Impact:EC2/PortSweep", HIGH, "Rule", "one port probed on many public IPs"),
    ("Impact:EC2/SuspiciousDomainRequest.Reputation", LOW, "Rep", "query of a young/rare domain"),
    ("Impact:EC2/WinRMBruteForce", LOW, "Rule", "WinRM brute force"),
    ("Recon:EC2/PortProbeEMRUnprotectedPort", HIGH, "TI", "open EMR port probed"),
    ("Recon:EC2/PortProbeUnprotectedPort", LOW, "TI", "open port probed by a known scanner"),
    ("Recon:EC2/Portscan", MEDIUM, "Rule", "many ports of one host scanned quickly"),
    ("Trojan:EC2/BlackholeTraffic", MEDIUM, "TI", "instance talks to a black-holed IP"),
    ("Trojan:EC2/BlackholeTraffic!DNS", MEDIUM, "TI", "query of a black-holed domain"),
    ("Trojan:EC2/DGADomainRequest.B", HIGH, "Rule", "queries of DGA-like names"),
    ("Trojan:EC2/DGADomainRequest.C!DNS", HIGH, "TI", "query of a known DGA name"),
    ("Trojan:EC2/DNSDataExfiltration", HIGH, "Rule", "data encoded in DNS queries"),
    ("Trojan:EC2/DriveBySourceTraffic!DNS", HIGH, "TI", "query of a drive-by download domain"),
    ("Trojan:EC2/DropPoint", MEDIUM, "TI", "instance talks to a stolen-data drop IP"),
    ("Trojan:EC2/DropPoint!DNS", MEDIUM, "TI", "query of a stolen-data drop domain"),
    ("Trojan:EC2/PhishingDomainRequest!DNS", HIGH, "TI", "query of a phishing domain"),
    ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", MEDIUM, "cTI", "traffic with a listed IP"),
    ("UnauthorizedAccess:EC2/MetadataDNSRebind", HIGH, "Rule", "name resolves to the IMDS"),
    ("UnauthorizedAccess:EC2/RDPBruteForce", LOW, "Rule", "RDP brute force"),
    ("UnauthorizedAccess:EC2/SSHBruteForce", LOW, "Rule", "SSH brute force"),
    ("UnauthorizedAccess:EC2/TorClient", HIGH, "TI", "instance connects to Tor guards"),
    ("UnauthorizedAccess:EC2/TorRelay", HIGH, "TI", "instance acts as a Tor relay"),
)

_IAM: tuple[tuple[str, float, Logic, str], ...] = (
    ("CredentialAccess:IAMUser/AnomalousBehavior", MEDIUM, "ML", "anomalous secret access"),
    ("DefenseEvasion:IAMUser/AnomalousBehavior", MEDIUM, "ML", "anomalous logging changes"),
    ("DefenseEvasion:IAMUser/BedrockLoggingDisabled", MEDIUM, "Rule", "Bedrock logging disabled"),
    ("Discovery:IAMUser/AnomalousBehavior", LOW, "ML", "anomalous Describe/Get/List calls"),
    ("Exfiltration:IAMUser/AnomalousBehavior", HIGH, "ML", "anomalous snapshot or replication"),
    ("Impact:IAMUser/AnomalousBehavior", HIGH, "ML", "anomalous destructive calls"),
    ("InitialAccess:IAMUser/AnomalousBehavior", MEDIUM, "ML", "anomalous token/session calls"),
    ("Persistence:IAMUser/AnomalousBehavior", MEDIUM, "ML", "anomalous access key creation"),
    ("PrivilegeEscalation:IAMUser/AnomalousBehavior", MEDIUM, "ML", "anomalous policy changes"),
    ("PenTest:IAMUser/KaliLinux", MEDIUM, "Rule", "API calls from Kali Linux"),
    ("PenTest:IAMUser/ParrotLinux", MEDIUM, "Rule", "API calls from Parrot Linux"),
    ("PenTest:IAMUser/PentooLinux", MEDIUM, "Rule", "API calls from Pentoo Linux"),
    ("Policy:IAMUser/RootCredentialUsage", LOW, "Rule", "root credentials used"),
    ("Policy:IAMUser/ShortTermRootCredentialUsage", LOW, "Rule", "short-term root credentials"),
    ("Recon:IAMUser/MaliciousIPCaller", MEDIUM, "TI", "reconnaissance from a malicious IP"),
    ("Recon:IAMUser/MaliciousIPCaller.Custom", MEDIUM, "cTI", "reconnaissance from a listed IP"),
    ("Recon:IAMUser/TorIPCaller", MEDIUM, "TI", "reconnaissance from a Tor exit node"),
    ("Stealth:IAMUser/CloudTrailLoggingDisabled", LOW, "Rule", "a trail stopped or deleted"),
    ("Stealth:IAMUser/PasswordPolicyChange", LOW, "Rule", "password policy weakened"),
    ("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", MEDIUM, "Rule", "far-apart logins"),
    (
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
        HIGH,
        "Rule",
        "instance role credentials used from another account",
    ),
    (
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        HIGH,
        "Rule",
        "instance role credentials used outside AWS",
    ),
    ("UnauthorizedAccess:IAMUser/MaliciousIPCaller", MEDIUM, "TI", "API call from a malicious IP"),
    ("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", MEDIUM, "cTI", "call from a listed IP"),
    (
        "UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.OutsideAWS",
        HIGH,
        "Rule",
        "Lambda credentials used outside AWS",
    ),
    ("UnauthorizedAccess:IAMUser/TorIPCaller", MEDIUM, "TI", "API call from a Tor exit node"),
)

_S3_DATA: tuple[tuple[str, float, Logic, str], ...] = (
    ("Discovery:S3/AnomalousBehavior", LOW, "ML", "anomalous bucket listing"),
    ("Discovery:S3/MaliciousIPCaller", HIGH, "TI", "bucket listing from a malicious IP"),
    ("Discovery:S3/MaliciousIPCaller.Custom", HIGH, "cTI", "bucket listing from a listed IP"),
    ("Discovery:S3/TorIPCaller", MEDIUM, "TI", "bucket listing from a Tor exit node"),
    ("Exfiltration:S3/AnomalousBehavior", HIGH, "ML", "anomalous object reads"),
    ("Exfiltration:S3/MaliciousIPCaller", HIGH, "TI", "object reads from a malicious IP"),
    ("Impact:S3/AnomalousBehavior.Delete", HIGH, "ML", "anomalous object deletes"),
    ("Impact:S3/AnomalousBehavior.Permission", HIGH, "ML", "anomalous ACL changes"),
    ("Impact:S3/AnomalousBehavior.Write", MEDIUM, "ML", "anomalous object writes"),
    ("Impact:S3/MaliciousIPCaller", HIGH, "TI", "object writes from a malicious IP"),
    ("PenTest:S3/KaliLinux", MEDIUM, "Rule", "S3 calls from Kali Linux"),
    ("PenTest:S3/ParrotLinux", MEDIUM, "Rule", "S3 calls from Parrot Linux"),
    ("PenTest:S3/PentooLinux", MEDIUM, "Rule", "S3 calls from Pentoo Linux"),
    ("UnauthorizedAccess:S3/MaliciousIPCaller.Custom", HIGH, "cTI", "S3 call from a listed IP"),
    ("UnauthorizedAccess:S3/TorIPCaller", HIGH, "TI", "S3 call from a Tor exit node"),
)

_S3_MANAGEMENT: tuple[tuple[str, float, Logic, str], ...] = (
    ("Policy:S3/AccountBlockPublicAccessDisabled", LOW, "Rule", "account Block Public Access off"),
    ("Policy:S3/BucketAnonymousAccessGranted", HIGH, "Rule", "bucket made internet-public"),
    ("Policy:S3/BucketBlockPublicAccessDisabled", LOW, "Rule", "bucket Block Public Access off"),
    ("Policy:S3/BucketPublicAccessGranted", HIGH, "Rule", "bucket opened to all AWS users"),
    ("Stealth:S3/ServerAccessLoggingDisabled", LOW, "Rule", "bucket access logging disabled"),
)

_K8S_MATRIX: dict[str, tuple[float, str]] = {
    "CredentialAccess": (HIGH, "credential access"),
    "DefenseEvasion": (HIGH, "defense evasion"),
    "Discovery": (MEDIUM, "discovery"),
    "Impact": (HIGH, "impact"),
    "Persistence": (MEDIUM, "persistence"),
}
_K8S_CALLERS: dict[str, tuple[Logic, str]] = {
    "MaliciousIPCaller": ("TI", "Kubernetes API {} from a malicious IP"),
    "MaliciousIPCaller.Custom": ("cTI", "Kubernetes API {} from a listed IP"),
    "TorIPCaller": ("TI", "Kubernetes API {} from a Tor exit node"),
    "SuccessfulAnonymousAccess": ("Rule", "anonymous Kubernetes API {} succeeded"),
}

_K8S: tuple[tuple[str, float, Logic, str], ...] = (
    (
        "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
        MEDIUM,
        "ML",
        "anomalous secret reads",
    ),
    ("Discovery:Kubernetes/AnomalousBehavior.PermissionChecked", LOW, "ML", "auth can-i checks"),
    ("Execution:Kubernetes/AnomalousBehavior.ExecInPod", MEDIUM, "ML", "anomalous exec in a pod"),
    ("Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed", LOW, "ML", "anomalous workload"),
    ("Execution:Kubernetes/ExecInKubeSystemPod", MEDIUM, "Rule", "exec in a kube-system pod"),
    (
        "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount",
        HIGH,
        "ML",
        "anomalous workload with a sensitive host path",
    ),
    ("Persistence:Kubernetes/ContainerWithSensitiveMount", MEDIUM, "Rule", "sensitive hostPath"),
    ("Policy:Kubernetes/AdminAccessToDefaultServiceAccount", HIGH, "Rule", "admin on default SA"),
    ("Policy:Kubernetes/AnonymousAccessGranted", HIGH, "Rule", "binding to system:anonymous"),
    ("Policy:Kubernetes/ExposedDashboard", MEDIUM, "Rule", "Kubernetes dashboard exposed"),
    ("Policy:Kubernetes/KubeflowDashboardExposed", MEDIUM, "Rule", "Kubeflow dashboard exposed"),
    (
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated",
        MEDIUM,
        "ML",
        "anomalous role binding",
    ),
    (
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated",
        LOW,
        "ML",
        "over-permissive role",
    ),
    (
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer",
        HIGH,
        "ML",
        "anomalous privileged container",
    ),
    ("PrivilegeEscalation:Kubernetes/PrivilegedContainer", MEDIUM, "Rule", "privileged container"),
)


def _register() -> None:
    for name, severity, logic, summary in _EC2:
        _ec2(name, severity, logic, summary)
    for name, severity, logic, summary in _IAM + _S3_MANAGEMENT:
        _cloudtrail(name, severity, logic, summary, "AccessKey")
    for name, severity, logic, summary in _S3_DATA:
        _cloudtrail(name, severity, logic, summary, "S3Bucket")
    for tactic, (severity, phrase) in _K8S_MATRIX.items():
        for mechanism, (logic, template) in _K8S_CALLERS.items():
            anonymous = mechanism == "SuccessfulAnonymousAccess" and tactic == "Persistence"
            rank = HIGH if anonymous else severity
            _k8s(f"{tactic}:Kubernetes/{mechanism}", rank, logic, template.format(phrase))
    for name, severity, logic, summary in _K8S:
        _k8s(name, severity, logic, summary)


_register()
