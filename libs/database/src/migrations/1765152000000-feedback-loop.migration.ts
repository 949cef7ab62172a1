import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/**
 * The feedback loop: one label per prediction with what the serving version answered (and no foreign key to
 * predictions, which may still be in an API replica's write buffer when they are labelled), the audit of label
 * overwrites, and the alert notifications the webhook acted on. Labels stored by the old table are kept (joined
 * with their predictions; the newest label of a prediction wins).
 */
export class FeedbackLoop1765152000000 implements MigrationInterface {
  readonly name = 'FeedbackLoop1765152000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { createDate, createDateDefault } = queryRunner.connection.driver.mappedDataTypes;
    const date = (name: string): TableColumnOptions => ({ name, type: createDate as string });
    const createdAt = (name: string): TableColumnOptions => ({ ...date(name), default: createDateDefault });
    const varchar = (name: string, length: number, isNullable = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable,
    });
    const integer = (name: string): TableColumnOptions => ({ name, type: 'integer' });

    await queryRunner.renameTable('feedback', 'feedback_before_loop');
    await queryRunner.createTable(
      new Table({
        name: 'feedback',
        columns: [
          { ...varchar('prediction_id', 36), isPrimary: true },
          varchar('model_version', 64),
          integer('predicted_prdtypecode'),
          integer('true_prdtypecode'),
          date('predicted_at'),
          createdAt('created_at'),
          date('labelled_at'),
          varchar('reported_by', 128, true),
        ],
        indices: [
          { name: 'IDX_feedback_labelled_at', columnNames: ['labelled_at'] },
          { name: 'IDX_feedback_model_version_labelled_at', columnNames: ['model_version', 'labelled_at'] },
        ],
      }),
    );
    await queryRunner.query(
      `INSERT INTO "feedback" ("prediction_id", "model_version", "predicted_prdtypecode", "true_prdtypecode",
         "predicted_at", "created_at", "labelled_at", "reported_by")
       SELECT f."prediction_id", p."model_version", p."prdtypecode", f."true_prdtypecode", p."created_at",
         f."created_at", f."created_at", f."reported_by"
       FROM "feedback_before_loop" f JOIN "predictions" p ON p."id" = f."prediction_id"
       WHERE f."id" = (SELECT MAX(g."id") FROM "feedback_before_loop" g WHERE g."prediction_id" = f."prediction_id")`,
    );
    await queryRunner.dropTable('feedback_before_loop');

    await queryRunner.createTable(
      new Table({
        name: 'feedback_audit',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('prediction_id', 36),
          integer('previous_prdtypecode'),
          integer('new_prdtypecode'),
          varchar('actor', 128),
          createdAt('created_at'),
        ],
        indices: [{ name: 'IDX_feedback_audit_prediction_id', columnNames: ['prediction_id'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'alert_events',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('alert_key', 160),
          varchar('status', 16),
          varchar('alertname', 128),
          { name: 'labels', type: 'text' },
          varchar('result', 16),
          { name: 'reason', type: 'text' },
          varchar('job_id', 36, true),
          createdAt('received_at'),
        ],
        uniques: [{ name: 'UQ_alert_events_key_status', columnNames: ['alert_key', 'status'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('alert_events');
    await queryRunner.dropTable('feedback_audit');
    await queryRunner.dropTable('feedback');
    await queryRunner.createTable(
      new Table({
        name: 'feedback',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'prediction_id', type: 'varchar', length: '36' },
          { name: 'true_prdtypecode', type: 'integer' },
          {
            name: 'created_at',
            type: queryRunner.connection.driver.mappedDataTypes.createDate as string,
            default: queryRunner.connection.driver.mappedDataTypes.createDateDefault,
          },
          { name: 'reported_by', type: 'varchar', length: '128', isNullable: true },
        ],
        indices: [{ name: 'IDX_feedback_prediction_id', columnNames: ['prediction_id'] }],
      }),
    );
  }
}
