/**
 * The key a client address is counted under by the per-address limits. An IPv4 address is its
 * own key. An IPv6 address counts by its /64: one subscriber (a home, a phone) is routinely given
 * a whole /64 and can pick a fresh address in it per request, so counting single IPv6 addresses
 * would hold back nobody. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack
 * socket reports for an IPv4 peer) counts as the IPv4 address it maps.
 *
 * Parsing is ipaddr.js's (the library Fastify's own trustProxy uses), not a home-made one.
 */
import ipaddr from 'ipaddr.js';

const IPV6_PREFIX_GROUPS = 4; // 4 × 16 bits = /64

export function addressKey(address: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address.replace(/%.*$/, '')); // a zone id (`fe80::1%eth0`) names no other host
  } catch {
    return address; // not an address (Node always gives one; kept as is so it still counts)
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const groups = (parsed as ipaddr.IPv6).parts.slice(0, IPV6_PREFIX_GROUPS).map((part) => part.toString(16));
  return `${groups.join(':')}::/64`;
}
