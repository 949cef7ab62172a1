import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions } from 'typeorm';

/**
 * The retraining job history, and each model version's lineage and promotion-gate decision. Written with the Table
 * API so the same migration runs on PostgreSQL and SQLite.
 */
export class Retraining1764979200000 implements MigrationInterface {
  readonly name = 'Retraining1764979200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { createDate, createDateDefault } = queryRunner.connection.driver.mappedDataTypes;
    const date = (name: string): TableColumnOptions => ({
      name,
      type: createDate as string,
      isNullable: true,
    });
    const text = (name: string, isNullable = true): TableColumnOptions => ({
      name,
      type: 'text',
      isNullable,
    });
    const varchar = (name: string, length: number, isNullable = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable,
    });

    await queryRunner.createTable(
      new Table({
        name: 'retraining_jobs',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          { name: 'created_at', type: createDate as string, default: createDateDefault },
          varchar('state', 16),
          varchar('phase', 32),
          varchar('trigger', 255),
          text('reason', false),
          text('params', false),
          text('progress'),
          { name: 'attempts', type: 'integer', default: 0 },
          text('error'),
          varchar('result_version', 64, true),
          text('gate'),
          date('started_at'),
          date('finished_at'),
          date('updated_at'),
        ],
        indices: [{ name: 'IDX_retraining_jobs_created_at', columnNames: ['created_at'] }],
      }),
    );
    await queryRunner.addColumns('model_versions', [
      new TableColumn(text('lineage')),
      new TableColumn(text('gate')),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumns('model_versions', ['lineage', 'gate']);
    await queryRunner.dropTable('retraining_jobs');
  }
}
