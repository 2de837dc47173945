"""The Helm chart, checked without a cluster: Helm v4 itself (the Go SDK, via `helm-python-sdk`)
lints and renders it, and every rendered object is validated against the Kubernetes OpenAPI
schemas shipped by `kubernetes-validate` (strict: unknown fields are errors)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="helm-python-sdk has no wheel for this platform")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "learningday"
KUBERNETES = "1.30.0"
DATABASE = {"database": {"url": "postgresql+psycopg://learningday:pw@postgres:5432/learningday"}}
EVERYTHING = DATABASE | {
    "policy": '[program]\nweekday = "thursday"\n',
    "secrets": {"LEARNINGDAY_SECRET_KEY": "s3cret"},
    "temporal": {
        "address": "learning.a1b2c.tmprl.cloud:7233",
        "namespace": "learning.a1b2c",
        "apiKey": {"existingSecret": "temporal-cloud", "key": "api-key"},
        "mtls": {"existingSecret": "temporal-client-tls"},
    },
    "web": {
        "ingress": {"enabled": True, "host": "ld.example.com", "tlsSecret": "ld-tls"},
        "autoscaling": {"enabled": True},
    },
    "worker": {"autoscaling": {"enabled": True}},
}


def render(values: dict[str, Any], chart: Path = CHART) -> list[dict[str, Any]]:
    manifests = helm.Chart.load(str(chart)).render(values, name="ld", namespace="learning", is_install=True)
    return [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if doc]


def invalid(objects: list[dict[str, Any]]) -> list[str]:
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {list(error.path)}")
    return problems


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_chart_lints_clean() -> None:
    report = helm.lint(str(CHART), DATABASE, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] > 1] == []  # only "icon is recommended"


@pytest.mark.parametrize(
    "values", [DATABASE, EVERYTHING, {"existingSecret": "ld-env"}], ids=["defaults", "everything", "existing-secret"]
)
def test_every_rendered_object_is_valid_kubernetes(values: dict[str, Any]) -> None:
    objects = render(values)
    assert objects
    assert invalid(objects) == []


def test_web_and_worker_have_probes_resources_and_run_unprivileged() -> None:
    deployments = by_kind(render(DATABASE), "Deployment")
    assert set(deployments) == {"ld-learningday-web", "ld-learningday-worker"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"] == [name.rsplit("-", 1)[1]]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    worker = deployments["ld-learningday-worker"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > 20, "SIGKILL would cut the graceful shutdown short"


def test_settings_reach_the_pods_through_config_and_secret() -> None:
    objects = render(EVERYTHING | {"worker": {"maxCachedWorkflows": 250, "channelPostsPerSecond": 0.5}})
    config = by_kind(objects, "ConfigMap")["ld-learningday-config"]["data"]
    assert config["LEARNINGDAY_WORKER_MAX_CACHED_WORKFLOWS"] == "250"
    assert config["LEARNINGDAY_CHANNEL_POSTS_PER_SECOND"] == "0.5"
    assert by_kind(objects, "ConfigMap")["ld-learningday-policy"]["data"]["policy.toml"].startswith("[program]")
    secret = by_kind(objects, "Secret")["ld-learningday-env"]["stringData"]
    assert secret["LEARNINGDAY_SECRET_KEY"] == "s3cret"
    worker = by_kind(objects, "Deployment")["ld-learningday-worker"]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in worker["containers"][0]["env"]}
    assert env["LEARNINGDAY_TEMPORAL_ADDRESS"]["value"] == "learning.a1b2c.tmprl.cloud:7233"
    assert env["LEARNINGDAY_TEMPORAL_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "temporal-cloud",
        "key": "api-key",
    }
    assert env["LEARNINGDAY_TEMPORAL_TLS_CERT"]["value"] == "/etc/temporal-tls/tls.crt"
    assert {"name": "temporal-tls", "secret": {"secretName": "temporal-client-tls"}} in worker["volumes"]
    assert env["LEARNINGDAY_POLICY_FILE"]["value"] == "/etc/learningday/policy.toml"


def test_migrations_run_as_a_hook_before_the_new_pods() -> None:
    objects = render(DATABASE)
    job = by_kind(objects, "Job")["ld-learningday-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]
    # Its Secret is a hook too (the release Secret does not exist yet at pre-install) and comes first.
    hook_secret = by_kind(objects, "Secret")["ld-learningday-migrate"]
    assert int(hook_secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0
    with_existing = render({"existingSecret": "ld-env"})
    assert "ld-learningday-migrate" not in by_kind(with_existing, "Secret")
    assert not by_kind(with_existing, "Secret"), "an existing Secret must not be shadowed by the chart's"
    job = by_kind(with_existing, "Job")["ld-learningday-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "ld-env"}}]


def test_disruption_budgets_and_optional_autoscaling() -> None:
    assert set(by_kind(render(DATABASE), "PodDisruptionBudget")) == {"ld-learningday-web", "ld-learningday-worker"}
    assert not by_kind(render(DATABASE), "HorizontalPodAutoscaler")
    scaled = render(EVERYTHING)
    assert set(by_kind(scaled, "HorizontalPodAutoscaler")) == {"ld-learningday-web", "ld-learningday-worker"}
    assert "replicas" not in by_kind(scaled, "Deployment")["ld-learningday-worker"]["spec"]


def test_missing_database_is_refused_with_what_to_set() -> None:
    with pytest.raises(helm.HelmRenderError, match="Set database.url"):
        render({})


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"worker": {"replicas": "two"}}, "/worker/replicas"),
        ({"temporal": {"address": "https://temporal"}}, "/temporal/address"),
    ],
)
def test_values_schema_refuses_bad_values(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=where):
        render(DATABASE | values)


def test_a_broken_template_fails_validation(tmp_path: Path) -> None:
    """The check is not a rubber stamp: a typo in a manifest is caught."""
    broken = tmp_path / "learningday"
    shutil.copytree(CHART, broken)
    worker = broken / "templates" / "worker.yaml"
    worker.write_text(worker.read_text().replace("containerPort:", "containerPorts:", 1))
    problems = invalid(render(DATABASE, broken))
    assert len(problems) == 1 and problems[0].startswith("Deployment/ld-learningday-worker")
