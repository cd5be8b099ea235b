/**
 * What a ZeroMQ tracker feed's endpoint may be (docs/tracker.md, "Run configuration"):
 * `tcp://HOST:PORT` or `ipc://PATH`. Checked when the configuration is read, so a typo is refused
 * with a reason before anything starts; what only opening can tell (a port in use, a host that
 * does not resolve, a missing ipc directory) is explained by `endpointOpenProblem`.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Longest ipc path libzmq takes (sockaddr_un.sun_path less its terminator). */
const IPC_MAX_PATH = 107;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface ParsedTrackerEndpoint {
  transport: 'tcp' | 'ipc';
  /** tcp: the host as written (no brackets around IPv6), `*` for every interface; ipc: the path. */
  host: string;
  /** tcp: the port, 0 for `*` (bind to a free one); ipc: 0. */
  port: number;
}

/**
 * Parse `endpoint` for a SUB socket that binds (`bind`) or connects. Returns the parts, or a
 * sentence saying what is wrong with it.
 */
export function parseTrackerEndpoint(endpoint: string, bind: boolean): ParsedTrackerEndpoint | string {
  if (endpoint.startsWith('ipc://')) {
    const path = endpoint.slice('ipc://'.length);
    if (path.length === 0) return 'names no path: write ipc:///path/to/socket';
    if (path.includes('\0')) return 'contains a NUL byte';
    if (Buffer.byteLength(path) > IPC_MAX_PATH) return `has an ipc path longer than ${IPC_MAX_PATH} bytes (the OS limit): use a shorter path`;
    return { transport: 'ipc', host: path, port: 0 };
  }
  if (!endpoint.startsWith('tcp://')) {
    return 'must be tcp://HOST:PORT or ipc://PATH (for example tcp://192.168.1.20:5570)';
  }
  const rest = endpoint.slice('tcp://'.length);
  if (rest.includes(';')) return 'uses the "source;address" form, which a tracker feed does not take: write tcp://HOST:PORT';
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') return 'has an IPv6 address without "]:PORT": write tcp://[::1]:5570';
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
    if (!isIPv6(host)) return `has "${host}" in brackets, which is not an IPv6 address`;
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) return 'has no port: write tcp://HOST:PORT';
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.length === 0) return 'has no host: write tcp://HOST:PORT';
    if (isIPv6(host)) return 'has an IPv6 address without brackets: write tcp://[ADDRESS]:PORT';
    if (host === '*') {
      if (!bind) return 'uses "*" (every interface), which only a bound socket can: name the sender\'s host, or set "bind": true';
    } else if (!isIPv4(host) && !HOSTNAME.test(host)) {
      return `has "${host}", which is neither an IP address nor a host or interface name`;
    }
  }
  let port: number;
  if (portText === '*' || portText === '0') {
    if (!bind) return 'has port "*" or 0 (any free port), which only a bound socket can: name the sender\'s port';
    port = 0;
  } else if (/^[0-9]{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535) {
    port = Number(portText);
  } else {
    return `has port "${portText}": a port is 1..65535`;
  }
  return { transport: 'tcp', host, port };
}

/** True when `host` needs a DNS lookup before a connect (not an IP literal, not `*`). */
export function needsLookup(p: ParsedTrackerEndpoint): boolean {
  return p.transport === 'tcp' && p.host !== '*' && isIP(p.host) === 0;
}

/** A bind/connect failure (a zeromq.js or DNS error) as a verb phrase about the endpoint saying what to do. */
export function endpointOpenProblem(err: unknown, bind: boolean): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const detail = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'EADDRINUSE':
      return 'cannot bind: the address is already in use (another program, or another Reflex, holds it): choose a free port or stop that program';
    case 'EADDRNOTAVAIL':
      return 'cannot bind: not an address of this machine: bind to one of its own addresses or "*", or set "bind": false to connect to the sender';
    case 'ENODEV':
      return 'cannot bind: no such interface or address on this machine';
    case 'ENOENT':
      return "cannot bind: the ipc path's directory does not exist";
    case 'EACCES':
      return `cannot ${bind ? 'bind' : 'connect'}: permission denied (ports below 1024 need root; check the ipc directory's permissions)`;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return 'names a host that does not resolve: check its spelling, or use an IP address';
    case 'EAI_AGAIN':
    case 'ETIMEOUT':
      return 'names a host that could not be resolved now (DNS did not answer): check the network, or use an IP address';
    case 'EINVAL':
      return 'is not a valid ZeroMQ endpoint';
    default:
      return `cannot ${bind ? 'bind' : 'connect'}: ${detail}${code ? ` (${code})` : ''}`;
  }
}
