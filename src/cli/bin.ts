#!/usr/bin/env node
/**
 * The `mailpool` executable. On Node 22.1 and later it first turns on Node's compile cache, so
 * the modules the CLI loads (its own, zod, pino, the SDKs a provider needs) are compiled once and
 * read back as V8 code on later starts: module compilation was the largest part of a cold
 * `run --once` (issue 10). The cache lives where Node puts it (the system's temporary folder, or
 * NODE_COMPILE_CACHE); NODE_DISABLE_COMPILE_CACHE=1 turns it off, and where it cannot be written
 * (a read-only file system) Node carries on without it. Everything else is in start.ts, loaded
 * after the cache is on.
 */
import module from "node:module";

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import("./start.js");
