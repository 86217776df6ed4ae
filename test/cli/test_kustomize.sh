#!/bin/bash
# test_kustomize.sh: `kubectl kustomize manifests/deploy` renders, and what it renders
# keeps least privilege: RBAC verbs only get/list/watch on namespaces, pods and
# networkpolicies, bound to the DaemonSet's own service account; the DaemonSet not
# privileged, no privilege escalation, every capability dropped but NET_ADMIN and
# NET_RAW, a read-only root filesystem, runAsNonRoot true wherever it is set, the host
# network (which netpold needs) but no host PID or IPC, only the xtables lock from the
# host; the image netpold:<project version>; every flag it passes is one netpold
# accepts; the metrics Service selects the pods and targets their metrics port. Prints
# "N passed, M failed"; exits non-zero on a failure.
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NPD=${NPD_BUILD_DIR:-$SRC/build}/netpold
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
command -v kubectl >/dev/null || { echo "FAIL: kubectl missing (scripts/deps)"; exit 1; }
[ -x "$NPD" ] || { echo "no netpold at $NPD"; exit 1; }
if ! kubectl kustomize "$SRC/manifests/deploy" >"$TMP/rendered.yaml" 2>"$TMP/err"; then
	echo "FAIL: kubectl kustomize manifests/deploy"
	cat "$TMP/err"
	exit 1
fi
"$NPD" --help >"$TMP/help"
version=$(grep -o 'project(netpold VERSION [0-9.]*' "$SRC/CMakeLists.txt" | awk '{print $3}')

python3 - "$TMP/rendered.yaml" "$TMP/help" "$version" <<'PY'
import sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
help_text = open(sys.argv[2]).read()
version = sys.argv[3]
passed = failed = 0

def check(desc, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", desc, detail)

def of(kind):
    return [d for d in docs if d.get("kind") == kind]

kinds = sorted(d["kind"] for d in docs)
check("renders Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, DaemonSet, Service",
      kinds == sorted(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                       "DaemonSet", "Service"]), kinds)
ns = of("Namespace")[0]["metadata"]["name"] if of("Namespace") else None
for d in docs:
    if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
        check("%s/%s lives in the namespace %s" % (d["kind"], d["metadata"]["name"], ns),
              d["metadata"].get("namespace") == ns, d["metadata"].get("namespace"))

# RBAC: read only, and only what the model needs.
check("no Role or RoleBinding beside the ClusterRole", not of("Role") and not of("RoleBinding"))
wanted = {("", "namespaces"), ("", "pods"), ("networking.k8s.io", "networkpolicies")}
granted = set()
for role in of("ClusterRole"):
    for r in role.get("rules", []):
        verbs = set(r.get("verbs", []))
        check("verbs only get/list/watch: %s" % sorted(verbs), verbs <= {"get", "list", "watch"})
        check("no nonResourceURLs", "nonResourceURLs" not in r)
        check("no resourceNames wildcard", "*" not in r.get("resourceNames", []))
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                granted.add((g, res))
check("resources are exactly namespaces, pods, networkpolicies", granted == wanted, granted)
check("list and watch granted (what the reflector uses)",
      all({"list", "watch"} <= set(r["verbs"]) for role in of("ClusterRole") for r in role["rules"]))

ds = of("DaemonSet")[0]
spec = ds["spec"]["template"]["spec"]
sa = spec.get("serviceAccountName")
binds = [(b["roleRef"]["name"], s.get("name"), s.get("namespace"))
         for b in of("ClusterRoleBinding") for s in b.get("subjects", [])]
check("the ClusterRole is bound to the DaemonSet's service account only",
      binds == [(of("ClusterRole")[0]["metadata"]["name"], sa, ds["metadata"]["namespace"])], binds)
check("the service account exists", any(s["metadata"]["name"] == sa for s in of("ServiceAccount")))
check("hostNetwork (netpold writes the node's filter table)", spec.get("hostNetwork") is True)
check("no hostPID, no hostIPC", not spec.get("hostPID") and not spec.get("hostIPC"))
paths = [v["hostPath"]["path"] for v in spec.get("volumes", []) if "hostPath" in v]
check("the only host path is /run/xtables.lock", paths == ["/run/xtables.lock"], paths)
pod_sc = spec.get("securityContext") or {}
if "runAsNonRoot" in pod_sc:
    check("pod runAsNonRoot true where set", pod_sc["runAsNonRoot"] is True)
containers = spec.get("containers", []) + spec.get("initContainers", [])
check("one container", len(spec.get("containers", [])) == 1)
for c in containers:
    sc = c.get("securityContext") or {}
    caps = sc.get("capabilities") or {}
    n = c["name"]
    check("%s: image netpold:%s" % (n, version), c.get("image") == "netpold:" + version, c.get("image"))
    check("%s: not privileged" % n, sc.get("privileged") is not True)
    check("%s: allowPrivilegeEscalation false" % n, sc.get("allowPrivilegeEscalation") is False)
    check("%s: readOnlyRootFilesystem" % n, sc.get("readOnlyRootFilesystem") is True)
    check("%s: drops ALL capabilities" % n, "ALL" in (caps.get("drop") or []))
    check("%s: adds exactly NET_ADMIN and NET_RAW" % n,
          sorted(caps.get("add") or []) == ["NET_ADMIN", "NET_RAW"], caps.get("add"))
    if "runAsNonRoot" in sc:
        check("%s: runAsNonRoot true where set" % n, sc["runAsNonRoot"] is True)
    check("%s: no procMount or SELinux/AppArmor override" % n,
          "procMount" not in sc and "seLinuxOptions" not in sc)
    for a in c.get("args", []) + c.get("command", []):
        if a.startswith("--"):
            flag = a.split("=", 1)[0]
            check("%s: netpold --help lists %s" % (n, flag), ("  %s " % flag) in help_text)
    mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
    check("%s: mounts only the xtables lock" % n, mounts == ["/run/xtables.lock"], mounts)
    probe = (c.get("readinessProbe") or {}).get("httpGet", {})
    check("%s: readiness is /readyz" % n, probe.get("path") == "/readyz")

c = spec["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
addr = [a for a in c.get("args", []) if a.startswith("--metrics-addr=")]
check("metrics address flag set", len(addr) == 1)
if addr and "metrics" in ports:
    check("--metrics-addr port is the metrics containerPort",
          addr[0].rsplit(":", 1)[1] == str(ports["metrics"]), (addr, ports))
svc = of("Service")[0]
labels = ds["spec"]["template"]["metadata"]["labels"]
check("the Service selects the DaemonSet's pods",
      all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()))
check("the Service targets the metrics port",
      [p.get("targetPort") for p in svc["spec"]["ports"]] in (["metrics"], [ports.get("metrics")]))
check("the DaemonSet selector matches its template",
      all(labels.get(k) == v for k, v in ds["spec"]["selector"]["matchLabels"].items()))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
