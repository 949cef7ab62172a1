import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * retraining_jobs: who cancelled a job and when (the audit of `POST /v1/retraining-jobs/:id/cancel`), and when its
 * training began. Only a job that trained starts the retraining cooldown: one that failed before training (no data)
 * or was a first model does not. Jobs that succeeded before this migration, bootstrap jobs aside, trained.
 */
export class RetrainingJobCancel1765600000000 implements MigrationInterface {
  readonly name = 'RetrainingJobCancel1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const date = queryRunner.connection.driver.mappedDataTypes.createDate as string;
    await queryRunner.addColumns('retraining_jobs', [
      new TableColumn({ name: 'cancelled_by', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'cancelled_at', type: date, isNullable: true }),
      new TableColumn({ name: 'training_started_at', type: date, isNullable: true }),
    ]);
    await queryRunner.query(
      `UPDATE "retraining_jobs" SET "training_started_at" = "started_at"
       WHERE "state" = 'succeeded' AND "trigger" <> 'bootstrap'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumns('retraining_jobs', ['cancelled_by', 'cancelled_at', 'training_started_at']);
  }
}
