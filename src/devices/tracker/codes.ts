/** Error codes of tracker feeds (docs/errors.md, "devices/tracker"). */
export const TrackerCodes = {
  /** A tracker's ZeroMQ endpoint is malformed, unresolvable or not connectable. */
  endpoint: 'E_TRACKER_ENDPOINT',
} as const;
