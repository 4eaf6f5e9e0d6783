"""Activity simulator: realistic, labelled AWS logs in the exact layouts AWS writes.

``simulate(SimulationConfig(out_dir))`` writes CloudTrail (management and S3 data events),
VPC Flow Logs, Route 53 Resolver query logs and EKS audit logs for a small estate (see
:mod:`.model`), plus ``labels.json``. Output is deterministic per configuration. Scenarios
registered in :data:`SCENARIOS` add labelled behaviour to the same files (see :mod:`.labels`).
"""

from exporter.simulate import scenarios as _builtin_scenarios  # noqa: F401  (registers them)
from exporter.simulate import scenarios_behaviour_cloudtrail as _ct_behaviour  # noqa: F401
from exporter.simulate import scenarios_behaviour_dns as _dns_behaviour  # noqa: F401
from exporter.simulate import scenarios_behaviour_flow as _flow_behaviour  # noqa: F401
from exporter.simulate import scenarios_behaviour_kubernetes as _kube_behaviour  # noqa: F401
from exporter.simulate import scenarios_kubernetes as _kube_scenarios  # noqa: F401  (registers them)
from exporter.simulate import scenarios_lists as _list_scenarios  # noqa: F401  (registers them)
from exporter.simulate import scenarios_more as _more_scenarios  # noqa: F401  (registers them)
from exporter.simulate import scenarios_signatures as _rule_scenarios  # noqa: F401  (registers them)
from exporter.simulate.inject import ScenarioWriter
from exporter.simulate.labels import SCENARIOS, Scenario, ScenarioFn
from exporter.simulate.model import Model
from exporter.simulate.run import SimulationConfig, SimulationSummary, simulate

__all__ = [
    "SCENARIOS",
    "Model",
    "Scenario",
    "ScenarioFn",
    "ScenarioWriter",
    "SimulationConfig",
    "SimulationSummary",
    "simulate",
]
