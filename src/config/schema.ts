/**
 * The config file's shape, as one zod schema: the loader validates with it, `mailpool schema`
 * prints its JSON Schema, and config/schema.json is generated from it (a test fails on drift).
 * Rules that need more than one field (TTL window, references, address families) are checked
 * by the loader (load.ts) so their messages can name the place in the operator's words.
 */
import { z } from "zod";
import { GLOBAL_RULE_CONFIG_SHAPE, SAFETY_CONFIG_SHAPE } from "../plan/rules/index.js";
import { poolOptionShape, providerSchema, type ProviderConfig } from "../../providers/registry.js";
import { elasticIpConfigSchema } from "../../providers/ip/elastic-ip/config.js";
import { execIpConfigSchema } from "../../providers/ip/exec/config.js";
import { TTL_MAX, TTL_MIN } from "./ttl-window.js";
import { BUILTIN_CHECK_NAMES } from "../probes/protocols.js";
import { dialoguesSchema } from "./dialogues.js";

export { TTL_MAX, TTL_MIN } from "./ttl-window.js";
/** The built-in check names, from the one list of probe protocols (src/probes/protocols.ts). */
export { BUILTIN_CHECK_NAMES };

// The safety rules' keys, schemas and defaults come from the rule registry (src/plan/rules/).
const safetySchema = z
  .strictObject(SAFETY_CONFIG_SHAPE)
  .partial()
  .describe("Safety rules; see README 'Safety rules'. --force bypasses all but ownership.");

const tlsRulesSchema = z
  .strictObject({
    verify: z.boolean().describe("Verify the certificate chain and name. Default true."),
    caFile: z.string().describe("PEM file of extra trusted CA certificates (e.g. a private CA)."),
    minVersion: z.enum(["TLSv1.2", "TLSv1.3"]).describe("Lowest TLS version accepted. Default TLSv1.2."),
    certExpiryWarnDays: z.number().int().min(0).describe("Warn (probe still passes) when the certificate expires within this many days. Default 14."),
    certExpiryFailDays: z.number().int().min(0).describe("Fail the probe when the certificate expires within this many days. Default 0 (fail only once expired)."),
  })
  .partial();

const checkSchema = z
  .strictObject({
    module: z
      .enum(BUILTIN_CHECK_NAMES)
      .describe("The built-in check this one starts from (protocol, port, TLS mode). Default: the check's own name, when that is a built-in name."),
    dialogue: z
      .string()
      .min(1)
      .describe("Instead of module: the line protocol this check speaks, as data: a built-in dialogue (lmtp, managesieve) or a key of `dialogues`. Port and TLS mode default to the dialogue's."),
    port: z.number().int().min(1).max(65535).describe("TCP port."),
    tls: z.enum(["none", "starttls", "implicit"]).describe("none, starttls (upgrade after the greeting; must be advertised) or implicit (TLS from the first byte)."),
    connectTimeoutMs: z.number().int().min(1).describe("TCP connect timeout. Default 3000."),
    timeoutMs: z.number().int().min(1).describe("Deadline for the whole handshake. Default 10000."),
    ehloName: z.string().min(1).describe("Name sent in EHLO/HELO. Default mailpool.invalid."),
    expectGreeting: z.string().describe("Regular expression the greeting line must match, e.g. '^220 mx\\d\\.example\\.com ESMTP'."),
    tlsRules: tlsRulesSchema.describe("Certificate rules for STARTTLS and implicit TLS."),
    maxLineBytes: z.number().int().min(64).describe("Longest line accepted from a server. Default 4096."),
    maxTotalBytes: z.number().int().min(256).describe("Most bytes read from a server in one probe. Default 65536."),
    rcptTo: z
      .string()
      .regex(/^[^\s<>@]+@[^\s<>@]+$/, "must be an address such as postmaster@example.com")
      .describe(
        "SMTP checks only: after EHLO, send MAIL FROM:<> and RCPT TO:<this address>, then RSET and QUIT (never DATA); the probe fails unless RCPT is accepted. Proves a (fallback) MX takes mail for the domain instead of refusing it as relay.",
      ),
  })
  .partial();

const memberSchema = z.strictObject({
  address: z.string().describe("The member's IPv4 or IPv6 address: a value of the pool's A or AAAA RRset."),
  standby: z.string().optional().describe("Address (same family) that takes this member's place in DNS while it is down (takeover)."),
  label: z.string().optional().describe("A name for reports, e.g. mx1."),
  serverName: z.string().optional().describe("TLS server name (SNI, certificate check) for this member. Default: the pool name."),
  hostAddress: z
    .string()
    .optional()
    .describe("With ipTakeover: the member host's own address, which never moves. The member's health is probed here, since once `address` moved to the standby, probing `address` reaches the standby."),
  ipTakeover: z
    .strictObject({
      via: z.string().describe("Name of a block under the top-level `ipTakeover`."),
      standby: z.string().describe("The standby host's own address: probed there, and where `address` moves while the member is down."),
    })
    .optional()
    .describe("Network-level takeover: move `address` itself to the standby host while the member is down (README 'IP takeover')."),
});

