/**
 * Reads deploy/kubernetes/ as a cluster would and reports every reason one would refuse it, or a
 * reason mailpool would not start or behave in it. Each check returns problems (strings naming
 * the file, the document and the field), so a test asserts on none for the shipped manifests
 * and on the exact problem for a broken document.
 *
 *  - schema: each document against the Kubernetes OpenAPI schemas (kubernetes-models, and
 *    @kubernetes-models/prometheus-operator for the ServiceMonitor), plus unknown fields, which
 *    those validators let through and `kubectl apply` (strict field validation) refuses: the
 *    documents are type-checked by tsc against the packages' interfaces (excess properties);
 *  - kustomization: every file listed (examples deliberately not), every listed file present;
 *  - Pod Security "restricted" on every pod template, resources, service account token policy;
 *  - mailpool containers: the config in their ConfigMap through mailpool's own loader with the
 *    pod's environment, listen address and probes, leader election vs replicas and RBAC, the
 *    image's numeric user, the CronJob's deadlines against the length of one run.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { ConfigError, parseConfig, type Config } from "../../src/config/load.js";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as coordinationV1 from "kubernetes-models/coordination.k8s.io/v1";
import * as coreV1 from "kubernetes-models/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as rbacV1 from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as monitoringV1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Obj = { [key: string]: Json };

export interface Manifest {
  /** Path relative to the manifests' root, e.g. "cronjob/cronjob.yaml". */
  readonly file: string;
  /** Index of the document in its file. */
  readonly index: number;
  readonly doc: Obj;
}

export const where = (m: Manifest): string => `${m.file}#${m.index} (${String(m.doc.kind)} ${String(obj(m.doc.metadata).name)})`;

