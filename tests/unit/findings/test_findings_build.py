"""build_finding: GuardDuty finding JSON from a spec and a real normalized event."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.findings.build import build_finding, finding_id, to_guardduty
from exporter.findings.spec import FindingSpec, ThreatDetail
from exporter.findings.validation import problems
from exporter.logtypes import LOG_TYPES
from exporter.parsers.base import Record

NOW = datetime(2025, 3, 2, 11, 18, 44, 202000, tzinfo=UTC)
DETECTOR = "3c9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
FLOW_ORIGIN = "s3://logs/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2025/03/02/flow.log"

STOP_LOGGING = {
    "eventVersion": "1.09",
    "eventTime": "2025-03-02T11:04:17Z",
    "eventSource": "cloudtrail.amazonaws.com",
    "eventName": "StopLogging",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "203.0.113.45",
    "userAgent": "aws-cli/2.15.30 md/distrib#kali.2024",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEPRINCIPAL",
        "arn": "arn:aws:iam::111122223333:user/ci-bot",
        "accountId": "111122223333",
        "accessKeyId": "AKIAEXAMPLEKEY01",
        "userName": "ci-bot",
    },
    "requestParameters": {"name": "org-trail"},
    "eventID": "0e7c7d62-1111-4c61-9a49-2b3a1f1c2d3e",
    "readOnly": False,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": "111122223333",
    "eventCategory": "Management",
}
GET_OBJECT = {
    "eventVersion": "1.09",
    "eventTime": "2025-03-02T11:09:51Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "185.220.101.7",
    "userIdentity": {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEROLE:i-0abc1234def567890",
        "arn": "arn:aws:sts::111122223333:assumed-role/app-role/i-0abc1234def567890",
        "accountId": "111122223333",
        "accessKeyId": "ASIAEXAMPLETMP01",
        "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "app-role"}},
    },
    "requestParameters": {"bucketName": "payroll-exports", "key": "2025/02/salaries.csv"},
    "eventID": "6f0e1b8a-2222-4c61-9a49-2b3a1f1c2d3e",
    "managementEvent": False,
    "eventCategory": "Data",
    "recipientAccountId": "111122223333",
}
FLOW = (
    "2 111122223333 eni-0f1e2d3c4b5a69788 {src} 10.0.3.25 {sport} 22 6 9 540 {start} {end} "
    "REJECT OK"
)
OUTBOUND_FLOW = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status vpc-id subnet-id instance-id flow-direction\n"
    "5 111122223333 eni-0f1e2d3c4b5a69788 10.0.3.25 198.51.100.9 50000 443 6 20 4000 "
    "1740913200 1740913260 ACCEPT OK vpc-0a1b2c3d subnet-0d4e5f6a i-0abc1234def567890 egress"
)
DNS_QUERY = {
    "version": "1.100000",
    "account_id": "111122223333",
    "region": "eu-west-1",
    "vpc_id": "vpc-0a1b2c3d",
    "query_timestamp": "2025-03-02T11:12:40Z",
    "query_name": "x7kq2v9d1m.example-dga.net.",
    "query_type": "A",
    "query_class": "IN",
    "rcode": "NXDOMAIN",
    "answers": [],
    "srcaddr": "10.0.3.25",
    "srcport": "53122",
    "transport": "UDP",
    "srcids": {"instance": "i-0abc1234def567890"},
}
POD_EXEC = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "Metadata",
    "auditID": "5b2c1e7a-9d3f-4e11-a0b2-6c8d9e0f1a2b",
    "stage": "ResponseComplete",
    "requestURI": "/api/v1/namespaces/kube-system/pods/coredns-x2k4p/exec?command=sh",
    "verb": "create",
    "user": {"username": "kubernetes-admin", "groups": ["system:masters"]},
    "sourceIPs": ["198.51.100.20"],
    "userAgent": "kubectl/v1.30.2",
    "objectRef": {
        "resource": "pods",
        "namespace": "kube-system",
        "name": "coredns-x2k4p",
        "subresource": "exec",
    },
    "responseStatus": {"code": 101},
    "requestReceivedTimestamp": "2025-03-02T11:20:05.101Z",
}
PRIVILEGED_DEPLOYMENT = {
    **POD_EXEC,
    "level": "Request",
    "requestURI": "/apis/apps/v1/namespaces/default/deployments",
    "objectRef": {"resource": "deployments", "namespace": "default", "apiGroup": "apps"},
    "responseStatus": {"code": 201},
    "requestObject": {
        "kind": "Deployment",
        "metadata": {"name": "miner"},
        "spec": {
            "template": {
                "spec": {
                    "hostNetwork": True,
                    "serviceAccountName": "default",
                    "containers": [
                        {
                            "name": "xmrig",
                            "image": "docker.io/evil/xmrig:6.21",
                            "securityContext": {"privileged": True},
                            "volumeMounts": [{"name": "host", "mountPath": "/host"}],
                        }
                    ],
                    "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
                }
            }
        },
    },
}


def normalize(log_type: str, payload: str, origin: str = "test.log") -> dict[str, Any]:
    """The ECS document the real parser and normalizer make of ``payload``."""
    kind = LOG_TYPES.get(log_type)
    records = [r for r in kind.parser.parse(payload.encode(), origin) if isinstance(r, Record)]
    assert len(records) == 1
    return kind.normalize(records[0])


def eks_envelope(event: dict[str, Any]) -> str:
    """An EKS control-plane CloudWatch Logs envelope of cluster ``prod-eks``."""
    return json.dumps(
        {
            "messageType": "DATA_MESSAGE",
            "owner": "111122223333",
            "logGroup": "/aws/eks/prod-eks/cluster",
            "logStream": "kube-apiserver-audit-0123",
            "subscriptionFilters": ["duskwatch"],
            "logEvents": [{"id": "1", "timestamp": 1740914405101, "message": json.dumps(event)}],
        }
    )


def flow(src: str = "198.51.100.77", sport: int = 49822, end: int = 1740913260) -> str:
    return FLOW.format(src=src, sport=sport, start=end - 60, end=end)


def spec(finding_type: str, **changes: Any) -> FindingSpec:
    return FindingSpec(
        type=finding_type,
        severity=changes.pop("severity", 5.0),
        title=changes.pop("title", "a title"),
        description=changes.pop("description", "a description"),
        **changes,
    )


def build(finding_spec: FindingSpec, event: dict[str, Any], log_type: str) -> dict[str, Any]:
    finding = build_finding(finding_spec, event, log_type=log_type, now=NOW, detector_id=DETECTOR)
    assert problems(finding) == []
    return finding


def test_cloudtrail_management_event_is_an_access_key_api_call() -> None:
    event = normalize("cloudtrail", json.dumps(STOP_LOGGING))
    finding = build(
        spec("Stealth:IAMUser/CloudTrailLoggingDisabled", severity=2.0), event, "cloudtrail"
    )
    assert finding["resource"] == {
        "resourceType": "AccessKey",
        "accessKeyDetails": {
            "accessKeyId": "AKIAEXAMPLEKEY01",
            "principalId": "AIDAEXAMPLEPRINCIPAL",
            "userName": "ci-bot",
            "userType": "IAMUser",
        },
    }
    assert finding["service"]["action"] == {
        "actionType": "AWS_API_CALL",
        "awsApiCallAction": {
            "api": "StopLogging",
            "serviceName": "cloudtrail.amazonaws.com",
            "callerType": "Remote IP",
            "userAgent": "aws-cli/2.15.30 md/distrib#kali.2024",
            "remoteIpDetails": {"ipAddressV4": "203.0.113.45"},
        },
    }
    assert finding["service"]["featureName"] == "CloudTrail"
    assert finding["service"]["eventFirstSeen"] == "2025-03-02T11:04:17.000Z"
    assert (finding["accountId"], finding["region"]) == ("111122223333", "eu-west-1")


def test_cloudtrail_s3_data_event_is_an_s3_bucket() -> None:
    event = normalize("cloudtrail", json.dumps(GET_OBJECT))
    finding = build(spec("Exfiltration:S3/MaliciousIPCaller", severity=8.0), event, "cloudtrail")
    resource = finding["resource"]
    assert resource["resourceType"] == "S3Bucket"
    assert resource["s3BucketDetails"] == [
        {
            "name": "payroll-exports",
            "arn": "arn:aws:s3:::payroll-exports",
            "type": "Destination",
            "s3ObjectDetails": [
                {
                    "key": "2025/02/salaries.csv",
                    "objectArn": "arn:aws:s3:::payroll-exports/2025/02/salaries.csv",
                }
            ],
        }
    ]
    assert resource["accessKeyDetails"]["userName"] == "app-role"
    assert resource["accessKeyDetails"]["accessKeyId"] == "ASIAEXAMPLETMP01"
    assert finding["service"]["featureName"] == "S3DataEvents"
    assert finding["service"]["action"]["awsApiCallAction"]["api"] == "GetObject"


def test_cloudtrail_service_caller_is_a_domain() -> None:
    event = normalize(
        "cloudtrail", json.dumps({**STOP_LOGGING, "sourceIPAddress": "config.amazonaws.com"})
    )
    call = build(spec("Custom:IAMUser/Thing"), event, "cloudtrail")["service"]["action"]
    assert call["awsApiCallAction"]["callerType"] == "Domain"
    assert call["awsApiCallAction"]["domainDetails"] == {"domain": "config.amazonaws.com"}
    assert "remoteIpDetails" not in call["awsApiCallAction"]


def test_inbound_flow_is_a_network_connection_on_the_eni() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    finding = build(spec("UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0), event, "vpcflow")
    assert finding["resource"] == {
        "resourceType": "Instance",
        "instanceDetails": {
            "instanceId": "eni-0f1e2d3c4b5a69788",
            "networkInterfaces": [
                {"networkInterfaceId": "eni-0f1e2d3c4b5a69788", "privateIpAddress": "10.0.3.25"}
            ],
        },
    }
    assert finding["service"]["action"] == {
        "actionType": "NETWORK_CONNECTION",
        "networkConnectionAction": {
            "connectionDirection": "INBOUND",
            "protocol": "TCP",
            "blocked": True,
            "localNetworkInterface": "eni-0f1e2d3c4b5a69788",
            "localIpDetails": {"ipAddressV4": "10.0.3.25"},
            "localPortDetails": {"port": 22, "portName": "SSH"},
            "remoteIpDetails": {"ipAddressV4": "198.51.100.77"},
            "remotePortDetails": {"port": 49822, "portName": "Unknown"},
        },
    }
    assert finding["service"]["featureName"] == "FlowLogs"
    assert finding["service"]["eventLastSeen"] == "2025-03-02T11:01:00.000Z"


def test_outbound_flow_with_instance_id() -> None:
    event = normalize("vpcflow", OUTBOUND_FLOW, FLOW_ORIGIN)
    finding = build(spec("Backdoor:EC2/C&CActivity.B", severity=8.0), event, "vpcflow")
    details = finding["resource"]["instanceDetails"]
    assert details["instanceId"] == "i-0abc1234def567890"
    assert details["networkInterfaces"][0]["vpcId"] == "vpc-0a1b2c3d"
    assert details["networkInterfaces"][0]["subnetId"] == "subnet-0d4e5f6a"
    connection = finding["service"]["action"]["networkConnectionAction"]
    assert connection["connectionDirection"] == "OUTBOUND"
    assert connection["blocked"] is False
    assert connection["remotePortDetails"] == {"port": 443, "portName": "HTTPS"}
    assert connection["localIpDetails"] == {"ipAddressV4": "10.0.3.25"}


def test_port_probe_types_get_a_port_probe_action() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    finding = build(spec("Recon:EC2/PortProbeUnprotectedPort"), event, "vpcflow")
    assert finding["service"]["action"] == {
        "actionType": "PORT_PROBE",
        "portProbeAction": {
            "blocked": True,
            "portProbeDetails": [
                {
                    "localPortDetails": {"port": 22, "portName": "SSH"},
                    "localIpDetails": {"ipAddressV4": "10.0.3.25"},
                    "remoteIpDetails": {"ipAddressV4": "198.51.100.77"},
                }
            ],
        },
    }


def test_dns_query_is_a_dns_request_of_the_instance() -> None:
    event = normalize("route53", json.dumps(DNS_QUERY))
    threat = ThreatDetail("ProofPoint", ("DGA",))
    finding = build(spec("Trojan:EC2/DGADomainRequest.C!DNS", threat=threat), event, "route53")
    assert finding["resource"]["instanceDetails"] == {
        "instanceId": "i-0abc1234def567890",
        "networkInterfaces": [{"privateIpAddress": "10.0.3.25", "vpcId": "vpc-0a1b2c3d"}],
    }
    assert finding["service"]["action"] == {
        "actionType": "DNS_REQUEST",
        "dnsRequestAction": {
            "domain": "x7kq2v9d1m.example-dga.net",
            "domainWithSuffix": "example-dga.net",
            "protocol": "UDP",
            "blocked": False,
            "vpcOwnerAccountId": "111122223333",
        },
    }
    assert finding["service"]["evidence"] == {
        "threatIntelligenceDetails": [{"threatListName": "ProofPoint", "threatNames": ["DGA"]}]
    }
    assert finding["service"]["additionalInfo"] == {
        "threatListName": "ProofPoint",
        "threatName": "DGA",
    }
    assert finding["service"]["featureName"] == "DnsLogs"


def test_eks_exec_is_a_kubernetes_api_call_on_the_cluster() -> None:
    event = normalize("eks-audit", eks_envelope(POD_EXEC))
    finding = build(spec("Execution:Kubernetes/ExecInKubeSystemPod"), event, "eks-audit")
    assert finding["resource"] == {
        "resourceType": "EKSCluster",
        "eksClusterDetails": {"name": "prod-eks"},
        "kubernetesDetails": {
            "kubernetesUserDetails": {"username": "kubernetes-admin", "groups": ["system:masters"]},
            "kubernetesWorkloadDetails": {
                "name": "coredns-x2k4p",
                "type": "pods",
                "namespace": "kube-system",
            },
        },
    }
    assert finding["service"]["action"] == {
        "actionType": "KUBERNETES_API_CALL",
        "kubernetesApiCallAction": {
            "requestUri": "/api/v1/namespaces/kube-system/pods/coredns-x2k4p/exec?command=sh",
            "verb": "create",
            "resource": "pods",
            "subresource": "exec",
            "namespace": "kube-system",
            "resourceName": "coredns-x2k4p",
            "sourceIPs": ["198.51.100.20"],
            "userAgent": "kubectl/v1.30.2",
            "statusCode": 101,
            "remoteIpDetails": {"ipAddressV4": "198.51.100.20"},
        },
    }
    assert finding["service"]["featureName"] == "KubernetesAuditLogs"
    assert (finding["accountId"], finding["region"]) == ("111122223333", "unknown")


def test_eks_workload_details_come_from_the_request_object() -> None:
    event = normalize("eks-audit", eks_envelope(PRIVILEGED_DEPLOYMENT))
    finding = build(spec("PrivilegeEscalation:Kubernetes/PrivilegedContainer"), event, "eks-audit")
    workload = finding["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"]
    assert workload == {
        "name": "miner",
        "type": "deployments",
        "namespace": "default",
        "serviceAccountName": "default",
        "hostNetwork": True,
        "containers": [
            {
                "name": "xmrig",
                "image": "docker.io/evil/xmrig:6.21",
                "imagePrefix": "docker.io/evil",
                "securityContext": {"privileged": True},
                "volumeMounts": [{"name": "host", "mountPath": "/host"}],
            }
        ],
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
    }


def test_non_workload_requests_have_null_workload_details() -> None:
    event = normalize("eks-audit", json.dumps({**POD_EXEC, "objectRef": {"resource": "secrets"}}))
    finding = build(spec("CredentialAccess:Kubernetes/TorIPCaller"), event, "eks-audit")
    assert finding["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"] is None
    assert finding["resource"]["eksClusterDetails"] == {"name": "unknown"}


def test_top_level_ids_and_timestamps() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    finding = build(spec("Recon:EC2/Portscan", key=("22",)), event, "vpcflow")
    expected = finding_id(
        "111122223333",
        "eu-west-1",
        "Recon:EC2/Portscan",
        "eni-0f1e2d3c4b5a69788",
        "TARGET",
        ("22",),
    )
    assert finding["id"] == expected
    assert re.fullmatch("[0-9a-f]{32}", expected)
    assert finding["arn"] == (
        f"arn:aws:guardduty:eu-west-1:111122223333:detector/{DETECTOR}/finding/{expected}"
    )
    assert finding["createdAt"] == finding["updatedAt"] == "2025-03-02T11:18:44.202Z"
    assert (finding["schemaVersion"], finding["partition"]) == ("2.0", "aws")
    assert finding["service"]["archived"] is False
    assert finding["service"]["serviceName"] == "guardduty"
    assert finding["service"]["detectorId"] == DETECTOR


def test_occurrences_of_one_issue_share_an_id() -> None:
    """Variable details (remote IP, port, time) do not change the aggregation key."""
    first = normalize("vpcflow", flow(), FLOW_ORIGIN)
    later = normalize("vpcflow", flow("203.0.113.5", 40000, 1740999999), FLOW_ORIGIN)
    finding_spec = spec("UnauthorizedAccess:EC2/SSHBruteForce")
    assert (
        build(finding_spec, first, "vpcflow")["id"] == build(finding_spec, later, "vpcflow")["id"]
    )


@pytest.mark.parametrize(
    "change",
    [
        {"type": "Recon:EC2/Portscan"},
        {"resource_role": "ACTOR"},
        {"key": ("other",)},
    ],
)
def test_type_role_and_key_change_the_id(change: dict[str, Any]) -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    base = spec("UnauthorizedAccess:EC2/SSHBruteForce")
    changed = spec(change.pop("type", base.type), **change)
    assert build(base, event, "vpcflow")["id"] != build(changed, event, "vpcflow")["id"]


def test_another_resource_gets_another_id() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    other = normalize(
        "vpcflow", flow().replace("eni-0f1e2d3c4b5a69788", "eni-0aaaaaaaaaaaaaaaa"), FLOW_ORIGIN
    )
    finding_spec = spec("UnauthorizedAccess:EC2/SSHBruteForce")
    assert (
        build(finding_spec, event, "vpcflow")["id"] != build(finding_spec, other, "vpcflow")["id"]
    )


def test_ecs_fields() -> None:
    event = normalize("route53", json.dumps(DNS_QUERY))
    finding_spec = spec(
        "Trojan:EC2/DNSDataExfiltration",
        severity=8.5,
        rule="dns-exfiltration",
        tactic="Exfiltration",
        technique="T1048",
    )
    finding = build(finding_spec, event, "route53")
    assert finding["@timestamp"] == "2025-03-02T11:18:44.202Z"
    assert finding["event"] == {"kind": "alert", "severity": 8}
    assert finding["rule"] == {"name": "dns-exfiltration"}
    assert finding["threat"] == {"tactic": {"name": "Exfiltration"}, "technique": {"id": "T1048"}}
    assert finding["severity"] == 8.5
    bare = build(spec("Trojan:EC2/DNSDataExfiltration"), event, "route53")
    assert not {"rule", "threat", "duskwatch"} & set(bare)


def test_to_guardduty_strips_duskwatch_keys() -> None:
    event = normalize("route53", json.dumps(DNS_QUERY))
    finding = build_finding(
        spec("Trojan:EC2/DNSDataExfiltration", rule="r", tactic="t"),
        event,
        log_type="route53",
        now=NOW,
        detector_id=DETECTOR,
        occurrence="doc-1",
    )
    assert finding["duskwatch"] == {"occurrences": ["doc-1"]}
    assert set(finding) - set(to_guardduty(finding)) == {
        "@timestamp",
        "event",
        "rule",
        "threat",
        "duskwatch",
    }


def test_spec_details_and_count() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    info = {"threatListName": "mine", "unusualProtocol": "UDP"}
    finding_spec = spec(
        "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
        threat=ThreatDetail("listed"),
        additional_info=info,
        count=7,
    )
    service = build(finding_spec, event, "vpcflow")["service"]
    assert service["count"] == 7
    assert service["additionalInfo"] == {"threatListName": "mine", "unusualProtocol": "UDP"}
    assert service["evidence"]["threatIntelligenceDetails"] == [
        {"threatListName": "listed", "threatNames": []}
    ]


def test_known_type_from_another_source_takes_the_source_defaults() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    finding = build(spec("Backdoor:EC2/C&CActivity.B!DNS"), event, "vpcflow")
    assert finding["service"]["action"]["actionType"] == "NETWORK_CONNECTION"


def test_account_ids_get_their_leading_zeros_back() -> None:
    event = normalize("vpcflow", flow().replace("111122223333", "11122223333"), FLOW_ORIGIN)
    assert build(spec("Recon:EC2/Portscan"), event, "vpcflow")["accountId"] == "011122223333"


def test_unknown_log_type_and_bad_severity_are_errors() -> None:
    event = normalize("vpcflow", flow(), FLOW_ORIGIN)
    with pytest.raises(KeyError, match="unknown finding data source"):
        build_finding(
            spec("Recon:EC2/Portscan"), event, log_type="syslog", now=NOW, detector_id=DETECTOR
        )
    with pytest.raises(ValueError, match="outside"):
        build_finding(
            spec("Recon:EC2/Portscan", severity=0.0),
            event,
            log_type="vpcflow",
            now=NOW,
            detector_id=DETECTOR,
        )


def test_malformed_request_objects_are_ignored() -> None:
    spec_values = {"containers": 5, "volumes": "x", "hostPID": "yes", "initContainers": [1, None]}
    event = {
        "kubernetes": {
            "audit": {"objectRef": {"resource": "pods"}, "requestObject": {"spec": spec_values}}
        }
    }
    finding = build(spec("PrivilegeEscalation:Kubernetes/PrivilegedContainer"), event, "eks-audit")
    assert finding["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"] == {"type": "pods"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
READ_PATHS = [
    "@timestamp",
    "cloud.account.id",
    "cloud.region",
    "cloud.instance.id",
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "network.direction",
    "network.transport",
    "event.action",
    "user.name",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.request_parameters.bucketName",
    "aws.cloudtrail.resources",
    "aws.vpcflow.interface_id",
    "dns.question.name",
    "kubernetes.audit.user.groups",
    "kubernetes.audit.objectRef.resource",
    "kubernetes.audit.requestObject",
    "kubernetes.audit.requestObject.spec.containers",
    "kubernetes.audit.requestObject.spec.volumes",
    "kubernetes.audit.requestObject.spec.hostPID",
    "kubernetes.audit.responseStatus.code",
    "orchestrator.cluster.name",
    "user.id",
    "source.address",
    "error.code",
    "aws.cloudtrail.user_identity.account_id",
    "aws.route53.firewall.action",
    "kubernetes.audit.sourceIPs",
    "kubernetes.audit.impersonatedUser.groups",
]


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for path, value in values.items():
        *parents, last = path.split(".")
        node = event
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node[last] = value
    return event


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["cloudtrail", "vpcflow", "route53", "eks-audit"]),
    st.dictionaries(
        st.sampled_from(READ_PATHS), st.just("pods") | JSON_VALUES | st.lists(JSON_VALUES)
    ),
    st.sampled_from(
        ["Recon:EC2/PortProbeUnprotectedPort", "Discovery:S3/TorIPCaller", "Custom:X/Y"]
    ),
)
def test_any_event_shape_gives_a_valid_finding(
    log_type: str, values: dict[str, Any], finding_type: str
) -> None:
    finding = build_finding(
        spec(finding_type), _nest(values), log_type=log_type, now=NOW, detector_id=DETECTOR
    )
    assert problems(finding) == []
