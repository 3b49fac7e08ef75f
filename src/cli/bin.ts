#!/usr/bin/env node
import { quietOnClosedPipe } from "./closed-pipe.js";
import { EXIT, main } from "./main.js";

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mailpool: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