export function obj(v: Json | undefined): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v : {};
}
export function arr(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

/** Every YAML file under root (recursively), every document in it. */
export function loadManifests(root: string): { manifests: Manifest[]; problems: string[] } {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  for (const path of yamlFiles(root)) {
    const file = relative(root, path);
    problems.push(...parseManifests(file, readFileSync(path, "utf8"), manifests));
  }
  return { manifests, problems };
}

export function parseManifests(file: string, text: string, into: Manifest[]): string[] {
  const problems: string[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((d, index) => {
    if ("errors" in d && d.errors.length > 0) {
      problems.push(...d.errors.map((e) => `${file}#${index}: YAML: ${e.message.split("\n")[0]}`));
      return;
    }
    const doc = d.toJS() as Json;
    if (doc === null) return;
    if (typeof doc !== "object" || Array.isArray(doc)) problems.push(`${file}#${index}: not a mapping`);
    else into.push({ file, index, doc });
  });
  return problems;
}

export function yamlFiles(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

// --- schema ---------------------------------------------------------------------------------

interface ModelClass {
  new (data: Obj): { validate(): void };
}
/** apiVersion → kind → kubernetes-models class (and the module its interface is in). */
const MODELS: Record<string, { module: string; classes: Record<string, unknown> }> = {
  v1: { module: "kubernetes-models/v1", classes: coreV1 },
  "apps/v1": { module: "kubernetes-models/apps/v1", classes: appsV1 },
  "batch/v1": { module: "kubernetes-models/batch/v1", classes: batchV1 },
  "policy/v1": { module: "kubernetes-models/policy/v1", classes: policyV1 },
  "rbac.authorization.k8s.io/v1": { module: "kubernetes-models/rbac.authorization.k8s.io/v1", classes: rbacV1 },
  "coordination.k8s.io/v1": { module: "kubernetes-models/coordination.k8s.io/v1", classes: coordinationV1 },
  "monitoring.coreos.com/v1": { module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1", classes: monitoringV1 },
};
export const KUSTOMIZATION_API = "kustomize.config.k8s.io/v1beta1";

function modelOf(doc: Obj): { module: string; Model: ModelClass } | string {
  const apiVersion = String(doc.apiVersion);
  const kind = String(doc.kind);
  const group = MODELS[apiVersion];
  if (!group) return `apiVersion ${apiVersion} has no schema here (known: ${Object.keys(MODELS).join(", ")})`;
  const Model = group.classes[kind];
  if (typeof Model !== "function") return `kind ${kind} is not in ${apiVersion}`;
  return { module: group.module, Model: Model as ModelClass };
}

/** The OpenAPI schema check (types, required fields, formats) of one document. */
export function schemaProblems(m: Manifest): string[] {
  if (m.doc.kind === "Kustomization") return m.doc.apiVersion === KUSTOMIZATION_API ? [] : [`${where(m)}: apiVersion must be ${KUSTOMIZATION_API}`];
  const model = modelOf(m.doc);
  if (typeof model === "string") return [`${where(m)}: ${model}`];
  if (!obj(m.doc.metadata).name) return [`${where(m)}: metadata.name is required`];
  try {
    new model.Model(m.doc).validate();
    return [];
  } catch (err) {
    return [`${where(m)}: ${err instanceof Error ? err.message : String(err)}`];
  }
}

/**
 * Unknown fields (a typo such as `readOnlyRootFileSystem`, which the OpenAPI validators accept
 * and a cluster refuses): every document becomes a typed constant checked by tsc, whose
 * excess-property check names each unknown field. `workDir` must be inside the repository so the
 * packages resolve.
 */
export async function unknownFieldProblems(manifests: readonly Manifest[], workDir: string, tscPath: string): Promise<string[]> {
  const lines: string[] = [];
  const lineOwner: Manifest[] = [];
  const imports = new Map<string, string>();
  const typed = manifests.filter((m) => m.doc.kind !== "Kustomization" && typeof modelOf(m.doc) !== "string");
  typed.forEach((m, i) => {
    const model = modelOf(m.doc) as { module: string };
    const iface = `I${String(m.doc.kind)}`;
    const alias = `${iface}_${[...imports.keys()].length}`;
    const key = `${model.module}|${iface}`;
    if (!imports.has(key)) imports.set(key, alias);
    const text = `export const d${i}: ${imports.get(key)!} = ${JSON.stringify(m.doc, null, 1)};`;
    for (const line of text.split("\n")) {
      lines.push(line);
      lineOwner.push(m);
    }
  });
  const head = [...imports].map(([key, alias]) => {
    const [module, iface] = key.split("|");
    return `import type { ${iface!} as ${alias} } from "${module!}";`;
  });
  const dir = await mkdtemp(join(workDir, "manifest-types-"));
  try {
    await writeFile(join(dir, "manifests.ts"), [...head, ...lines].join("\n") + "\n");
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", skipLibCheck: true, types: [] },
        files: ["manifests.ts"],
      }),
    );
    const result = await promisify(execFile)(tscPath, ["-p", join(dir, "tsconfig.json"), "--pretty", "false"], { cwd: dir, timeout: 120_000 }).then(
      () => ({ out: "" }),
      (err: { stdout?: string; stderr?: string; code?: unknown }) => {
        if (typeof err.stdout !== "string" || !/error TS/.test(err.stdout)) throw new Error(`tsc failed: ${String(err.stderr ?? err.code)}`);
        return { out: err.stdout };
      },
    );
    const problems: string[] = [];
    for (const match of result.out.matchAll(/manifests\.ts\((\d+),\d+\): error TS\d+: (.*)/g)) {
      const line = Number(match[1]) - head.length - 1;
      const owner = lineOwner[line];
      problems.push(`${owner ? where(owner) : "manifests"}: ${match[2]}`);
    }
    if (result.out && problems.length === 0) throw new Error(`tsc reported what this check cannot place:\n${result.out}`);
    return problems;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// --- kustomization ----------------------------------------------------------------------------

const KUSTOMIZATION_KEYS = new Set(["apiVersion", "kind", "resources", "labels", "images", "namespace", "namePrefix", "configMapGenerator", "secretGenerator", "patches"]);

/**
 * Every folder with manifests has a kustomization.yaml listing each of its YAML files, except
 * `*.example.yaml` (a placeholder Secret must never be applied over a real one), which it must
 * not list; every listed resource exists.
 */
export function kustomizationProblems(root: string, manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const folders = new Set(yamlFiles(root).map((p) => dirname(relative(root, p))));
  for (const folder of folders) {
    const files = readdirSync(join(root, folder)).filter((n) => /\.ya?ml$/.test(n));
    const k = manifests.find((m) => dirname(m.file) === folder && basename(m.file) === "kustomization.yaml");
    if (!k) {
      problems.push(`${join(folder, "kustomization.yaml")}: missing (every folder of manifests is tied by one)`);
      continue;
    }
    for (const key of Object.keys(k.doc)) if (!KUSTOMIZATION_KEYS.has(key)) problems.push(`${k.file}: ${key}: unknown key`);
    const listed = arr(k.doc.resources).map(String);
    for (const r of listed) {
      const exists = (() => {
        try {
          statSync(join(root, folder, r));
          return true;
        } catch {
          return false;
        }
      })();
      if (!exists) problems.push(`${k.file}: resources lists ${r}, which does not exist`);
    }
    for (const name of files) {
      if (name === "kustomization.yaml") continue;
      const isExample = /\.example\.ya?ml$/.test(name);
      if (isExample && listed.includes(name)) problems.push(`${k.file}: lists ${name}; an example must not be applied`);
      if (!isExample && !listed.includes(name)) problems.push(`${k.file}: does not list ${name}`);
    }
  }
  return problems;
}

// --- pods -------------------------------------------------------------------------------------

export interface PodTemplate {
  readonly manifest: Manifest;
  readonly spec: Obj;
  readonly labels: Obj;
}

/** The pod spec of a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob. */
export function podTemplate(m: Manifest): PodTemplate | undefined {
  const spec = obj(m.doc.spec);
  switch (m.doc.kind) {
    case "Pod":
      return { manifest: m, spec, labels: obj(obj(m.doc.metadata).labels) };
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return { manifest: m, spec: obj(obj(spec.template).spec), labels: obj(obj(obj(spec.template).metadata).labels) };
    case "CronJob": {
      const template = obj(obj(obj(spec.jobTemplate).spec).template);
      return { manifest: m, spec: obj(template.spec), labels: obj(obj(template.metadata).labels) };
    }
    default:
      return undefined;
  }
}

const RESTRICTED_VOLUMES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/** Pod Security Standard "restricted" (v1.x), plus requests and limits on every container. */
export function restrictedProblems(t: PodTemplate): string[] {
  const at = where(t.manifest);
  const problems: string[] = [];
  const pod = t.spec;
  const podSc = obj(pod.securityContext);
  for (const key of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[key] === true) problems.push(`${at}: ${key} is not allowed`);
  for (const v of arr(pod.volumes).map(obj)) {
    const type = Object.keys(v).find((k) => k !== "name");
    if (type && !RESTRICTED_VOLUMES.has(type)) problems.push(`${at}: volume ${String(v.name)}: ${type} volumes are not allowed`);
  }
  const containers = [...arr(pod.initContainers), ...arr(pod.containers)].map(obj);
  if (containers.length === 0) problems.push(`${at}: no containers`);
  for (const c of containers) {
    const sc = obj(c.securityContext);
    const name = `${at}: container ${String(c.name)}`;
    const eff = (k: string): Json | undefined => (sc[k] !== undefined ? sc[k] : podSc[k]);
    if (eff("runAsNonRoot") !== true) problems.push(`${name}: runAsNonRoot must be true`);
    const uid = eff("runAsUser");
    if (typeof uid !== "number" || !Number.isInteger(uid) || uid === 0) {
      problems.push(`${name}: runAsUser must be a numeric non-root uid (the kubelet cannot check runAsNonRoot otherwise)`);
    }
    const seccomp = obj(eff("seccompProfile"));
    if (seccomp.type !== "RuntimeDefault" && seccomp.type !== "Localhost") problems.push(`${name}: seccompProfile.type must be RuntimeDefault`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${name}: allowPrivilegeEscalation must be false`);
    if (sc.privileged === true) problems.push(`${name}: privileged is not allowed`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${name}: readOnlyRootFilesystem must be true`);
    const caps = obj(sc.capabilities);
    if (!arr(caps.drop).includes("ALL")) problems.push(`${name}: capabilities.drop must include ALL`);
    for (const add of arr(caps.add)) if (add !== "NET_BIND_SERVICE") problems.push(`${name}: capability ${String(add)} may not be added`);
    for (const p of arr(c.ports).map(obj)) if (p.hostPort !== undefined) problems.push(`${name}: hostPort is not allowed`);
    const res = obj(c.resources);
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) if (obj(res[kind])[r] === undefined) problems.push(`${name}: resources.${kind}.${r} is not set`);
    }
  }
  return problems;
}

// --- mailpool ---------------------------------------------------------------------------------

export interface MailpoolContainer {
  readonly template: PodTemplate;
  readonly container: Obj;
  readonly args: string[];
  /** A daemon (`run` without `--once`), which serves /healthz and /readyz. */
  readonly daemon: boolean;
}

export function isMailpoolImage(image: Json | undefined): boolean {
  return typeof image === "string" && /(^|\/)mailpool(:[^/]*)?(@.*)?$/.test(image);
}

export function mailpoolContainers(t: PodTemplate): MailpoolContainer[] {
  return arr(t.spec.containers)
    .map(obj)
    .filter((c) => isMailpoolImage(c.image))
    .map((c) => {
      const args = [...arr(c.command), ...arr(c.args)].map(String);
      return { template: t, container: c, args, daemon: args[0] === "run" && !args.includes("--once") };
    });
}

/** The environment the container would see, with Secret values from the (example) Secrets. */
export function containerEnv(c: Obj, manifests: readonly Manifest[], folderOf: string): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const e of arr(c.env).map(obj)) {
    const name = String(e.name);
    const from = obj(e.valueFrom);
    if (typeof e.value === "string") env[name] = e.value;
    else if (from.fieldRef) env[name] = `value-of-${String(obj(from.fieldRef).fieldPath)}`;
    else if (from.secretKeyRef) {
      const ref = obj(from.secretKeyRef);
      const secret = manifests.find((m) => m.doc.kind === "Secret" && obj(m.doc.metadata).name === ref.name);
      const value = secret ? (obj(secret.doc.stringData)[String(ref.key)] ?? obj(secret.doc.data)[String(ref.key)]) : undefined;
      if (typeof value !== "string") problems.push(`${folderOf}: env ${name}: no Secret ${String(ref.name)} with key ${String(ref.key)} among the manifests (add it to the example Secret)`);
      else env[name] = value;
    }
  }
  return { env, problems };
}

