"""The simulated estate: accounts, VPCs, instances, IAM principals, buckets, EKS clusters.

Built once per run from the seed (:func:`build_model`) and shared, read-only, by every stream
generator and scenario. Per account and Region there is one VPC (``10.<n>.0.0/16``) with two
web servers and a bastion in public subnets (own Elastic IPs), two app servers and a Postgres
server in private subnets (egress through a NAT gateway, S3 through a gateway endpoint), one idle
network interface, and, in the account's first Region, an EKS cluster with two worker nodes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from exporter.simulate.ids import DAY, HOUR, day_text, hex_id, stable_int, stable_key, uuid4
from exporter.simulate.net import DOCUMENTATION_PREFIXES, aws_ip, internet_ip, private_dns

ACCOUNT_NAMES = ("acme-prod", "acme-dev", "acme-shared", "acme-data", "acme-sandbox")
UTC_OFFSETS = (1, -5, 0, 8, -8)
AZ_IDS = {"us-east-1": ("use1-az4", "use1-az6"), "eu-west-1": ("euw1-az1", "euw1-az2")}
INSTANCE_LAYOUT = (  # name, kind, public subnet?, instance-profile role
    ("web-1", "web", True, "web-role"),
    ("web-2", "web", True, "web-role"),
    ("bastion-1", "bastion", True, "bastion-role"),
    ("app-1", "app", False, "app-role"),
    ("app-2", "app", False, "app-role"),
    ("db-1", "db", False, "db-backup-role"),
)
NODE_LAYOUT = (
    ("node-1", "node", False, "eks-node-role"),
    ("node-2", "node", False, "eks-node-role"),
)
USERS = (("alice.admin", "admin"), ("bob.ops", "admin"), ("carol.dev", "developer"))
USERS_TAIL = (("dan.dev", "developer"), ("ci-deploy", "ci"))
ROLES = (
    *(("web-role", "instance"), ("app-role", "instance"), ("db-backup-role", "instance")),
    *(("bastion-role", "instance"), ("eks-node-role", "instance")),
    *(("thumbnailer-role", "lambda"), ("report-role", "lambda")),
    ("AWSServiceRoleForConfig", "service"),
)
LAMBDAS = (("thumbnailer", "thumbnailer-role"), ("nightly-report", "report-role"))
NAMESPACES = ("team-a", "team-b")
WORKLOADS = ("api", "worker", "frontend")


@dataclass(frozen=True)
class Interface:
    """An elastic network interface (the unit of a flow log)."""

    eni: str
    subnet: str
    az_id: str
    instance_id: str
    ip: str


@dataclass(frozen=True)
class Instance:
    """An EC2 instance; ``egress_ip`` is where its internet traffic appears to come from."""

    id: str
    name: str
    kind: str
    iface: Interface
    egress_ip: str
    public_ip: str | None
    role: str

    @property
    def ip(self) -> str:
        """The primary private IPv4 address."""
        return self.iface.ip


@dataclass(frozen=True)
class Vpc:
    """One VPC with its flow log and instances."""

    id: str
    account: str
    region: str
    prefix: str
    flow_log_id: str
    flow_version: int
    s3_endpoint: str
    nat_ip: str
    instances: tuple[Instance, ...]
    idle: tuple[Interface, ...]

    def of_kind(self, *kinds: str) -> tuple[Instance, ...]:
        """The instances of the given kinds, in layout order."""
        return tuple(i for i in self.instances if i.kind in kinds)


@dataclass(frozen=True)
class IamUser:
    """A long-term IAM user with one access key; ``ips`` are where they work from."""

    name: str
    user_id: str
    access_key: str
    kind: str
    ips: tuple[str, ...]


@dataclass(frozen=True)
class Role:
    """An IAM role."""

    name: str
    role_id: str
    kind: str


@dataclass(frozen=True)
class Function:
    """A Lambda function, its role and its egress addresses."""

    name: str
    role: str
    ips: tuple[str, ...]


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket; ``kind`` is app, backup or artifacts."""

    name: str
    region: str
    kind: str