const poolSchema = z.strictObject({
  name: z.string().describe("The round-robin DNS name, e.g. smtp.example.com."),
  provider: z.string().describe("Name of a block under `providers`."),
  ttl: z.number().int().optional().describe(`TTL of the pool's records, ${TTL_MIN}–${TTL_MAX} s. Default: defaults.ttl.`),
  checks: z.array(z.string()).min(1).describe("Checks every member must pass: built-in names or keys of `checks`."),
  members: z.array(memberSchema).min(1).describe("The pool's addresses."),
  rise: z.number().int().min(1).optional().describe("Consecutive passes for a down member to come back. Default: defaults.rise."),
  fall: z.number().int().min(1).optional().describe("Consecutive failures for a member to go down. Default: defaults.fall."),
  confirmIntervalMs: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("One-shot mode: pause between confirmation probes. Default: defaults.confirmIntervalMs."),
  // Pool-level keys of the providers (Route 53's recordStyle), declared by their factories.
  ...poolOptionShape,
  safety: safetySchema.optional(),
  schedule: z
    .string()
    .optional()
    .describe("Daemon mode: this pool's own probe schedule (node-cron syntax). Default: the top-level schedule."),
});

const leaderElectionSchema = z.strictObject({
  enabled: z.boolean().default(false).describe("Elect one writer among replicas with a coordination.k8s.io/v1 Lease. Default false (a single process applies)."),
  leaseName: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "must be a Kubernetes object name (lower-case letters, digits, '-', '.')")
    .default("mailpool")
    .describe("Name of the Lease object. Default mailpool."),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a Kubernetes namespace name")
    .optional()
    .describe("Namespace of the Lease. Default: the pod's own (/var/run/secrets/kubernetes.io/serviceaccount/namespace), else default."),
  identity: z
    .string()
    .min(1)
    .max(253)
    .optional()
    .describe("This replica's holder identity in the Lease. Default: env POD_NAME, else the host name."),
  leaseDurationSeconds: z.number().int().min(1).max(3600).default(15).describe("How long a lease lasts without renewal before another replica may take it. Default 15."),
  renewDeadlineSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(10)
    .describe("The leader stops applying when it has not renewed for this long; must be below leaseDurationSeconds. Default 10."),
  retryPeriodSeconds: z.number().min(0.1).max(600).default(2).describe("Time between acquire and renew attempts. Default 2."),
  kubeconfig: z
    .string()
    .min(1)
    .optional()
    .describe("Path of a kubeconfig file. Default: the in-cluster service account, else env KUBECONFIG, else ~/.kube/config."),
});

const alertsSchema = z.strictObject({
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).describe("Receiver URL; each event is POSTed as JSON. Treated as a secret in logs (it often carries a token)."),
      timeoutMs: z.number().int().min(100).max(120_000).default(5000).describe("Deadline of one POST. Default 5000."),
      retries: z.number().int().min(0).max(10).default(3).describe("Retries after a failed POST (network error, 429 or 5xx), with backoff. Default 3."),
      secret: z
        .string()
        .min(16)
        .optional()
        .describe("HMAC-SHA256 key: the X-Mailpool-Signature-256 header carries sha256=<hex of HMAC(secret, body)>. At least 16 characters; use ${ENV}."),
      minIntervalMs: z.number().int().min(0).default(0).describe("Least time between two POSTs to this receiver (events wait in the queue). Default 0."),
    })
    .optional()
    .describe("JSON webhook receiver."),
  command: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("argv of a command run (no shell) for each event, with the event in MAILPOOL_ALERT_* environment variables."),
  commandTimeoutMs: z.number().int().min(100).max(600_000).default(10_000).describe("A command still running after this long is killed. Default 10000."),
  dedupeWindowMs: z
    .number()
    .int()
    .min(0)
    .default(300_000)
    .describe("An event of the same kind about the same pool and address is sent once per window. Default 300000 (5 minutes)."),
  maxPerHour: z.number().int().min(1).default(60).describe("Most events sent per hour across all kinds; the rest are dropped and counted. Default 60."),
  queueSize: z.number().int().min(1).max(10_000).default(100).describe("Events waiting for a slow receiver; beyond this the newest are dropped and counted. Default 100."),
});