/** The config file a mailpool container reads: `-c PATH` through its volume to a ConfigMap key. */
export function configOf(mc: MailpoolContainer, manifests: readonly Manifest[]): { text: string; source: string } | string {
  const i = mc.args.findIndex((a) => a === "-c" || a === "--config");
  const path = i >= 0 ? mc.args[i + 1] : undefined;
  if (!path) return "no -c/--config argument";
  const mount = arr(mc.container.volumeMounts)
    .map(obj)
    .find((vm) => path.startsWith(`${String(vm.mountPath).replace(/\/$/, "")}/`));
  if (!mount) return `${path} is on no volume mount`;
  const volume = arr(mc.template.spec.volumes)
    .map(obj)
    .find((v) => v.name === mount.name);
  const cmName = obj(obj(volume).configMap).name;
  if (!cmName) return `volume ${String(mount.name)} is not a ConfigMap`;
  const folder = dirname(mc.template.manifest.file);
  const cm = manifests.find((m) => m.doc.kind === "ConfigMap" && obj(m.doc.metadata).name === cmName && dirname(m.file) === folder);
  if (!cm) return `ConfigMap ${String(cmName)} is not in ${folder}/`;
  const key = path.slice(String(mount.mountPath).replace(/\/$/, "").length + 1);
  const text = obj(cm.doc.data)[key];
  if (typeof text !== "string") return `ConfigMap ${String(cmName)} has no key ${key}`;
  return { text, source: `${cm.file} data.${key}` };
}