@dataclass(frozen=True)
class Cluster:
    """An EKS cluster and what runs in it."""

    name: str
    account: str
    region: str
    vpc: Vpc
    stream_hex: str
    control_plane_ips: tuple[str, ...]
    endpoint: str
    endpoint_ips: tuple[str, ...]
    nodes: tuple[Instance, ...]
    pods: tuple[tuple[str, str], ...]

    def node_name(self, node: Instance) -> str:
        """The Kubernetes node name (its private DNS name)."""
        return private_dns(node.ip, self.region)


@dataclass(frozen=True)
class Account:
    """An AWS account and everything in it."""

    id: str
    name: str
    utc_offset: int
    office_ips: tuple[str, ...]
    home_region: str
    users: tuple[IamUser, ...]
    roles: tuple[Role, ...]
    functions: tuple[Function, ...]
    buckets: tuple[Bucket, ...]
    vpcs: tuple[Vpc, ...]
    clusters: tuple[Cluster, ...]
    kms_key: str

    def users_of(self, kind: str) -> tuple[IamUser, ...]:
        """The IAM users of a kind (admin, developer, ci)."""
        return tuple(u for u in self.users if u.kind == kind)

    def role(self, name: str) -> Role:
        """The role called ``name``."""
        return next(r for r in self.roles if r.name == name)

    def bucket(self, kind: str, region: str | None = None) -> Bucket:
        """The bucket of ``kind`` (in ``region`` when given)."""
        return next(b for b in self.buckets if b.kind == kind and region in (None, b.region))


@dataclass(frozen=True)
class Model:
    """The whole simulated estate plus the time range, as epoch seconds [start, end)."""

    seed: int
    start: int
    end: int
    scale: float
    accounts: tuple[Account, ...]


@dataclass(frozen=True)
class BackupPlan:
    """One night's database backup: when it runs and the objects it uploads."""

    start: int
    end: int
    objects: tuple[tuple[str, int], ...]


