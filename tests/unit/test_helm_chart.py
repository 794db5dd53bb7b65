"""The Helm chart (charts/flotilla), checked without Helm or Kubernetes, neither of which exists here.

What can be known without rendering: the chart's YAML files parse; the templates' actions are balanced and
their blocks closed; every named template included exists; every value a template reads exists, every value
is read by some template and documented in the chart's README; and the chart describes the same fleet as
compose.yaml and the Dockerfile (services, images, port, environment, probe paths, volumes, Docker socket).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

import pytest
import yaml

from flotilla.fleet import SERVICES as FLEET_SERVICES
from gateway.config import SERVICES as GATEWAY_SERVICES

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flotilla"
TEMPLATES = sorted((CHART / "templates").iterdir())
ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
OPENERS = {"if", "range", "with", "define", "block"}
PORT = 4566


# ---- reading the chart ---------------------------------------------------------------------------------


def _yaml(path: Path):
    return yaml.safe_load(path.read_text())


@cache
def values() -> dict:
    return _yaml(CHART / "values.yaml")


def template(name: str) -> str:
    return (CHART / "templates" / name).read_text()


def actions(text: str) -> list[str]:
    """The inside of every `{{ }}` action, comments left out."""
    return [a for a in ACTION.findall(text) if not a.startswith("/*")]


def defines() -> dict[str, str]:
    """Named templates of _helpers.tpl: name -> body."""
    pattern = re.compile(r'\{\{-?\s*define\s+"([^"]+)"\s*-?\}\}(.*?)\{\{-?\s*end\s*-?\}\}\n', re.S)
    return dict(pattern.findall(template("_helpers.tpl")))


def env_names(text: str) -> set[str]:
    return set(re.findall(r"^\s*- name: ([A-Z][A-Z0-9_]*)\s*$", text, re.M))


def probe_path(text: str) -> str:
    (path,) = re.findall(r'include "flotilla.probes" \(dict "root" \$ "path" "([^"]+)"\)', text)
    return path


def docker_services() -> set[str]:
    (names,) = re.findall(r"has \$name \(list ([^)]*)\)", template("services.yaml"))
    return set(re.findall(r'"(\w+)"', names))


# ---- values: paths with `*` for "every key of this map" ----------------------------------------------


def leaves(tree: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in tree.items():
        path = (*prefix, key)
        out.extend(leaves(value, path) if isinstance(value, dict) and value else [path])
    return out


def exists(tree: object, path: tuple[str, ...]) -> bool:
    if not path:
        return True
    if not isinstance(tree, dict):
        return False
    head, rest = path[0], path[1:]
    if head == "*":
        return bool(tree) and all(exists(child, rest) for child in tree.values())
    return head in tree and exists(tree[head], rest)


def covers(prefix: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(prefix) <= len(path) and all(p in ("*", q) for p, q in zip(prefix, path, strict=False))


def value_references() -> dict[tuple[str, ...], str]:
    """Every values path a template reads -> the file that reads it.

    A map a template ranges over counts only through what it reads of each entry (`$svc.enabled` ->
    `services.*.enabled`), so that an entry's unread leaf is not hidden by the range itself.
    """
    refs: dict[tuple[str, ...], str] = {}
    ranged_maps: set[tuple[str, ...]] = set()
    for path in TEMPLATES:
        text = path.read_text()
        for ref in re.findall(r"\.Values((?:\.\w+)+)", text):
            refs[tuple(ref.strip(".").split("."))] = path.name
        ranged = re.findall(r"range\s+\$\w+\s*,\s*(\$\w+)\s*:=\s*\$?\.Values((?:\.\w+)+)", text)
        for var, base in ranged:
            ranged_maps.add(tuple(base.strip(".").split(".")))
            for ref in re.findall(re.escape(var) + r"((?:\.\w+)+)", text):
                refs[(*base.strip(".").split("."), "*", *ref.strip(".").split("."))] = path.name
    return {ref: name for ref, name in refs.items() if ref not in ranged_maps}


def documented() -> list[tuple[str, ...]]:
    """The first cell of every row of the README's Values table, `<name>` read as `*`."""
    section = (CHART / "README.md").read_text().split("## Values", 1)[1]
    cells = re.findall(r"^\| `([^`]+)` \|", section, re.M)
    return [tuple("*" if part.startswith("<") else part for part in cell.split(".")) for cell in cells]


