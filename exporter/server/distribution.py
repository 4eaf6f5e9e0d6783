"""The pinned OpenSearch distribution: one version, its modules and plugins, in one place.

The integ-test zip on Maven Central ships without modules; each module comes as jars (plus
their runtime dependencies) that we assemble with a descriptor and a security policy, the
way OpenSearch's own test clusters do. Plugins are official zips.
"""

from __future__ import annotations

from dataclasses import dataclass

OPENSEARCH_VERSION = "2.19.6"
PLUGIN_VERSION = f"{OPENSEARCH_VERSION}.0"
DIST_COORDINATE = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
MODULE_GROUP = "org.opensearch.plugin"


@dataclass(frozen=True)
class Module:
    """A core module assembled from its Maven jar and runtime dependencies."""

    name: str
    artifact: str
    classname: str
    extended: str = ""
    policy: str = ""


@dataclass(frozen=True)
class Plugin:
    """An official plugin zip; ``required`` ones fail provisioning when missing."""

    name: str
    artifact: str
    required: bool

    @property
    def coordinate(self) -> str:
        """Maven coordinate of the zip."""
        return f"{MODULE_GROUP}:{self.artifact}:{PLUGIN_VERSION}:zip"


_PAINLESS_POLICY = """grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
"""
_REINDEX_POLICY = """grant {
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
"""
_MUSTACHE_POLICY = """grant {
  permission java.lang.RuntimePermission "accessDeclaredMembers";
};
"""

MODULES: tuple[Module, ...] = (
    Module(
        "lang-painless",
        "lang-painless",
        "org.opensearch.painless.PainlessPlugin",
        policy=_PAINLESS_POLICY,
    ),
    Module("percolator", "percolator-client", "org.opensearch.percolator.PercolatorPlugin"),
    Module(
        "mapper-extras", "mapper-extras-client", "org.opensearch.index.mapper.MapperExtrasPlugin"
    ),
    Module(
        "analysis-common",
        "analysis-common",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        extended="lang-painless",
    ),
    Module(
        "reindex",
        "reindex-client",
        "org.opensearch.index.reindex.ReindexPlugin",
        policy=_REINDEX_POLICY,
    ),
    Module("parent-join", "parent-join-client", "org.opensearch.join.ParentJoinPlugin"),
    Module(
        "lang-mustache",
        "lang-mustache-client",
        "org.opensearch.script.mustache.MustachePlugin",
        policy=_MUSTACHE_POLICY,
    ),
    Module(
        "aggs-matrix-stats",
        "aggs-matrix-stats-client",
        "org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin",
    ),
)

# Install order matters: alerting extends lang-painless, index-management extends job-scheduler.
# alerting and index-management are optional because Maven Central as reached from the project's
# machines does not serve their zips for any 2.19.x (see README, "The local node").
PLUGINS: tuple[Plugin, ...] = (
    Plugin("opensearch-job-scheduler", "opensearch-job-scheduler", required=True),
    Plugin("opensearch-alerting", "alerting", required=False),
    Plugin("opensearch-index-management", "opensearch-index-management", required=False),
)
