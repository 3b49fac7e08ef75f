/**
 * The TTL window of every pool's records, owned by the config (`defaults.ttl`, `pools[i].ttl`)
 * and handed to the providers that refuse to write outside it (Cloudflare). Its own module, so a
 * provider takes it without importing the whole config schema.
 */
export const TTL_MIN = 300;
export const TTL_MAX = 900;