# ---- compose.yaml and the Dockerfile ------------------------------------------------------------------


@cache
def compose() -> dict:
    return _yaml(ROOT / "compose.yaml")["services"]


def compose_services() -> dict[str, dict]:
    """The AWS services of compose.yaml: those behind a profile of their own name."""
    return {name: svc for name, svc in compose().items() if name in svc.get("profiles", ())}


def compose_env(service: str) -> dict[str, str]:
    env = compose()[service].get("environment") or {}
    return dict(item.split("=", 1) for item in env) if isinstance(env, list) else env


def compose_default(text: str) -> str:
    """`${VAR:-default}` -> default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def compose_health_path(service: str) -> str:
    (path,) = [arg for arg in compose()[service]["healthcheck"]["test"] if arg.startswith("/_flotilla/")]
    return path


def compose_mounts(service: str) -> set[str]:
    return {compose_default(volume).split(":")[1] for volume in compose()[service].get("volumes", ())}


def dockerfile_targets() -> set[str]:
    return set(re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.M))


# ---- the tests -----------------------------------------------------------------------------------------


def test_chart_yaml_and_values_parse():
    chart = _yaml(CHART / "Chart.yaml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "flotilla"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"] == project["version"]
    assert isinstance(values(), dict)
    assert (CHART / "templates" / "NOTES.txt").read_text().strip()


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_actions_are_balanced_and_blocks_closed(path: Path):
    text = path.read_text()
    assert text.count("{{") == text.count("}}"), "unbalanced {{ }}"
    stack: list[str] = []
    for action in actions(text):
        assert "{{" not in action, f"nested action: {action!r}"
        word = action.split(None, 1)[0] if action else ""
        if word in OPENERS:
            stack.append(word)
        elif word == "else":
            assert stack and stack[-1] in {"if", "range", "with"}, f"else outside if/range/with: {action!r}"
        elif word == "end":
            assert stack, "end without a block"
            stack.pop()
        # Inside range the dot is the element: the root's values must be read as $.Values.
        if "range" in stack and word != "range":
            assert not re.search(r"(?<![\w$])\.Values", action), f"bare .Values inside range: {action!r}"
    assert not stack, f"unclosed blocks: {stack}"


def test_every_include_has_its_define_and_every_define_is_used():
    defined = set(defines())
    used = {
        name for path in TEMPLATES for name in re.findall(r'(?:include|template) "([^"]+)"', path.read_text())
    }
    assert used - defined == set(), "included but never defined"
    assert defined - used == set(), "defined but never included"


def test_every_value_a_template_reads_exists():
    missing = {".".join(ref): name for ref, name in value_references().items() if not exists(values(), ref)}
    assert missing == {}


def test_every_value_is_read_by_a_template():
    refs = value_references()
    unused = [".".join(leaf) for leaf in leaves(values()) if not any(covers(ref, leaf) for ref in refs)]
    assert unused == []


def test_every_value_is_documented_and_every_documented_value_exists():
    docs = documented()
    assert [".".join(doc) for doc in docs if not exists(values(), doc)] == []
    assert [".".join(leaf) for leaf in leaves(values()) if not any(covers(doc, leaf) for doc in docs)] == []


def test_every_pod_turns_service_links_off():
    assert "enableServiceLinks: false" in defines()["flotilla.podCommon"]
    for name in ("services.yaml", "gateway.yaml", "redis.yaml"):
        text = template(name)
        assert text.count("kind: Deployment") == text.count('include "flotilla.podCommon"') == 1


# ---- the chart describes the fleet of compose.yaml ----------------------------------------------------


def test_same_services_as_compose_the_fleet_and_the_gateway():
    chart = set(values()["services"])
    assert chart == set(compose_services()) == set(FLEET_SERVICES) == set(GATEWAY_SERVICES)
    assert chart <= dockerfile_targets()
    assert {"redis", "gateway"} <= set(compose())
    assert all(values()["services"][name]["enabled"] for name in chart), (
        "compose --profile all starts every one"
    )


def test_same_images_as_compose():
    prefix = values()["image"]["repository"]
    for name in [*values()["services"], "gateway"]:
        image = compose_default(compose()[name]["image"])
        assert image.rsplit(":", 1)[0] == f"{prefix}/{name}"
        assert compose()[name]["build"]["target"] == name
    assert "/%s:%s" in defines()["flotilla.image"]
    redis = values()["redis"]["image"]
    assert f"{redis['repository']}:{redis['tag']}" == compose()["redis"]["image"]


def test_same_port_everywhere():
    for name in ("services.yaml", "gateway.yaml"):
        assert re.findall(r"containerPort: (\d+)", template(name)) == [str(PORT)]
    assert values()["gateway"]["service"]["port"] == PORT
    assert compose_default(compose()["gateway"]["ports"][0]).endswith(f":{PORT}")
    upstreams = {k: v for k, v in compose_env("gateway").items() if k.startswith("FLOTILLA_UPSTREAM_")}
    assert upstreams == {f"FLOTILLA_UPSTREAM_{n.upper()}": f"http://{n}:{PORT}" for n in values()["services"]}
    assert f'printf "http://%s:{PORT}"' in template("gateway.yaml")


def test_same_service_environment_as_compose():
    base = env_names(defines()["flotilla.serviceEnv"])
    docker = env_names(defines()["flotilla.dockerEnv"])
    for name in compose_services():
        expected = base | docker if name in docker_services() else base
        assert expected <= set(compose_env(name)), name
        own = set(compose_env(name)) - expected  # the service's own options: services.<name>.env in the chart
        assert all(k.startswith(f"FLOTILLA_{name.upper()}_") for k in own), (name, own)
    assert 'include "flotilla.serviceEnv"' in template("services.yaml")
    assert 'include "flotilla.dockerEnv"' in template("services.yaml")


def test_gateway_gets_an_upstream_for_enabled_services_only():
    gateway = template("gateway.yaml")
    block = re.search(r"range \$name, \$svc := \.Values\.services.*?if \$svc\.enabled(.*?)end", gateway, re.S)
    assert block is not None
    assert "- name: FLOTILLA_UPSTREAM_{{ upper $name }}" in block.group(1)
    names = set(compose_env("gateway"))
    upstreams = {n for n in names if n.startswith("FLOTILLA_UPSTREAM_")}
    assert upstreams == {f"FLOTILLA_UPSTREAM_{n.upper()}" for n in GATEWAY_SERVICES}
    # the gateway's own options (gateway.env in the chart)
    assert all(n.startswith("FLOTILLA_GATEWAY_") for n in names - upstreams), names - upstreams


def test_same_probe_paths_as_compose():
    assert probe_path(template("gateway.yaml")) == compose_health_path("gateway") == "/_flotilla/ping"
    for name in compose_services():
        assert probe_path(template("services.yaml")) == compose_health_path(name) == "/_flotilla/health"


def test_same_data_dir_and_docker_socket_as_compose():
    data_dir = compose_env("s3")["FLOTILLA_DATA_DIR"]
    assert f"- name: FLOTILLA_DATA_DIR\n  value: {data_dir}" in defines()["flotilla.serviceEnv"]
    assert f"mountPath: {data_dir}" in template("services.yaml")
    assert "mountPath: /data" in template("redis.yaml")
    socket = "/var/run/docker.sock"
    assert {n for n in compose_services() if socket in compose_mounts(n)} == docker_services()
    assert all(data_dir in compose_mounts(n) for n in compose_services())
    assert f"mountPath: {socket}" in template("services.yaml")
    assert values()["docker"]["socket"]["hostPath"] == socket


def test_persistence_sets_the_flag_and_one_claim_per_stateful_pod():
    assert (
        '- name: PERSISTENCE\n  value: {{ ternary "1" "0" .Values.persistence.enabled | quote }}'
        in (defines()["flotilla.serviceEnv"])
    )
    pvc = template("pvc.yaml")
    assert "kind: PersistentVolumeClaim" in pvc and 'list "redis"' in pvc and "if $svc.enabled" in pvc
    assert "persistentVolumeClaim:" in defines()["flotilla.dataVolume"]
    for name in ("services.yaml", "redis.yaml"):
        assert 'include "flotilla.dataVolume" $ctx' in template(name)
