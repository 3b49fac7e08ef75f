/**
 * deploy/kubernetes/ read as a cluster would read it, offline: every document against the
 * Kubernetes schemas (and unknown fields), the kustomizations, Pod Security "restricted", and
 * each mailpool container's config through mailpool's own loader (test/deploy/manifest-checks.ts).
 * The second half feeds the same checks broken documents and asserts the problem each names.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  allProblems,
  cronJobProblems,
  dockerfileUid,
  kustomizationProblems,
  loadManifests,
  mailpoolContainers,
  mailpoolProblems,
  obj,
  oneShotRunSeconds,
  parseManifests,
  podTemplate,
  restrictedProblems,
  roleProblems,
  schemaProblems,
  unknownFieldProblems,
  type Json,
  type Manifest,
  type Obj,
} from "./manifest-checks.js";

const ROOT = join(import.meta.dirname, "../..");
const DEPLOY = join(ROOT, "deploy/kubernetes");
const TSC = join(ROOT, "node_modules/.bin/tsc");
const WORK = join(ROOT, "node_modules/.cache");

const uid = dockerfileUid(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const { manifests, problems: parseProblems } = loadManifests(DEPLOY);
const byKind = (kind: string, file?: string) => manifests.filter((m) => m.doc.kind === kind && (file === undefined || m.file === file));
const one = (kind: string, file: string): Manifest => {
  const found = byKind(kind, file);
  expect(found, `${kind} in ${file}`).toHaveLength(1);
  return found[0]!;
};
/** A deep copy of a shipped document, edited by `edit`, under the same file name. */
function broken(m: Manifest, edit: (doc: Obj) => void): Manifest {
  const doc = structuredClone(m.doc);
  edit(doc);
  return { ...m, doc };
}
const path = (doc: Json, ...keys: (string | number)[]): Obj => {
  let v: Json = doc;
  for (const k of keys) v = (Array.isArray(v) ? v[k as number] : obj(v)[k as string]) ?? null;
  return obj(v);
};
const podSpec = (m: Manifest): Obj => podTemplate(m)!.spec;
const container = (m: Manifest, name = "mailpool"): Obj =>
  obj(((podSpec(m).containers ?? []) as Json[]).find((c) => obj(c).name === name));
/** allProblems over the shipped manifests with one document replaced. */
const withReplaced = (replacement: Manifest, root?: string) =>
  allProblems(root, manifests.map((m) => (m.file === replacement.file && m.index === replacement.index ? replacement : m)), uid as number);

describe("the shipped manifests (deploy/kubernetes)", () => {
  it("parse, and the image's user is numeric and non-root", () => {
    expect(parseProblems).toEqual([]);
    expect(uid).toBe(1000);
    expect(manifests.length).toBeGreaterThan(15);
  });

  it("pass every check: schemas, kustomizations, restricted pods, mailpool configs, selectors", () => {
    expect(allProblems(DEPLOY, manifests, uid as number)).toEqual([]);
  });

  it("have no unknown field anywhere (tsc against the kubernetes-models interfaces)", async () => {
    mkdirSync(WORK, { recursive: true });
    expect(await unknownFieldProblems(manifests, WORK, TSC)).toEqual([]);
  });

  it("ship what the issue asks for", () => {
    const deployment = one("Deployment", "deployment.yaml");
    expect(path(deployment.doc, "spec").replicas).toBe(2);
    const config = mailpoolProblems(mailpoolContainers(podTemplate(deployment)!)[0]!, { manifests, imageUid: 1000 }).config!;
    expect(config.daemon.listen).toBe("0.0.0.0:9465");
    expect(config.daemon.leaderElection.enabled).toBe(true);
    expect(path(deployment.doc, "spec", "template", "metadata", "annotations")).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "9465" });
    for (const kind of ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "PodDisruptionBudget", "ServiceMonitor"]) {
      expect(byKind(kind).filter((m) => !m.file.includes("/")), kind).toHaveLength(1);
    }
    const secret = one("Secret", "secret.example.yaml");
    for (const value of Object.values(path(secret.doc, "stringData"))) expect(value).toMatch(/^EXAMPLE-ONLY/);
    const cron = one("CronJob", "cronjob/cronjob.yaml");
    expect(podSpec(cron).automountServiceAccountToken).toBe(false);
    const irsa = one("ServiceAccount", "cronjob/serviceaccount.yaml");
    expect(path(irsa.doc, "metadata", "annotations")["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::\d{12}:role\//);
    const sidecar = one("Deployment", "sidecar/mail-deployment.yaml");
    const names = ((podSpec(sidecar).containers ?? []) as Json[]).map((c) => obj(c).name);
    expect(names).toEqual(["mail", "mailpool"]);
  });

  it("give the CronJob a deadline longer than one run with confirmations", () => {
    const cron = one("CronJob", "cronjob/cronjob.yaml");
    const config = mailpoolProblems(mailpoolContainers(podTemplate(cron)!)[0]!, { manifests, imageUid: 1000 }).config!;
    // 3 probes of 10 s, 2 pauses of 2 s, 4 retries of 10 s, 60 s waitForSync, 30 s start-up.
    expect(oneShotRunSeconds(config)).toBe(34 + 40 + 60 + 30);
    expect(path(cron.doc, "spec", "jobTemplate", "spec").activeDeadlineSeconds).toBeGreaterThan(164);
  });
});

