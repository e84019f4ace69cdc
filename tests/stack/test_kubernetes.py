"""deploy/kubernetes/ checked statically: no cluster runs here.

Every manifest is validated against the Kubernetes JSON schemas of one stated
version (kubernetes-validate bundles them: no network), strictly, so a
misspelt field fails. Then what can drift silently is checked against
docker-compose.yml (the production shape tests/stack/test_compose.py checks)
and the code: the workloads, their commands, ports and variable names, the
probes, and that the Secret holds nothing a process would accept as a secret.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

from router.config import Config, load_config, unsafe_config_problems
from subgraphs.kit.settings import Settings
from subgraphs.kit.startup_checks import secret_problems

#: The oldest Kubernetes the manifests are written for.
KUBERNETES_VERSION = "1.33.0"

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: Subgraph packages that run (`python -m subgraphs.<name>`).
SUBGRAPHS = sorted(p.parent.name for p in (ROOT / "subgraphs").glob("*/__main__.py"))
WORKLOADS = [*SUBGRAPHS, "router"]
REQUIRED_SECRETS = {
    "ROUTER_SECRETS",
    "QUOTE_LINK_SECRET",
    "ONBOARDING_WEBHOOK_SECRET",
    "NOTIFICATIONS_TRACKING_SECRET",
    "DATABASE_URL",
}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_generate", DEPLOY / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load() -> dict[str, list[dict[str, Any]]]:
    return {
        path.name: [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        for path in sorted(DEPLOY.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    }


FILES = _load()
RESOURCES = [doc for docs in FILES.values() for doc in docs]
KUSTOMIZATION: dict[str, Any] = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [r for r in RESOURCES if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _container(kind: str, name: str) -> dict[str, Any]:
    (container,) = _one(kind, name)["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


def _port(container: dict[str, Any]) -> int:
    (port,) = container["ports"]
    assert port["name"] == "http"
    return int(port["containerPort"])


def test_the_checked_in_files_are_what_the_generator_writes() -> None:
    """Hand edits and a stale supergraph fail: run deploy/kubernetes/generate.py."""
    rendered = _generator().render()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DEPLOY.glob("*.yaml")}
    assert set(on_disk) == set(rendered)
    stale = sorted(name for name, text in rendered.items() if on_disk[name] != text)
    assert not stale, f"{stale} are stale: run .venv/bin/python deploy/kubernetes/generate.py"


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_manifest_validates_against_the_kubernetes_schema(name: str) -> None:
    for resource in FILES[name]:
        found = kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        assert found == KUBERNETES_VERSION.rsplit(".", 1)[0]


def test_the_validator_rejects_a_misspelt_field() -> None:
    """Strict schemas: an unknown field is an error, not ignored (a test that can fail)."""
    service = dict(_one("Service", "router"))
    service["spec"] = {**service["spec"], "portz": service["spec"]["ports"]}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_in_one_namespace() -> None:
    assert set(KUSTOMIZATION["resources"]) == set(FILES)
    assert KUSTOMIZATION["namespace"] == _one("Namespace", "athena")["metadata"]["name"]
    assert not any("namespace" in r["metadata"] for r in RESOURCES)


@pytest.mark.parametrize("name", WORKLOADS)
def test_router_and_each_subgraph_have_a_deployment_service_autoscaler_and_budget(
    name: str,
) -> None:
    deployment = _one("Deployment", name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    service = _one("Service", name)
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    assert port["port"] == _port(_container("Deployment", name))
    hpa = _one("HorizontalPodAutoscaler", name)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert deployment["spec"]["replicas"] == hpa["minReplicas"]
    pdb = _one("PodDisruptionBudget", name)["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["maxUnavailable"] < hpa["minReplicas"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_ports_commands_and_variables_match_compose_and_the_code(name: str) -> None:
    container = _container("Deployment", name)
    compose = SERVICES[name]
    port = _port(container)
    assert [str(port)] == compose["expose"]
    if name == "router":
        assert port == Config.port == Settings.model_construct().router_port
        command = list(compose["command"])
        at = command.index("--supergraph") + 1
        command[at] = _generator().SUPERGRAPH_DIR + "/supergraph.graphql"
        assert container["command"] == command
    else:
        assert port == Settings.model_construct().port_of(name)
        assert container["command"] == compose["command"] == ["python", "-m", f"subgraphs.{name}"]
    env = _env(container)
    assert set(env) == set(compose["environment"])
    for variable, value in compose["environment"].items():
        if "value" in env[variable]:
            assert env[variable]["value"] == str(value), variable
        else:
            assert "${" in str(value) or variable in ("DATABASE_URL", "REDIS_URL"), variable


def test_the_migration_job_runs_what_compose_runs() -> None:
    job = _one("Job", "athena-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == SERVICES["migrate"]["command"] == ["python", "-m", "db.migrate"]
    assert set(_env(container)) == set(SERVICES["migrate"]["environment"])
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")


def test_every_value_from_a_config_map_or_secret_is_there() -> None:
    config = _one("ConfigMap", "athena-config")["data"]
    secret = _one("Secret", "athena-secrets")["stringData"]
    pods = [r["spec"]["template"]["spec"] for r in RESOURCES if r["kind"] in ("Deployment", "Job")]
    for entry in (e for pod in pods for c in pod["containers"] for e in c["env"]):
        source = entry.get("valueFrom", {})
        if "configMapKeyRef" in source:
            assert source["configMapKeyRef"]["name"] == "athena-config"
            assert source["configMapKeyRef"]["key"] in config, entry
        if "secretKeyRef" in source:
            assert source["secretKeyRef"]["name"] == "athena-secrets"
            assert source["secretKeyRef"]["key"] in secret, entry


@pytest.mark.parametrize("name", WORKLOADS)
def test_probes_resources_and_a_non_root_user(name: str) -> None:
    deployment = _one("Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    container = _container("Deployment", name)
    ready = container["readinessProbe"]["httpGet"]
    assert ready["path"] == "/health"
    assert ready["port"] in ("http", _port(container))
    assert container["livenessProbe"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), kind
    dockerfile = (ROOT / "Dockerfile").read_text()
    uid = re.search(r"useradd .*--uid (\d+)", dockerfile)
    assert uid is not None
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(uid.group(1))
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_subgraph_workers_follow_the_cpu_limit(name: str) -> None:
    """SUBGRAPH_WORKERS=0 would count the node's cores, not the pod's limit (kit/serve.py)."""
    container = _container("Deployment", name)
    assert "SUBGRAPH_WORKERS" in SERVICES[name]["environment"]
    ref = _env(container)["SUBGRAPH_WORKERS"]["valueFrom"]["resourceFieldRef"]
    assert ref == {"resource": "limits.cpu", "divisor": "1"}
    cpus = int(container["resources"]["limits"]["cpu"])
    assert Settings(subgraph_workers=cpus).worker_count == cpus


def test_the_router_serves_the_supergraph_of_its_config_map() -> None:
    supergraph = (ROOT / "schema" / "supergraph.graphql").read_text(encoding="utf-8")
    data = _one("ConfigMap", "athena-supergraph")["data"]
    assert data == {"supergraph.graphql": supergraph}
    # a ConfigMap holds at most 1 MiB
    assert len(supergraph.encode()) < 1024 * 1024
    pod = _one("Deployment", "router")["spec"]["template"]
    mount_dir = _generator().SUPERGRAPH_DIR
    (mount,) = (m for m in _container("Deployment", "router")["volumeMounts"]
                if m["mountPath"] == mount_dir)  # fmt: skip
    (volume,) = (v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "athena-supergraph"
    config = load_config(_container("Deployment", "router")["command"][3:], environ={})
    assert config.supergraph == f"{mount_dir}/supergraph.graphql"
    assert config.port == Config.port


def test_the_secret_holds_placeholders_a_process_refuses() -> None:
    (secret,) = (r for r in RESOURCES if r["kind"] == "Secret")
    assert "data" not in secret
    values = secret["stringData"]
    assert set(values) >= REQUIRED_SECRETS
    assert set(values.values()) == {"REPLACE-ME"}
    # left in, they stop production at start instead of running with a known secret
    filled = {k.lower(): v for k, v in values.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    problems = " ".join(secret_problems(Settings.model_construct(**filled)))
    for name in ("QUOTE_LINK_SECRET", "ONBOARDING_WEBHOOK_SECRET", "ROUTER_SECRETS"):
        assert name in problems
    router = load_config([], environ={"ENVIRONMENT": "production", **values})
    assert unsafe_config_problems(router)
    # no other manifest carries a secret's value inline
    for resource in RESOURCES:
        for pod in _pods(resource):
            for entry in (e for c in pod["containers"] for e in c["env"]):
                if entry["name"] in REQUIRED_SECRETS | {"REDIS_URL"}:
                    assert "secretKeyRef" in entry.get("valueFrom", {}), entry["name"]


def _pods(resource: dict[str, Any]) -> list[dict[str, Any]]:
    if resource["kind"] in ("Deployment", "Job"):
        return [resource["spec"]["template"]["spec"]]
    return []


def test_the_ingress_routes_what_the_compose_edge_routes() -> None:
    """Downloads and webhooks go straight to their subgraph; everything else to the router."""
    from tests.stack.test_compose import _edge_locations

    (rule,) = _one("Ingress", "athena")["spec"]["rules"]
    routed = {
        (
            "exact" if p["pathType"] == "Exact" else "prefix",
            p["path"],
            p["backend"]["service"]["name"],
        )
        for p in rule["http"]["paths"]
    }
    assert routed == set(_edge_locations())
    assert ("prefix", "/", "router") in routed
    assert not any(path.startswith("/internal") for _, path, _ in routed)
    for path in rule["http"]["paths"]:
        service = _one("Service", path["backend"]["service"]["name"])
        assert path["backend"]["service"]["port"]["number"] == service["spec"]["ports"][0]["port"]
