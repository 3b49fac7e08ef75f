/**
 * V8 grows the old generation to up to about four times what survived its last full collection
 * when collections are cheap, and a probe round is the worst case for that rule: every running
 * probe's socket, dialogue and buffers live for a greeting delay or more, outlive two scavenges
 * and are promoted, then die in the old generation. Over a 10,000-member round that garbage, not
 * live data (30–50 MB), made most of a 220 MB peak RSS (bench/RESULTS.md, issue 10). A growing
 * factor of 1.5 keeps the peak near 150 MB for about the same CPU (more, smaller full
 * collections). Set at start, before the heap has grown; a `--heap-growing-percent` given on the
 * command line or in NODE_OPTIONS wins.
 */
import { setFlagsFromString } from "node:v8";

export const HEAP_GROWING_PERCENT = 50;

export function tuneHeapGrowth(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = (s: string) => s.includes("heap-growing-percent") || s.includes("heap_growing_percent");
  if (execArgv.some(given) || (nodeOptions !== undefined && given(nodeOptions))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
