/** Base class of the errors raised while installing or running the infrastructure checks. */
export class InfraCheckError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraCheckError';
  }
}

/** scripts/infra/install.sh failed, or left no checker behind. */
export class CheckerInstallError extends InfraCheckError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckerInstallError';
  }
}

/** A checker crashed or answered something other than its JSON report. */
export class CheckerRunError extends InfraCheckError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckerRunError';
  }
}

/** `sls package` failed: there is no template to check. */
export class StackPackageError extends InfraCheckError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackPackageError';
  }
}

/** .cfnlintrc.yaml or .checkov.yaml lists an ignore without its reason, or cannot be read. */
export class CheckerConfigError extends InfraCheckError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckerConfigError';
  }
}