export const ipTakeoverAdapterSchema = z.discriminatedUnion("type", [execIpConfigSchema, elasticIpConfigSchema]);

/** Provider blocks: each provider's factory holds its schema, checks and loader (providers/registry.ts). */
export { checkProviderBlock, providerSchema } from "../../providers/registry.js";

export const configSchema = z
  .strictObject({
    controllerId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be 1–63 letters, digits, '.', '_' or '-'")
      .describe("This controller's ownership id, written in each pool's _mailpool.<name> TXT marker. Two controllers must not share one."),
    schedule: z
      .string()
      .default("*/30 * * * * *")
      .describe("Daemon probe schedule, node-cron syntax with optional seconds field. Default every 30 s."),
    concurrency: z.number().int().min(1).max(4096).default(32).describe("Most probes in flight at once, across all pools."),
    probeThreads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe("Threads the probes run on: 1 is the main thread; N > 1 is the main thread and N − 1 worker threads, sharing the concurrency bound."),
    defaults: z
      .strictObject({
        ttl: z.number().int().default(300).describe(`Pool TTL when a pool sets none (${TTL_MIN}–${TTL_MAX} s).`),
        rise: z.number().int().min(1).default(2).describe("Default rise."),
        fall: z.number().int().min(1).default(3).describe("Default fall."),
        confirmIntervalMs: z.number().int().min(0).default(2000).describe("Default pause between one-shot confirmation probes."),
      })
      .prefault({})
      .describe("Defaults for every pool."),
    safety: safetySchema.prefault({}).describe("Safety defaults for every pool (a pool's own `safety` overrides them key by key)."),
    // Rules configured by a top-level block of their own (proberIsolation), from the registry.
    ...GLOBAL_RULE_CONFIG_SHAPE,
    retry: z
      .strictObject({
        retries: z.number().int().min(0).max(20).default(4).describe("Re-read/re-plan/apply rounds after a conflict or transient provider failure."),
        minTimeoutMs: z.number().int().min(0).default(500).describe("First backoff."),
        maxTimeoutMs: z.number().int().min(0).default(10_000).describe("Longest backoff."),
      })
      .prefault({})
      .describe("Provider retry policy (p-retry with jitter), on top of each SDK's own retries."),
    daemon: z
      .strictObject({
        listen: z
          .string()
          .default("127.0.0.1:9465")
          .describe("host:port for /healthz, /readyz and /metrics in daemon mode; empty string disables."),
        cycleTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .default(300_000)
          .describe("A daemon cycle still running after this long is aborted (and reported); the next one starts on schedule."),
        shutdownGraceMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(20_000)
          .describe("On SIGTERM/SIGINT, how long an apply already under way may take to finish before it is aborted. Keep it below the pod's terminationGracePeriodSeconds. Default 20000."),
        probeSpreadPercent: z
          .number()
          .min(0)
          .max(90)
          .default(50)
          .describe("Spread each cycle's probes at random over this share of the time to the next tick, so a large pool is not hit in one burst. 0 probes everything at once. Default 50."),
        leaderElection: leaderElectionSchema.prefault({}).describe("Several replicas elect one writer through a Kubernetes Lease; see README 'Leader election'."),
        probeEndpoint: z
          .strictObject({
            allowAnyTarget: z
              .boolean()
              .default(false)
              .describe("Let /probe handshake with any host:port. Default false: only the configured pools' member and standby addresses."),
          })
          .prefault({})
          .describe("The /probe endpoint (blackbox_exporter multi-target pattern)."),
      })
      .prefault({})
      .describe("Daemon mode."),
    alerts: alertsSchema.prefault({}).describe("Alerts on transitions; see README 'Alerts'. Off unless a webhook or command is set."),
    providers: z.record(z.string(), providerSchema).describe("DNS providers by name; pools refer to them."),
    ipTakeover: z
      .record(z.string(), ipTakeoverAdapterSchema)
      .default({})
      .describe("IP takeover adapters by name (exec hook, AWS Elastic IP); members refer to them with ipTakeover.via."),
    checks: z.record(z.string(), checkSchema).default({}).describe("Named checks (handshake modules) built on the built-in ones."),
    dialogues: dialoguesSchema,
    pools: z.array(poolSchema).min(1).describe("The round-robin names to keep true."),
  })
  .describe("mailpool configuration");

export type RawConfig = z.output<typeof configSchema>;
export type { ProviderConfig };
export type IpTakeoverAdapterConfig = z.output<typeof ipTakeoverAdapterSchema>;

/** The JSON Schema of the config file (what `mailpool schema` prints). */
export function configJsonSchema(): object {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
}