export interface MailpoolContext {
  readonly manifests: readonly Manifest[];
  /** The uid of the image's USER (from the Dockerfile). */
  readonly imageUid: number;
}

/**
 * Everything about one mailpool container that would make it fail or misbehave in the cluster:
 * its config refused by mailpool's own loader; a daemon listening on loopback (the kubelet's
 * probes and Prometheus come from outside the pod) or on another port than its probes; probes
 * not on /healthz and /readyz; several replicas without leader election (two writers); leader
 * election without a mounted token, a POD_NAME identity, or a Role granting the Lease; a pod
 * whose nothing needs the API but gets a token; a uid that is not the image's; a grace period
 * shorter than the shutdown grace; no writable /tmp on a read-only root.
 */
export function mailpoolProblems(mc: MailpoolContainer, ctx: MailpoolContext): { problems: string[]; config?: Config } {
  const t = mc.template;
  const at = `${where(t.manifest)}: container ${String(mc.container.name)}`;
  const problems: string[] = [];
  const source = configOf(mc, ctx.manifests);
  if (typeof source === "string") return { problems: [`${at}: ${source}`] };
  const { env, problems: envProblems } = containerEnv(mc.container, ctx.manifests, at);
  problems.push(...envProblems);
  let config: Config;
  try {
    config = parseConfig(source.text, { env, source: source.source });
  } catch (err) {
    if (err instanceof ConfigError) return { problems: [...problems, `${at}: mailpool refuses its config: ${err.message}`] };
    throw err;
  }
  const sc = obj(mc.container.securityContext);
  const uid = sc.runAsUser ?? obj(t.spec.securityContext).runAsUser;
  if (uid !== ctx.imageUid) problems.push(`${at}: runAsUser ${String(uid)} is not the image's user ${ctx.imageUid}`);
  const tmp = arr(mc.container.volumeMounts)
    .map(obj)
    .find((vm) => vm.mountPath === "/tmp");
  const tmpVolume = arr(t.spec.volumes)
    .map(obj)
    .find((v) => tmp && v.name === tmp.name);
  if (!tmpVolume || !tmpVolume.emptyDir) problems.push(`${at}: /tmp is not an emptyDir (the root file system is read-only)`);

  const le = config.daemon.leaderElection;
  const replicas = t.manifest.doc.kind === "Deployment" || t.manifest.doc.kind === "StatefulSet" ? (obj(t.manifest.doc.spec).replicas ?? 1) : 1;
  const automount = t.spec.automountServiceAccountToken ?? saOf(t, ctx.manifests)?.automountServiceAccountToken ?? true;
  if (mc.daemon) {
    const [host, port] = splitListen(config.daemon.listen);
    if (host === undefined || /^(127\.|localhost$|::1$|\[::1\]$)/.test(host)) {
      problems.push(`${at}: daemon.listen ${JSON.stringify(config.daemon.listen)} is not reachable from outside the pod (use 0.0.0.0:PORT)`);
    }
    const ports = arr(mc.container.ports).map(obj);
    const portOf = (p: Json | undefined): Json | undefined => (typeof p === "string" ? ports.find((x) => x.name === p)?.containerPort : p);
    for (const [probe, path] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]] as const) {
      const get = obj(obj(mc.container[probe]).httpGet);
      if (get.path !== path) problems.push(`${at}: ${probe} must be an httpGet of ${path}`);
      else if (portOf(get.port) !== port) problems.push(`${at}: ${probe} port ${String(get.port)} is not daemon.listen's port ${String(port)}`);
    }
    if (typeof replicas === "number" && replicas > 1 && !le.enabled) {
      problems.push(`${at}: ${replicas} replicas without daemon.leaderElection.enabled would all write`);
    }
    const grace = t.spec.terminationGracePeriodSeconds ?? 30;
    if (typeof grace === "number" && grace * 1000 <= config.daemon.shutdownGraceMs) {
      problems.push(`${at}: terminationGracePeriodSeconds ${grace} does not outlast daemon.shutdownGraceMs ${config.daemon.shutdownGraceMs}`);
    }
  }
  if (mc.daemon && le.enabled) {
    if (automount === false) problems.push(`${at}: leader election needs the service account token, but it is not mounted`);
    if (le.identity === undefined && !arr(mc.container.env).some((e) => obj(e).name === "POD_NAME" && obj(obj(obj(e).valueFrom).fieldRef).fieldPath === "metadata.name")) {
      problems.push(`${at}: leader election without identity needs env POD_NAME from metadata.name`);
    }
    problems.push(...leaseRbacProblems(at, t, le.leaseName, ctx.manifests));
  } else if (automount !== false) {
    problems.push(`${at}: nothing in this pod needs the Kubernetes API: set automountServiceAccountToken: false`);
  }
  return { problems, config };
}

