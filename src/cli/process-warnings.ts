/**
 * Process warnings as pino lines. Node prints every process warning as free text on stderr,
 * where mailpool promises pino JSON lines only (README "Commands"). The CLI replaces Node's
 * printer with this router: a warning becomes one `warn` line carrying its name, code and text.
 * The AWS SDK's notice that its releases after January 2027 need Node 22
 * (NodeVersionSupportWarning) is logged at `debug` instead: it is about the SDK's future, not
 * about this run, and the README says which Node versions mailpool supports.
 */
import type { MinimalLogger } from "../../providers/types.js";

/** Warnings that say nothing about the run at hand, by the name their text starts with. */
const QUIET = ["NodeVersionSupportWarning"];

export interface WarningSource {
  listeners(event: "warning"): Function[];
  on(event: "warning", listener: (warning: Error) => void): unknown;
  off(event: "warning", listener: (warning: Error) => void): unknown;
}

let current: MinimalLogger | undefined;

/** The logger that routed warnings go to from now on (each command's own, at its level). */
export function logWarningsTo(logger: MinimalLogger): void {
  current = logger;
}

/**
 * Takes over the process's warnings: Node's own printer is removed, each warning is logged through
 * the latest logger given to `logWarningsTo` (or `fallback` before any). Returns an undo.
 */
export function routeProcessWarnings(
  source: WarningSource,
  fallback: () => MinimalLogger,
  /** True to log each warning's stack too (`node --trace-warnings`). */
  trace: () => boolean = () => false,
): () => void {
  const printers = source.listeners("warning") as ((w: Error) => void)[];
  for (const p of printers) source.off("warning", p);
  const onWarning = (warning: Error) => {
    const logger = current ?? fallback();
    const code = (warning as { code?: unknown }).code;
    const fields = {
      warning: {
        name: warning.name,
        ...(typeof code === "string" ? { code } : {}),
        message: warning.message,
        ...(trace() && warning.stack !== undefined ? { stack: warning.stack } : {}),
      },
    };
    if (QUIET.some((q) => warning.name === q || warning.message.startsWith(`${q}:`))) logger.debug(fields, "process warning");
    else logger.warn(fields, "process warning");
  };
  source.on("warning", onWarning);
  return () => {
    source.off("warning", onWarning);
    for (const p of printers) source.on("warning", p);
  };
}
