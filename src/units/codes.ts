/** Error codes of feature units and pipelines (docs/errors.md, "units"). */
export const UnitCodes = {
  /** A unit's settings are malformed, unknown or out of range, or the unit kind is unknown. */
  setting: 'E_UNIT_SETTING',
  /** A unit meets an input (rate, channels) its settings cannot work with. */
  shape: 'E_UNIT_SHAPE',
  /** A unit kind is registered twice. */
  kind: 'E_UNIT_KIND',
  /** Units are in an order that cannot work (a window that is not last). */
  order: 'E_UNIT_ORDER',
} as const;
