/** No queued item has this prediction id. */
export class ReviewItemNotFoundError extends Error {
  constructor(readonly predictionId: string) {
    super(`No review item for prediction ${predictionId}`);
    this.name = 'ReviewItemNotFoundError';
  }
}

/** Another reviewer holds the item's lease. */
export class ReviewItemLeasedError extends Error {
  constructor(
    readonly predictionId: string,
    readonly leaseUntil: Date,
  ) {
    super(
      `Review item ${predictionId} is leased to another reviewer until ${leaseUntil.toISOString()}: ` +
        `ask GET /v1/review/next for another one`,
    );
    this.name = 'ReviewItemLeasedError';
  }
}

/** The item was labelled or skipped already. */
export class ReviewItemClosedError extends Error {
  constructor(
    readonly predictionId: string,
    readonly status: string,
  ) {
    super(`Review item ${predictionId} is already ${status}`);
    this.name = 'ReviewItemClosedError';
  }
}