def backup_plan(seed: int, vpc: Vpc, day: int) -> BackupPlan:
    """The backup run of the night starting at ``day`` (02:00 UTC plus a few minutes)."""
    value = stable_int(seed, "backup", vpc.id, day)
    start = day + 2 * HOUR + value % 300
    parts = 3 + value % 4
    sizes = tuple(300_000_000 + stable_int(value, i) % 600_000_000 for i in range(parts))
    date = day_text(day // DAY)
    objects = tuple((f"postgres/{date}/base-{i:03d}.tar.gz", s) for i, s in enumerate(sizes))
    return BackupPlan(start, start + sum(sizes) // 2_000_000, objects)


def build_model(
    seed: int,
    start: int,
    end: int,
    scale: float,
    accounts: tuple[str, ...],
    regions: tuple[str, ...],
) -> Model:
    """The estate for ``accounts`` x ``regions``; the first account logs flows in v5 format."""
    built = tuple(
        _account(seed, index, account_id, regions) for index, account_id in enumerate(accounts)
    )
    return Model(seed, start, end, scale, built)


def _account(seed: int, index: int, account_id: str, regions: tuple[str, ...]) -> Account:
    rng = random.Random(stable_int(seed, "model", account_id))
    name = ACCOUNT_NAMES[index] if index < len(ACCOUNT_NAMES) else f"acme-{index}"
    offices = (f"{DOCUMENTATION_PREFIXES[index % 2]}.{rng.randint(10, 120)}", internet_ip(rng, 0))
    home = "us-east-1" if "us-east-1" in regions else regions[0]
    vpcs = tuple(
        _vpc(rng, account_id, region, 10 + index * len(regions) + r, 5 if index == 0 else 2, r == 0)
        for r, region in enumerate(regions)
    )
    return Account(
        id=account_id,
        name=name,
        utc_offset=UTC_OFFSETS[index % len(UTC_OFFSETS)],
        office_ips=offices,
        home_region=home,
        users=_users(rng, seed, account_id, offices),
        roles=tuple(Role(n, stable_key("AROA", 17, seed, account_id, n), k) for n, k in ROLES),
        functions=tuple(
            Function(n, r, (aws_ip(account_id, n, 1), aws_ip(account_id, n, 2))) for n, r in LAMBDAS
        ),
        buckets=_buckets(name, regions, home),
        vpcs=vpcs,
        clusters=(_cluster(rng, account_id, name, vpcs[0]),),
        kms_key=uuid4(rng),
    )


def _users(
    rng: random.Random, seed: int, account_id: str, offices: tuple[str, ...]
) -> tuple[IamUser, ...]:
    ci_ips = (aws_ip(account_id, "ci", 1), aws_ip(account_id, "ci", 2))
    users = []
    for name, kind in USERS + USERS_TAIL:
        ips = ci_ips if kind == "ci" else (*offices, internet_ip(rng, 0))
        keys = (
            stable_key("AIDA", 17, seed, account_id, name),
            stable_key("AKIA", 16, seed, account_id, name, "key"),
        )
        users.append(IamUser(name, keys[0], keys[1], kind, ips))
    return tuple(users)


def _buckets(name: str, regions: tuple[str, ...], home: str) -> tuple[Bucket, ...]:
    per_region = tuple(
        Bucket(f"{name}-{kind}-{region}", region, kind)
        for region in regions
        for kind in ("app-data", "backups")
    )
    return (*per_region, Bucket(f"{name}-ci-artifacts", home, "artifacts"))


def _vpc(
    rng: random.Random, account_id: str, region: str, octet: int, version: int, with_nodes: bool
) -> Vpc:
    prefix = f"10.{octet}"
    azs = AZ_IDS.get(region, (f"{region}-az1", f"{region}-az2"))
    subnets = {
        (public, az): f"subnet-{hex_id(rng, 17)}" for public in (True, False) for az in range(2)
    }
    nat_ip = aws_ip(account_id, region, "nat")
    layout = INSTANCE_LAYOUT + (NODE_LAYOUT if with_nodes else ())
    instances = []
    for n, (name, kind, public, role) in enumerate(layout):
        az = n % 2
        ip = f"{prefix}.{az + (0 if public else 10)}.{10 + 7 * n + rng.randint(0, 6)}"
        iid = f"i-0{hex_id(rng, 16)}"
        iface = Interface(f"eni-0{hex_id(rng, 16)}", subnets[public, az], azs[az], iid, ip)
        eip = aws_ip(account_id, region, name) if public else None
        instances.append(Instance(iid, name, kind, iface, eip or nat_ip, eip, role))
    idle = Interface(f"eni-0{hex_id(rng, 16)}", subnets[False, 1], azs[1], "-", f"{prefix}.11.5")
    return Vpc(
        id=f"vpc-0{hex_id(rng, 16)}",
        account=account_id,
        region=region,
        prefix=prefix,
        flow_log_id=f"fl-0{hex_id(rng, 16)}",
        flow_version=version,
        s3_endpoint=f"vpce-0{hex_id(rng, 16)}",
        nat_ip=nat_ip,
        instances=tuple(instances),
        idle=(idle,),
    )


def _cluster(rng: random.Random, account_id: str, name: str, vpc: Vpc) -> Cluster:
    endpoint = f"{hex_id(rng, 32).upper()}.gr7.{vpc.region}.eks.amazonaws.com"
    pods = tuple(
        (ns, f"{workload}-{hex_id(rng, 9)}-{hex_id(rng, 5)}")
        for ns in NAMESPACES
        for workload in WORKLOADS
    )
    return Cluster(
        name=f"{name}-eks",
        account=account_id,
        region=vpc.region,
        vpc=vpc,
        stream_hex=hex_id(rng, 32),
        control_plane_ips=tuple(
            f"172.16.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in "ab"
        ),
        endpoint=endpoint,
        endpoint_ips=(f"{vpc.prefix}.10.201", f"{vpc.prefix}.11.202"),
        nodes=vpc.of_kind("node"),
        pods=pods,
    )
