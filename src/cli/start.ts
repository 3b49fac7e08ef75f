/** The CLI process: heap tuning, quiet closed pipes, warnings through the logger, then main. bin.ts loads this. */
import { createLogger } from "../log.js";
import { quietOnClosedPipe } from "./closed-pipe.js";
import { EXIT, main } from "./main.js";
import { tuneHeapGrowth } from "./heap-tuning.js";
import { routeProcessWarnings } from "./process-warnings.js";

tuneHeapGrowth(process.execArgv, process.env.NODE_OPTIONS);

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);
// Before a command has made its logger, a warning goes out at the default level.
let early: ReturnType<typeof createLogger> | undefined;
routeProcessWarnings(
  process,
  () => (early ??= createLogger("warn")),
  () => (process as { traceProcessWarnings?: boolean }).traceProcessWarnings === true || process.execArgv.includes("--trace-warnings"),
);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mailpool: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