function splitListen(listen: string): [string | undefined, number | undefined] {
  const m = /^(.*):(\d+)$/.exec(listen);
  return m ? [m[1]!.replace(/^\[|\]$/g, ""), Number(m[2])] : [undefined, undefined];
}

function saOf(t: PodTemplate, manifests: readonly Manifest[]): Obj | undefined {
  const name = t.spec.serviceAccountName ?? "default";
  return manifests.find((m) => m.doc.kind === "ServiceAccount" && obj(m.doc.metadata).name === name && dirname(m.file) === dirname(t.manifest.file))?.doc;
}

/** A RoleBinding in the same folder binds the pod's ServiceAccount to a Role granting the Lease. */
function leaseRbacProblems(at: string, t: PodTemplate, leaseName: string, manifests: readonly Manifest[]): string[] {
  const folder = dirname(t.manifest.file);
  const sa = String(t.spec.serviceAccountName ?? "default");
  if (!saOf(t, manifests)) return [`${at}: ServiceAccount ${sa} is not in ${folder}/`];
  const granted = new Set<string>();
  for (const rb of manifests.filter((m) => m.doc.kind === "RoleBinding" && dirname(m.file) === folder)) {
    if (!arr(rb.doc.subjects).some((s) => obj(s).kind === "ServiceAccount" && obj(s).name === sa)) continue;
    const ref = obj(rb.doc.roleRef);
    const role = manifests.find((m) => m.doc.kind === ref.kind && obj(m.doc.metadata).name === ref.name && dirname(m.file) === folder);
    for (const rule of arr(role?.doc.rules).map(obj)) {
      if (!arr(rule.apiGroups).includes("coordination.k8s.io") || !arr(rule.resources).includes("leases")) continue;
      const names = arr(rule.resourceNames);
      for (const verb of arr(rule.verbs).map(String)) {
        if (verb === "create" || names.length === 0 || names.includes(leaseName)) granted.add(verb);
      }
    }
  }
  return ["get", "create", "update"].filter((v) => !granted.has(v)).map((v) => `${at}: ServiceAccount ${sa} may not ${v} Lease ${leaseName}`);
}

