/**
 * changeWindow: outside a change window, removals and takeovers are held (reinstatements and
 * restores too when allowReinstate is false); TTL fixes, repairs and adoptions pass. A window
 * opens at each minute a 5-field cron expression matches and stays open `durationMinutes`, or
 * is frozen shut. Absent from the config: always open.
 *
 * The clock logic is pure: whether `now` falls in a window. A tiny own matcher rather than
 * node-cron's: node-cron schedules callbacks but exposes no "does this instant match" for an
 * arbitrary (injected) time.
 *
 * Cron syntax: minute hour day-of-month month day-of-week; each field `*`, a number, `a-b`, a
 * list `a,b`, a step `* /n` or `a-b/n`; month and weekday names (jan, mon) are accepted; weekday
 * 0 and 7 are Sunday. As in Vixie cron, when both day-of-month and day-of-week are restricted a
 * day matches if either does. Fields are read in the window's time zone (default UTC).
 */
import { z } from "zod";
import type { ActionKind } from "../../model.js";
import type { ActionRule } from "./rule.js";

/** When removals and takeovers may happen: a cron-started window, or a freeze. */
export interface ChangeWindowSpec {
  /** 5-field cron expression: the minutes a window opens. */
  readonly cron?: string;
  /** How long each window stays open, minutes. */
  readonly durationMinutes?: number;
  /** IANA time zone the cron fields are read in. Default UTC. */
  readonly timezone?: string;
  /** The window is never open. */
  readonly freeze?: boolean;
  /** Reinstatements and restores of healthy members pass outside the window. Default true. */
  readonly allowReinstate?: boolean;
}

