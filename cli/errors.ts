/**
 * CLI failures and their exit codes: 2 for usage (the command line is wrong), 1 for everything
 * the server or the environment refused (with the server's own message).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
