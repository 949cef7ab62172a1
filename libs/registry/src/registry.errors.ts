/** The version is not registered (or its registration has not finished). */
export class ModelVersionNotFoundError extends Error {
  constructor(readonly version: string) {
    super(
      `Model version "${version}" is not registered (versions are named v1, v2, ...; list them to see which exist)`,
    );
    this.name = 'ModelVersionNotFoundError';
  }
}

export class AlreadyInProductionError extends Error {
  constructor(readonly version: string) {
    super(
      `Model version ${version} is already in production: nothing to promote (promote another version, or roll back)`,
    );
    this.name = 'AlreadyInProductionError';
  }
}

export class NothingToRollBackError extends Error {
  constructor(readonly current: string | null) {
    super(
      current === null
        ? 'Nothing to roll back: no version has been promoted to production yet'
        : `Nothing to roll back: ${current} is the only version left in the production history (promote another version instead)`,
    );
    this.name = 'NothingToRollBackError';
  }
}

/** A stored file of a registered version is missing or does not match its checksum. */
export class CorruptArtifactError extends Error {
  constructor(
    readonly version: string,
    readonly path: string,
    detail: string,
  ) {
    super(
      `Model version ${version} is corrupt in the artifact store: ${path} ${detail}. ` +
        'Register the model directory again as a new version.',
    );
    this.name = 'CorruptArtifactError';
  }
}

/** The directory given to register() is not a complete, intact model directory (or the request is invalid). */
export class RegistrationError extends Error {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`Cannot register ${dir}: ${detail}`);
    this.name = 'RegistrationError';
  }
}