describe("the checks refuse a broken manifest", () => {
  let deployment: Manifest;
  let cron: Manifest;
  let configMap: Manifest;
  beforeAll(() => {
    deployment = one("Deployment", "deployment.yaml");
    cron = one("CronJob", "cronjob/cronjob.yaml");
    configMap = one("ConfigMap", "configmap.yaml");
  });

  it("a schema violation (a string where Kubernetes wants an integer, a missing name)", () => {
    const bad = broken(deployment, (d) => {
      path(d, "spec").replicas = "two";
      delete container({ ...deployment, doc: d }).name;
    });
    const problems = schemaProblems(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^deployment\.yaml#0 \(Deployment mailpool\): .*spec\/replicas must be integer/);
    expect(problems[0]).toMatch(/containers\/0 must have required property name/);
  });

  it("an unknown apiVersion or kind", () => {
    expect(schemaProblems(broken(deployment, (d) => (d.apiVersion = "apps/v1beta9")))[0]).toMatch(/apiVersion apps\/v1beta9 has no schema/);
    expect(schemaProblems(broken(deployment, (d) => (d.kind = "Deploymint")))[0]).toMatch(/kind Deploymint is not in apps\/v1/);
  });

  it("an unknown field, which the schema validators let through", async () => {
    const bad = broken(deployment, (d) => {
      const sc = path(container({ ...deployment, doc: d }), "securityContext");
      delete sc.readOnlyRootFilesystem;
      sc.readOnlyRootFileSystem = true;
    });
    expect(schemaProblems(bad)).toEqual([]);
    mkdirSync(WORK, { recursive: true });
    const problems = await unknownFieldProblems([bad, cron], WORK, TSC);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^deployment\.yaml#0 \(Deployment mailpool\): .*readOnlyRootFileSystem.* does not exist in type 'ISecurityContext'/);
  });

  it("each Pod Security restricted rule, and missing requests or limits", () => {
    const bad = broken(cron, (d) => {
      const spec = podSpec({ ...cron, doc: d });
      delete path(spec, "securityContext").runAsNonRoot;
      spec.hostNetwork = true;
      (spec.volumes as Json[]).push({ name: "host", hostPath: { path: "/" } });
      const c = container({ ...cron, doc: d });
      const sc = path(c, "securityContext");
      delete sc.runAsNonRoot;
      sc.runAsUser = 0;
      sc.allowPrivilegeEscalation = true;
      sc.readOnlyRootFilesystem = false;
      sc.capabilities = { drop: ["NET_RAW"], add: ["SYS_ADMIN"] };
      sc.seccompProfile = { type: "Unconfined" };
      delete path(c, "resources").limits;
    });
    const at = "cronjob/cronjob.yaml#0 (CronJob mailpool)";
    expect(restrictedProblems(podTemplate(bad)!)).toEqual([
      `${at}: hostNetwork is not allowed`,
      `${at}: volume host: hostPath volumes are not allowed`,
      `${at}: container mailpool: runAsNonRoot must be true`,
      `${at}: container mailpool: runAsUser must be a numeric non-root uid (the kubelet cannot check runAsNonRoot otherwise)`,
      `${at}: container mailpool: seccompProfile.type must be RuntimeDefault`,
      `${at}: container mailpool: allowPrivilegeEscalation must be false`,
      `${at}: container mailpool: readOnlyRootFilesystem must be true`,
      `${at}: container mailpool: capabilities.drop must include ALL`,
      `${at}: container mailpool: capability SYS_ADMIN may not be added`,
      `${at}: container mailpool: resources.limits.cpu is not set`,
      `${at}: container mailpool: resources.limits.memory is not set`,
    ]);
  });

  it("a config in the ConfigMap that mailpool would refuse fails the build", () => {
    const bad = broken(configMap, (d) => {
      const data = path(d, "data");
      data["mailpool.yaml"] = String(data["mailpool.yaml"]).replace("renewDeadlineSeconds: 10", "renewDeadlineSeconds: 20").replace("port: 25,", "port: 70000,");
    });
    const problems = withReplaced(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^deployment\.yaml#0 \(Deployment mailpool\): container mailpool: mailpool refuses its config: configmap\.yaml data\.mailpool\.yaml: invalid configuration/);
    expect(problems[0]).toMatch(/checks\["mx-starttls"\]\.port|checks\.mx-starttls\.port/);
  });

  it("a config whose ${ENV} the pod does not provide", () => {
    const bad = broken(deployment, (d) => {
      const c = container({ ...deployment, doc: d });
      c.env = (c.env as Json[]).filter((e) => obj(e).name !== "CLOUDFLARE_API_TOKEN");
    });
    expect(withReplaced(bad).join("\n")).toMatch(/mailpool refuses its config: .*environment variable CLOUDFLARE_API_TOKEN is not set/s);
  });

  it("the shipped bug: a daemon on loopback, wrong probe paths, a non-numeric or foreign user", () => {
    const cm = broken(configMap, (d) => {
      const data = path(d, "data");
      data["mailpool.yaml"] = String(data["mailpool.yaml"]).replace('"0.0.0.0:9465"', '"127.0.0.1:9465"');
    });
    expect(withReplaced(cm)).toEqual([
      'deployment.yaml#0 (Deployment mailpool): container mailpool: daemon.listen "127.0.0.1:9465" is not reachable from outside the pod (use 0.0.0.0:PORT)',
    ]);
    const dep = broken(deployment, (d) => {
      const c = container({ ...deployment, doc: d });
      path(c, "livenessProbe", "httpGet").path = "/";
      path(c, "readinessProbe", "httpGet").port = 8080;
      path(c, "securityContext").runAsUser = 1001;
    });
    expect(withReplaced(dep)).toEqual([
      "deployment.yaml#0 (Deployment mailpool): container mailpool: runAsUser 1001 is not the image's user 1000",
      "deployment.yaml#0 (Deployment mailpool): container mailpool: livenessProbe must be an httpGet of /healthz",
      "deployment.yaml#0 (Deployment mailpool): container mailpool: readinessProbe port 8080 is not daemon.listen's port 9465",
    ]);
    expect(dockerfileUid("FROM x AS build\nUSER 0\nFROM y\nUSER node\n")).toMatch(/USER node is not numeric/);
    expect(dockerfileUid("FROM y\nUSER 0:0\n")).toBe("USER is root");
  });

  it("two replicas without leader election, or leader election without its token, identity or Lease", () => {
    const noLe = broken(configMap, (d) => {
      const data = path(d, "data");
      data["mailpool.yaml"] = String(data["mailpool.yaml"]).replace("enabled: true", "enabled: false");
    });
    expect(withReplaced(noLe)).toEqual([
      "deployment.yaml#0 (Deployment mailpool): container mailpool: 2 replicas without daemon.leaderElection.enabled would all write",
      "deployment.yaml#0 (Deployment mailpool): container mailpool: nothing in this pod needs the Kubernetes API: set automountServiceAccountToken: false",
    ]);
    const dep = broken(deployment, (d) => {
      const spec = podSpec({ ...deployment, doc: d });
      spec.automountServiceAccountToken = false;
      const c = container({ ...deployment, doc: d });
      c.env = (c.env as Json[]).filter((e) => obj(e).name !== "POD_NAME");
    });
    expect(withReplaced(dep)).toEqual([
      "deployment.yaml#0 (Deployment mailpool): container mailpool: leader election needs the service account token, but it is not mounted",
      "deployment.yaml#0 (Deployment mailpool): container mailpool: leader election without identity needs env POD_NAME from metadata.name",
    ]);
    const role = one("Role", "role.yaml");
    const otherLease = broken(role, (d) => (path(d, "rules", 1).resourceNames = ["someone-else"]));
    expect(withReplaced(otherLease)).toEqual([
      "deployment.yaml#0 (Deployment mailpool): container mailpool: ServiceAccount mailpool may not get Lease mailpool",
      "deployment.yaml#0 (Deployment mailpool): container mailpool: ServiceAccount mailpool may not update Lease mailpool",
    ]);
    const wide = broken(role, (d) => (d.rules as Json[]).push({ apiGroups: [""], resources: ["secrets"], verbs: ["get", "delete"] }));
    expect(roleProblems(wide)).toEqual([
      'role.yaml#0 (Role mailpool-leader-election): grants ["secrets"] in [""]; only coordination.k8s.io leases',
      "role.yaml#0 (Role mailpool-leader-election): verb delete is more than leader election needs",
    ]);
  });

  it("a CronJob that may overlap, has no deadlines, or a deadline shorter than a run", () => {
    const bad = broken(cron, (d) => {
      const spec = path(d, "spec");
      spec.concurrencyPolicy = "Allow";
      delete spec.startingDeadlineSeconds;
      delete spec.failedJobsHistoryLimit;
      delete path(spec, "jobTemplate", "spec").backoffLimit;
      path(spec, "jobTemplate", "spec").activeDeadlineSeconds = 60;
      podSpec({ ...cron, doc: d }).automountServiceAccountToken = true;
    });
    const problems = withReplaced(bad);
    const at = "cronjob/cronjob.yaml#0 (CronJob mailpool)";
    expect(problems).toEqual([
      `${at}: container mailpool: nothing in this pod needs the Kubernetes API: set automountServiceAccountToken: false`,
      `${at}: concurrencyPolicy must be Forbid (two cycles at once)`,
      `${at}: startingDeadlineSeconds is not set`,
      `${at}: failedJobsHistoryLimit is not set`,
      `${at}: jobTemplate.spec.backoffLimit is not set`,
      `${at}: activeDeadlineSeconds 60 does not outlast a run with confirmations (164 s)`,
    ]);
    const tooLong = broken(cron, (d) => (path(d, "spec", "jobTemplate", "spec").activeDeadlineSeconds = 300));
    expect(cronJobProblems(tooLong, undefined)).toEqual([]);
    expect(withReplaced(tooLong)).toEqual([`${at}: activeDeadlineSeconds 300 is not shorter than the schedule's 300 s`]);
    const daemon = broken(cron, (d) => (container({ ...cron, doc: d }).args = ["run", "-c", "/etc/mailpool/mailpool.yaml"]));
    expect(withReplaced(daemon).join("\n")).toMatch(/must run `run --once`/);
  });

  it("a Service that selects no pod or port", () => {
    const service = one("Service", "service.yaml");
    const bad = broken(service, (d) => (path(d, "spec", "selector")["app.kubernetes.io/component"] = "web"));
    expect(withReplaced(bad)).toEqual([
      "service.yaml#0 (Service mailpool): selects no pod template in ./",
      "service.yaml#0 (Service mailpool): targetPort http is no container port of the pods it selects",
    ]);
  });

  it("a ServiceMonitor on no Service or port, a PDB on no pod", () => {
    const sm = broken(one("ServiceMonitor", "servicemonitor.yaml"), (d) => {
      path(d, "spec", "selector", "matchLabels")["app.kubernetes.io/name"] = "other";
    });
    expect(withReplaced(sm)).toEqual(["servicemonitor.yaml#0 (ServiceMonitor mailpool): selects no Service in ./"]);
    const port = broken(one("ServiceMonitor", "servicemonitor.yaml"), (d) => (path(d, "spec", "endpoints", 0).port = "metrics"));
    expect(withReplaced(port)).toEqual(["servicemonitor.yaml#0 (ServiceMonitor mailpool): endpoint port metrics is no port of the Service"]);
    const pdb = broken(one("PodDisruptionBudget", "poddisruptionbudget.yaml"), (d) => (path(d, "spec", "selector", "matchLabels")["app.kubernetes.io/name"] = "mail"));
    expect(withReplaced(pdb)).toEqual(["poddisruptionbudget.yaml#0 (PodDisruptionBudget mailpool): selects no pod template in ./"]);
  });

  it("a kustomization that misses a file, lists a missing one, or lists the example Secret", () => {
    const k = one("Kustomization", "kustomization.yaml");
    const bad = broken(k, (d) => {
      d.resources = (d.resources as Json[]).filter((r) => r !== "poddisruptionbudget.yaml").concat(["secret.example.yaml", "gone.yaml"]);
      d.commonLabelz = {};
    });
    expect(kustomizationProblems(DEPLOY, manifests.map((m) => (m === k ? bad : m)))).toEqual([
      "kustomization.yaml: commonLabelz: unknown key",
      "kustomization.yaml: resources lists gone.yaml, which does not exist",
      "kustomization.yaml: does not list poddisruptionbudget.yaml",
      "kustomization.yaml: lists secret.example.yaml; an example must not be applied",
    ]);
  });

  it("YAML that does not parse, or a duplicate key", () => {
    const into: Manifest[] = [];
    expect(parseManifests("x.yaml", "kind: Pod\nkind: Pod\n", into)[0]).toMatch(/^x\.yaml#0: YAML: Map keys must be unique/);
    expect(parseManifests("y.yaml", "a: [\n", into)[0]).toMatch(/^y\.yaml#0: YAML:/);
  });
});