/**
 * Only Leases, and nothing broader: a Role of mailpool's may grant get/create/update (watch,
 * list) on coordination.k8s.io leases and nothing else.
 */
export function roleProblems(m: Manifest): string[] {
  if (m.doc.kind !== "Role" && m.doc.kind !== "ClusterRole") return [];
  if (m.doc.kind === "ClusterRole") return [`${where(m)}: mailpool needs no ClusterRole`];
  const problems: string[] = [];
  for (const rule of arr(m.doc.rules).map(obj)) {
    if (arr(rule.apiGroups).some((g) => g !== "coordination.k8s.io") || arr(rule.resources).some((r) => r !== "leases")) {
      problems.push(`${where(m)}: grants ${JSON.stringify(rule.resources)} in ${JSON.stringify(rule.apiGroups)}; only coordination.k8s.io leases`);
    }
    for (const verb of arr(rule.verbs)) {
      if (!["get", "create", "update", "watch", "list"].includes(String(verb))) problems.push(`${where(m)}: verb ${String(verb)} is more than leader election needs`);
    }
  }
  return problems;
}

/**
 * The CronJob rules: Forbid, deadlines, backoff and history; `run --once`; and
 * activeDeadlineSeconds longer than one run with confirmations (and shorter than the schedule's
 * interval, when the schedule is every N minutes).
 */
export function cronJobProblems(m: Manifest, config: Config | undefined): string[] {
  if (m.doc.kind !== "CronJob") return [];
  const at = where(m);
  const spec = obj(m.doc.spec);
  const job = obj(obj(spec.jobTemplate).spec);
  const problems: string[] = [];
  if (spec.concurrencyPolicy !== "Forbid") problems.push(`${at}: concurrencyPolicy must be Forbid (two cycles at once)`);
  for (const key of ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"]) {
    if (typeof spec[key] !== "number") problems.push(`${at}: ${key} is not set`);
  }
  if (typeof job.backoffLimit !== "number") problems.push(`${at}: jobTemplate.spec.backoffLimit is not set`);
  const deadline = job.activeDeadlineSeconds;
  if (typeof deadline !== "number") problems.push(`${at}: jobTemplate.spec.activeDeadlineSeconds is not set`);
  if (config && typeof deadline === "number") {
    const run = oneShotRunSeconds(config);
    if (deadline <= run) problems.push(`${at}: activeDeadlineSeconds ${deadline} does not outlast a run with confirmations (${run} s)`);
    const every = /^\*\/(\d+) \* \* \* \*$/.exec(String(spec.schedule));
    if (every && deadline >= Number(every[1]) * 60) problems.push(`${at}: activeDeadlineSeconds ${deadline} is not shorter than the schedule's ${Number(every[1]) * 60} s`);
  }
  const template = podTemplate(m);
  if (template) {
    if (obj(template.spec).restartPolicy !== "Never" && obj(template.spec).restartPolicy !== "OnFailure") problems.push(`${at}: restartPolicy must be Never or OnFailure`);
    for (const mc of mailpoolContainers(template)) if (!mc.args.includes("--once")) problems.push(`${at}: container ${String(mc.container.name)} must run \`run --once\``);
  }
  return problems;
}

/**
 * The longest one run can take, in seconds: the slowest pool's confirmation probes (each up to
 * its checks' deadline, confirmIntervalMs apart), every provider retry's longest backoff, a
 * Route 53 waitForSync, and 30 s for start-up and provider calls.
 */
export function oneShotRunSeconds(config: Config): number {
  let probes = 0;
  for (const pool of config.pools) {
    const rounds = Math.max(pool.rise, pool.fall);
    const deadline = Math.max(...pool.checks.map((c) => config.checks[c]?.timeoutMs ?? 10_000));
    probes = Math.max(probes, rounds * deadline + (rounds - 1) * pool.confirmIntervalMs);
  }
  const retries = config.retry.retries * config.retry.maxTimeoutMs;
  let sync = 0;
  for (const p of Object.values(config.providers)) {
    if (p.type === "route53" && p.waitForSync.enabled) sync = Math.max(sync, p.waitForSync.timeoutSeconds * 1000);
  }
  return Math.ceil((probes + retries + sync) / 1000) + 30;
}

/** Services, PodDisruptionBudgets and ServiceMonitors select something that exists. */
export function selectorProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const matches = (selector: Obj, labels: Obj) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
  for (const m of manifests) {
    const folder = dirname(m.file);
    const pods = manifests.filter((x) => dirname(x.file) === folder).flatMap((x) => podTemplate(x) ?? []);
    const spec = obj(m.doc.spec);
    if (m.doc.kind === "Service") {
      const selected = pods.filter((p) => matches(obj(spec.selector), p.labels));
      if (selected.length === 0) problems.push(`${where(m)}: selects no pod template in ${folder}/`);
      for (const port of arr(spec.ports).map(obj)) {
        const target = port.targetPort ?? port.port;
        const found = selected.some((p) => arr(p.spec.containers).some((c) => arr(obj(c).ports).some((cp) => obj(cp).name === target || obj(cp).containerPort === target)));
        if (!found) problems.push(`${where(m)}: targetPort ${String(target)} is no container port of the pods it selects`);
      }
    }
    if (m.doc.kind === "PodDisruptionBudget" && !pods.some((p) => matches(obj(obj(spec.selector).matchLabels), p.labels))) {
      problems.push(`${where(m)}: selects no pod template in ${folder}/`);
    }
    if (m.doc.kind === "ServiceMonitor") {
      const services = manifests.filter((x) => x.doc.kind === "Service" && dirname(x.file) === folder && matches(obj(obj(spec.selector).matchLabels), obj(obj(x.doc.metadata).labels)));
      if (services.length === 0) problems.push(`${where(m)}: selects no Service in ${folder}/`);
      else for (const ep of arr(spec.endpoints).map(obj)) {
        if (!services.some((s) => arr(obj(s.doc.spec).ports).some((p) => obj(p).name === ep.port))) problems.push(`${where(m)}: endpoint port ${String(ep.port)} is no port of the Service`);
      }
    }
  }
  return problems;
}

/** The numeric uid of the Dockerfile's last USER (the runtime stage's). */
export function dockerfileUid(text: string): number | string {
  const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]!);
  const last = users.at(-1);
  if (!last) return "the Dockerfile has no USER";
  const uid = /^(\d+)(:\d+)?$/.exec(last);
  if (!uid) return `USER ${last} is not numeric: the kubelet cannot verify runAsNonRoot`;
  if (Number(uid[1]) === 0) return "USER is root";
  return Number(uid[1]);
}

/** Every check over a set of manifests (rooted at `root`, for the kustomization check). */
export function allProblems(root: string | undefined, manifests: readonly Manifest[], imageUid: number): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    problems.push(...schemaProblems(m), ...roleProblems(m));
    const t = podTemplate(m);
    let config: Config | undefined;
    if (t) {
      problems.push(...restrictedProblems(t));
      const mcs = mailpoolContainers(t);
      if (mcs.length === 0) problems.push(`${where(m)}: runs no mailpool container`);
      for (const mc of mcs) {
        const r = mailpoolProblems(mc, { manifests, imageUid });
        problems.push(...r.problems);
        config ??= r.config;
      }
    }
    problems.push(...cronJobProblems(m, config));
  }
  problems.push(...selectorProblems(manifests));
  if (root) problems.push(...kustomizationProblems(root, manifests));
  return problems;
}
