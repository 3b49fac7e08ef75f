/**
 * The exec IP takeover adapter: the operator's own hook moves the address (keepalived-style
 * notify: `ip addr add` and a gratuitous ARP on the standby, over the operator's own transport),
 * and answers `status` with the host that holds the address now.
 *
 * Compare-and-swap: right before a move the hook is asked `status` again and the move is refused
 * (IpConflictError) when its answer differs from the one the plan was made on. A window of one
 * hook run remains between that answer and the move; a hook that can do better (a lock, a
 * conditional move) gets the expected holder in MAILPOOL_EXPECTED.
 */
import { ipFamily, canonicalIp } from "../../../src/util/ip.js";
import { commandText } from "../../zonefile/run-reload.js";
import { IpAdapterError, IpConflictError, type Holder, type IpAdapter, type IpHolding, type IpMove, type IpMoveResult, type IpTarget } from "../types.js";
import type { ExecIpConfig } from "./config.js";
import { runHook, type HookOutcome } from "./run-hook.js";

export interface ExecIpDeps {
  /** The environment PATH (and nothing else) is taken from. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

const TAIL = 400;
const tail = (s: string) => {
  const t = s.trim();
  return t.length > TAIL ? `…${t.slice(-TAIL)}` : t;
};

export class ExecIpAdapter implements IpAdapter {
  readonly kind = "exec";
  constructor(
    private readonly config: ExecIpConfig,
    private readonly deps: ExecIpDeps,
  ) {}

  async read(targets: readonly IpTarget[], signal: AbortSignal): Promise<IpHolding[]> {
    const out: IpHolding[] = [];
    for (const t of targets) out.push(await this.#status(t, signal));
    return out;
  }

  async move(move: IpMove, signal: AbortSignal): Promise<IpMoveResult> {
    const now = await this.#status(move.target, signal);
    if (now.token !== move.expected.token) {
      throw new IpConflictError(`${move.target.address}: the status hook now says ${JSON.stringify(now.token)}, not ${JSON.stringify(move.expected.token)} as read; moved nothing`);
    }
    // Once started, a move runs to its end or its timeout, never cut by the cycle's signal: a hook
    // killed half-way could leave the address on neither host.
    signal.throwIfAborted();
    const r = await this.#run(move.action, move.target, AbortSignal.timeout(this.config.timeoutMs + 1000), { MAILPOOL_EXPECTED: move.expected.token });
    if (r.code !== 0) throw new IpAdapterError(`${move.action} of ${move.target.address} to ${move.to}: ${this.#failed(r)}`);
    const said = tail(r.stdout);
    return { notes: [`\`${commandText(this.config.command)}\` (${move.action}) exited 0${said ? `: ${said}` : ""}`] };
  }

  async #status(t: IpTarget, signal: AbortSignal): Promise<IpHolding> {
    const r = await this.#run("status", t, signal);
    if (r.code !== 0) throw new IpAdapterError(`status of ${t.address}: ${this.#failed(r)}`, r.failure !== undefined);
    const answer = r.stdout.trim().split("\n")[0]?.trim() ?? "";
    return { address: t.address, holder: holderOf(answer, t), detail: `status hook: ${answer === "" ? "(no output)" : answer}`, token: answer };
  }

  #run(action: string, t: IpTarget, signal: AbortSignal, extra: Record<string, string> = {}): Promise<HookOutcome> {
    const env: Record<string, string> = {
      MAILPOOL_ACTION: action,
      MAILPOOL_ADDRESS: t.address,
      MAILPOOL_MEMBER: t.member,
      MAILPOOL_STANDBY: t.standby,
      ...extra,
    };
    if (this.deps.env.PATH !== undefined) env.PATH = this.deps.env.PATH;
    return runHook(this.config.command, env, this.config.timeoutMs, signal);
  }

  #failed(r: HookOutcome): string {
    const cmd = `\`${commandText(this.config.command)}\``;
    const err = tail(r.stderr);
    return `${cmd} ${r.failure ?? `exited with code ${r.code}`}${err ? `: ${err}` : ""}`;
  }
}

/** The status hook's answer: the member's or the standby's address, `none`, or anything else. */
function holderOf(answer: string, t: IpTarget): Holder {
  if (answer === "none") return { kind: "none" };
  if (ipFamily(answer) !== 0) {
    const ip = canonicalIp(answer);
    if (ip === t.member || ip === t.standby) return { kind: "host", host: ip };
  }
  return { kind: "other", what: answer === "" ? "(the status hook printed nothing)" : answer };
}
