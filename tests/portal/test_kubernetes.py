"""The Kubernetes manifests (deploy/kubernetes): the example overlay renders with
`kubectl kustomize` and every object validates offline against the Kubernetes schemas
(kubernetes-validate, strict: an unknown field is an error too); then the properties an
operator relies on are checked on the rendered objects."""

import os
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

OVERLAY = settings.BASE_DIR / "deploy" / "kubernetes" / "overlays" / "example"
# The Kubernetes release the manifests are validated for (VNG Haven clusters run a
# supported release; kubernetes-validate bundles the schemas).
KUBERNETES_VERSION = "1.31.0"


def kubectl() -> str:
    executable = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if executable is None:
        pytest.fail(
            "kubectl is missing, so the manifests cannot be rendered: apt-get install "
            "kubernetes-client (.ci/run and `make test` do when no kubectl is on the PATH)."
        )
    return executable


def render(directory) -> list[dict]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def validation_errors(objects: list[dict]) -> list[str]:
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}: {error}")
    return errors


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    return render(OVERLAY)


def by_kind(objects, kind) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pod_spec(obj) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def test_the_example_overlay_renders_and_every_object_validates(rendered):
    """All objects are valid for the Kubernetes version, in the overlay's namespace."""
    assert validation_errors(rendered) == []
    assert {obj["kind"] for obj in rendered} >= {
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "Job",
        "CronJob",
        "Ingress",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "PersistentVolumeClaim",
    }
    for obj in rendered:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "meldpunt", obj["metadata"]["name"]


def test_an_invalid_manifest_fails_the_validation(rendered, tmp_path):
    """The check can fail: a wrong type or an unknown field is reported, and an overlay that
    does not render fails the rendering."""
    web = by_kind(rendered, "Deployment")["web"]
    wrong_type = {**web, "spec": {**web["spec"], "replicas": "two"}}
    unknown_field = {**web, "spec": {**web["spec"], "replica": 2}}
    assert len(validation_errors([wrong_type, unknown_field])) == 2

    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    result = subprocess.run(
        [kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_probes_health_checks_and_one_beat(rendered):
    """web is ready on /readyz and alive on /healthz; each worker pings its own node; beat
    runs exactly once, also during a roll-out, and is restarted when its ticks stop; the
    migrations are a Job of their own that checks the configuration first."""
    deployments = by_kind(rendered, "Deployment")
    assert set(deployments) == {"web", "worker", "mail-worker", "beat"}
    [web] = pod_spec(deployments["web"])["containers"]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name, node in (("worker", "celery"), ("mail-worker", "mail")):
        [container] = pod_spec(deployments[name])["containers"]
        assert container["livenessProbe"]["exec"]["command"][-1].startswith(
            f"celery -A portal inspect ping --timeout 10 -d {node}@$HOSTNAME"
        ), name
    assert deployments["beat"]["spec"]["replicas"] == 1
    [beat] = pod_spec(deployments["beat"])["containers"]
    assert beat["livenessProbe"]["exec"]["command"] == ["python", "manage.py", "beat_health"]
    assert {"name": "BEAT_TICK_FILE", "value": "/tmp/beat-tick"} in beat["env"]  # noqa: S108
    assert deployments["beat"]["spec"]["strategy"] == {"type": "Recreate"}
    for deployment in deployments.values():
        for container in pod_spec(deployment)["containers"]:
            assert "migrate" not in container["command"]
    [migrate] = pod_spec(by_kind(rendered, "Job")["migrate"])["containers"]
    assert migrate["command"][-1] == (
        "python manage.py check --deploy && exec python manage.py migrate --no-input"
    )
    [owner_url] = [e for e in migrate["env"] if e["name"] == "DATABASE_URL"]
    assert owner_url["valueFrom"]["secretKeyRef"]["name"] == "portal-database-owner"


def test_every_pod_runs_as_non_root_on_a_read_only_root_with_a_tmp_volume(rendered):
    """Each pod meets the restricted Pod Security Standard the namespace enforces, writes
    only to an emptyDir /tmp (and the backup volume), and gets no service account token."""
    pods = [obj for obj in rendered if obj["kind"] in ("Deployment", "Job", "CronJob")]
    assert len(pods) == 6
    namespace = by_kind(rendered, "Namespace")["meldpunt"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in pods:
        spec = pod_spec(obj)
        name = obj["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"], name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert mounts["/tmp"] == "tmp", name  # noqa: S108 (a path in the pod, not here)


def test_secrets_come_from_the_cluster_and_no_value_is_in_the_files(rendered):
    """No Secret object and no secret value in the manifests: containers read them from the
    Secrets the cluster holds (envFrom, secretKeyRef)."""
    assert not by_kind(rendered, "Secret")
    secret_names = {
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "IDENTIFIER_HASH_KEY",
        "DATABASE_URL",
        "EMAIL_HOST_PASSWORD",
        "EVIDENCE_S3_SECRET_ACCESS_KEY",
        "HEALTH_TOKEN",
    }
    config = by_kind(rendered, "ConfigMap")["portal-config"]["data"]
    assert not secret_names & set(config)
    for obj in rendered:
        if obj["kind"] not in ("Deployment", "Job", "CronJob"):
            continue
        for container in pod_spec(obj)["containers"]:
            assert {"secretRef": {"name": "portal-secrets"}} in container["envFrom"]
            for variable in container.get("env", []):
                if variable["name"] in secret_names:
                    assert "value" not in variable, variable
    assert config["EVIDENCE_STORAGE"] == "s3"


def test_ingress_disruption_budget_and_network_policies(rendered):
    """The ingress lets a 200 MB video through (210m, buffered); a drain keeps one web pod;
    everything is denied unless a policy allows it, and web is reachable only from the
    ingress controller."""
    ingress = by_kind(rendered, "Ingress")["web"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "210m"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "on"
    assert ingress["spec"]["rules"][0]["host"] == "meldpunt.gemeente.example"

    budget = by_kind(rendered, "PodDisruptionBudget")["web"]
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "web"

    policies = by_kind(rendered, "NetworkPolicy")
    assert policies["default-deny"]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in policies["default-deny"]["spec"]
    assert "egress" not in policies["default-deny"]["spec"]
    [allowed] = policies["web-from-ingress"]["spec"]["ingress"]
    assert allowed["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert allowed["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }
