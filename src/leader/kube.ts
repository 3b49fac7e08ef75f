/**
 * The Kubernetes side of leader election: where the API is (in-cluster service account or a
 * kubeconfig), who we are (POD_NAME or the host name), which namespace (the pod's own), and the
 * Lease endpoints through @kubernetes/client-node's CoordinationV1Api. Env and file system are
 * passed in; nothing here reads process.env.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { delimiter, join } from "node:path";
import { ApiException, CoordinationV1Api, KubeConfig, V1MicroTime, type V1Lease } from "@kubernetes/client-node";
import { LeaseConflictError, type LeaseApi, type LeaseObject, type LeaseRecord } from "./elector.js";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubeEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder of the mounted service account (ca.crt, token, namespace). */
  readonly serviceAccountDir?: string;
  readonly hostname?: () => string;
  readonly homedir?: () => string;
}

export interface LeaderElectionConfig {
  readonly leaseName: string;
  readonly namespace?: string;
  readonly identity?: string;
  readonly kubeconfig?: string;
}

export interface ResolvedKube {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly identity: string;
  /** "in-cluster" or the kubeconfig path, for logs. */
  readonly source: string;
}

/** In-cluster when the service account is mounted and KUBERNETES_SERVICE_HOST is set; else kubeconfig. */
export function resolveKube(config: LeaderElectionConfig, k: KubeEnv): ResolvedKube {
  const dir = k.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const env = k.env;
  const kc = new KubeConfig();
  let source: string;
  const inCluster = config.kubeconfig === undefined && env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(join(dir, "token"));
  if (inCluster) {
    const host = env.KUBERNETES_SERVICE_HOST!;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
    kc.loadFromClusterAndUser(
      { name: "inCluster", server, caFile: join(dir, "ca.crt"), skipTLSVerify: false },
      // The token file is re-read as the kubelet rotates it (bound service account tokens).
      { name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: join(dir, "token") } } },
    );
    source = "in-cluster";
  } else {
    const path = config.kubeconfig ?? env.KUBECONFIG?.split(delimiter).find((p) => p !== "") ?? join((k.homedir ?? homedir)(), ".kube", "config");
    if (!existsSync(path)) {
      throw new Error(`leader election: no Kubernetes API to use: not in a cluster (KUBERNETES_SERVICE_HOST or ${join(dir, "token")} missing) and no kubeconfig at ${path}`);
    }
    kc.loadFromFile(path);
    source = path;
  }
  let namespace = config.namespace;
  if (namespace === undefined) {
    try {
      namespace = readFileSync(join(dir, "namespace"), "utf8").trim() || undefined;
    } catch {
      // not in a pod
    }
  }
  namespace ??= (!inCluster ? kc.getContextObject(kc.getCurrentContext())?.namespace : undefined) ?? "default";
  const identity = config.identity ?? (env.POD_NAME || (k.hostname ?? hostname)());
  return { kubeConfig: kc, namespace, identity, source };
}

/** The Lease endpoints (GET, POST, PUT) of one Lease, every call cancellable. */
export function kubeLeaseApi(kc: KubeConfig, namespace: string, name: string): LeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  // The generated ObjectParam API takes Observable-style middleware (anything with toPromise()).
  const withSignal = (signal: AbortSignal) => ({
    middleware: [
      {
        pre: (ctx: { setSignal(s: AbortSignal): void }) => {
          ctx.setSignal(signal);
          return { toPromise: () => Promise.resolve(ctx) };
        },
        post: <T>(ctx: T) => ({ toPromise: () => Promise.resolve(ctx) }),
      },
    ],
    middlewareMergeStrategy: "append" as const,
  });
  const toObject = (l: V1Lease): LeaseObject => {
    const s = l.spec ?? {};
    const t = (v: unknown) => (v === undefined || v === null ? undefined : v instanceof Date ? microTimeOf(v) : String(v));
    const spec: LeaseRecord = {
      ...(s.holderIdentity !== undefined ? { holderIdentity: s.holderIdentity } : {}),
      ...(s.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: s.leaseDurationSeconds } : {}),
      ...(t(s.acquireTime) !== undefined ? { acquireTime: t(s.acquireTime)! } : {}),
      ...(t(s.renewTime) !== undefined ? { renewTime: t(s.renewTime)! } : {}),
      ...(s.leaseTransitions !== undefined ? { leaseTransitions: s.leaseTransitions } : {}),
    };
    return { resourceVersion: l.metadata?.resourceVersion ?? "", spec };
  };
  const body = (spec: LeaseRecord, resourceVersion?: string): V1Lease => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    spec: {
      ...(spec.holderIdentity !== undefined ? { holderIdentity: spec.holderIdentity } : {}),
      ...(spec.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: spec.leaseDurationSeconds } : {}),
      ...(spec.acquireTime !== undefined ? { acquireTime: new V1MicroTime(spec.acquireTime) } : {}),
      ...(spec.renewTime !== undefined ? { renewTime: new V1MicroTime(spec.renewTime) } : {}),
      ...(spec.leaseTransitions !== undefined ? { leaseTransitions: spec.leaseTransitions } : {}),
    },
  });
  const call = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) throw new LeaseConflictError(`${what}: 409 Conflict`);
      if (err instanceof ApiException) throw new Error(`${what}: HTTP ${err.code}`);
      throw err;
    }
  };
  return {
    describe: `${namespace}/${name}`,
    async get(signal) {
      try {
        return toObject(await api.readNamespacedLease({ name, namespace }, withSignal(signal) as never));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        if (err instanceof ApiException) throw new Error(`GET lease ${namespace}/${name}: HTTP ${err.code}`);
        throw err;
      }
    },
    create: (spec, signal) => call(`POST lease ${namespace}/${name}`, async () => toObject(await api.createNamespacedLease({ namespace, body: body(spec) }, withSignal(signal) as never))),
    replace: (rv, spec, signal) =>
      call(`PUT lease ${namespace}/${name}`, async () => toObject(await api.replaceNamespacedLease({ name, namespace, body: body(spec, rv) }, withSignal(signal) as never))),
  };
}

const microTimeOf = (d: Date): string => d.toISOString().replace(/Z$/, "000Z");
