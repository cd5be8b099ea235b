/** Codes of the command-line front end (docs/errors.md, "cli"). */
export const CliCodes = {
  /** The run was stopped by SIGINT or SIGTERM (the abort reason a command sees). */
  signal: 'E_SIGNAL',
  /** `reflex ctl` printed a failure that carried no code of its own. */
  control: 'E_CONTROL',
} as const;