const cronProblem = (text: string): string | undefined => {
  try {
    parseCron(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

export const changeWindowSchema = z
  .strictObject({
    cron: z
      .string()
      .superRefine((v, ctx) => {
        const problem = cronProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .describe('5-field cron expression (minute hour day-of-month month day-of-week) of the minutes a window opens, e.g. "0 2 * * 6" (Saturdays 02:00).'),
    durationMinutes: z.number().int().min(1).max(10_080).optional().describe("How long each window stays open, 1–10080 minutes. Required with cron."),
    timezone: z
      .string()
      .refine(isTimeZone, "is not a time zone this Node.js knows (IANA name such as Europe/Berlin)")
      .optional()
      .describe("IANA time zone the cron fields are read in. Default UTC."),
    freeze: z.boolean().optional().describe("true: the window is never open (instead of cron): every removal and takeover is held. Default false."),
    allowReinstate: z.boolean().optional().describe("Reinstatements and restores of healthy members pass outside the window. Default true."),
  })
  .superRefine((w, ctx) => {
    if (w.freeze === true) {
      if (w.cron !== undefined) ctx.addIssue({ code: "custom", path: ["cron"], message: "a frozen window (freeze: true) takes no cron" });
      return;
    }
    if (w.cron === undefined) ctx.addIssue({ code: "custom", path: ["cron"], message: "is required unless freeze is true" });
    if (w.durationMinutes === undefined && w.cron !== undefined) ctx.addIssue({ code: "custom", path: ["durationMinutes"], message: "is required with cron" });
  })
  .describe("Outside the window, removals and takeovers are held by the rule changeWindow (--force bypasses it). Default: no window (always open).");

export const changeWindow = {
  name: "changeWindow",
  summary: "outside the change window, removals and takeovers wait",
  judges: "action",
  bypass: "force",
  config: { scope: "pool", key: "changeWindow", schema: changeWindowSchema },
  check(subject, { config, ctx }) {
    return changeWindowHold(subject, config, ctx.now);
  },
} as const satisfies ActionRule<ChangeWindowSpec | undefined>;

interface Field {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];
const FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"];

export interface CronExpression {
  readonly sets: readonly ReadonlySet<number>[];
  /** Whether day-of-month / day-of-week were `*` (for the either-day rule). */
  readonly domAny: boolean;
  readonly dowAny: boolean;
}

/** Parses a 5-field cron expression; throws an Error saying which field is wrong. */
export function parseCron(text: string): CronExpression {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`${JSON.stringify(text)} has ${parts.length} field(s); a change window takes 5 (minute hour day-of-month month day-of-week)`);
  const sets = parts.map((p, i) => parseField(p, FIELDS[i]!, FIELD_NAMES[i]!));
  // Weekday 7 is Sunday, as 0.
  if (sets[4]!.has(7)) sets[4]!.add(0);
  return { sets, domAny: parts[2] === "*", dowAny: parts[4] === "*" };
}

function parseField(text: string, f: Field, name: string): Set<number> {
  const out = new Set<number>();
  const value = (v: string): number => {
    const i = f.names?.indexOf(v.toLowerCase()) ?? -1;
    const n = i >= 0 ? i + f.min : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < f.min || n > f.max) throw new Error(`${name}: ${JSON.stringify(v)} is not a value from ${f.min} to ${f.max}`);
    return n;
  };
  for (const item of text.split(",")) {
    const [range, stepText, extra] = item.split("/");
    if (extra !== undefined || range === undefined || range === "") throw new Error(`${name}: ${JSON.stringify(item)} is not a cron field`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) && Number(stepText) > 0 ? Number(stepText) : NaN;
    if (Number.isNaN(step)) throw new Error(`${name}: step ${JSON.stringify(stepText)} is not a positive number`);
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [f.min, f.max];
    else if (range.includes("-")) {
      const [a, b] = range.split("-");
      [lo, hi] = [value(a ?? ""), value(b ?? "")];
      if (lo > hi) throw new Error(`${name}: range ${JSON.stringify(range)} runs backwards`);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : f.max;
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

/** The wall-clock fields of `t` in `timeZone`: minute, hour, day of month, month, weekday. */
function fieldsAt(t: Date, timeZone: string): [number, number, number, number, number] {
  if (timeZone === "UTC") return [t.getUTCMinutes(), t.getUTCHours(), t.getUTCDate(), t.getUTCMonth() + 1, t.getUTCDay()];
  const parts = formatter(timeZone).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"));
  return [Number(get("minute")), Number(get("hour")) % 24, Number(get("day")), Number(get("month")), weekday];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is one this Node.js knows (checked at config load). */
function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function cronMatches(cron: CronExpression, t: Date, timeZone = "UTC"): boolean {
  const [minute, hour, dom, month, dow] = fieldsAt(t, timeZone);
  const [m, h, d, mo, w] = cron.sets as [ReadonlySet<number>, ReadonlySet<number>, ReadonlySet<number>, ReadonlySet<number>, ReadonlySet<number>];
  if (!m.has(minute) || !h.has(hour) || !mo.has(month)) return false;
  if (cron.domAny || cron.dowAny) return d.has(dom) && w.has(dow);
  return d.has(dom) || w.has(dow);
}

export type WindowState = { readonly open: true; readonly openedAt: Date } | { readonly open: false; readonly why: string };

/** Whether a change window is open at `now`: a matching minute within the last durationMinutes. */
export function windowState(spec: ChangeWindowSpec, now: Date): WindowState {
  if (spec.freeze === true || spec.cron === undefined || spec.durationMinutes === undefined) return { open: false, why: "changes are frozen (changeWindow.freeze)" };
  const cron = parseCron(spec.cron);
  const tz = spec.timezone ?? "UTC";
  const minute = Math.floor(now.getTime() / 60_000) * 60_000;
  for (let k = 0; k < spec.durationMinutes; k++) {
    const t = new Date(minute - k * 60_000);
    if (cronMatches(cron, t, tz)) return { open: true, openedAt: t };
  }
  return {
    open: false,
    why: `outside the change window (opens at "${spec.cron}" ${tz} for ${spec.durationMinutes} min; it is ${now.toISOString()})`,
  };
}

/**
 * Why a closed window holds this action, or undefined when it may pass: removals and takeovers
 * always wait; reinstatements and restores of healthy members pass when allowReinstate (default
 * true); TTL fixes, repairs and adoptions change no membership and pass.
 */
export function changeWindowHold(action: { readonly kind: ActionKind }, spec: ChangeWindowSpec | undefined, now: Date | undefined): string | undefined {
  if (!spec || !now) return undefined;
  const recovery = action.kind === "reinstate" || action.kind === "restore";
  const shrinking = action.kind === "remove" || action.kind === "takeover";
  if (!shrinking && !(recovery && spec.allowReinstate === false)) return undefined;
  const state = windowState(spec, now);
  if (state.open) return undefined;
  return `${state.why}; ${shrinking ? "removals and takeovers wait for the window" : "allowReinstate is false"}`;
}
