import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/**
 * Model registry, production pointer, promotion audit, predictions and feedback. Written with the Table API so the
 * same migration runs on PostgreSQL and SQLite; date columns take the types TypeORM maps date columns to.
 */
export class InitialSchema1764201600000 implements MigrationInterface {
  readonly name = 'InitialSchema1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { createDate, createDateDefault } = queryRunner.connection.driver.mappedDataTypes;
    const createdAt = (name: string): TableColumnOptions => ({
      name,
      type: createDate as string,
      default: createDateDefault,
    });
    const id: TableColumnOptions = {
      name: 'id',
      type: 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment',
    };
    const varchar = (name: string, length: number, isNullable = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable,
    });

    await queryRunner.createTable(
      new Table({
        name: 'model_versions',
        columns: [
          { ...varchar('version', 64), isPrimary: true },
          { name: 'sequence', type: 'integer' },
          createdAt('created_at'),
          varchar('created_by', 128),
          varchar('source', 32),
          varchar('parent_version', 64, true),
          varchar('data_fingerprint', 128, true),
          { name: 'metrics', type: 'text' },
          { name: 'model_card', type: 'text' },
          { name: 'files', type: 'text' },
          varchar('artifact_prefix', 255),
          varchar('status', 16),
        ],
        uniques: [{ name: 'UQ_model_versions_sequence', columnNames: ['sequence'] }],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'production_pointer',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          varchar('version', 64, true),
          { name: 'revision', type: 'integer', default: 0 },
          { name: 'updated_at', type: createDate as string, isNullable: true },
        ],
      }),
    );
    await queryRunner.query(
      'INSERT INTO production_pointer (id, version, revision, updated_at) VALUES (1, NULL, 0, NULL)',
    );

    await queryRunner.createTable(
      new Table({
        name: 'promotion_audit',
        columns: [
          id,
          createdAt('at'),
          varchar('actor', 128),
          varchar('action', 16),
          varchar('from_version', 64, true),
          varchar('to_version', 64),
          { name: 'reason', type: 'text', isNullable: true },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'predictions',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          createdAt('created_at'),
          varchar('model_version', 64),
          { name: 'prdtypecode', type: 'integer' },
          { name: 'probability', type: 'float' },
          { name: 'top', type: 'text' },
          varchar('modality', 16),
          { name: 'designation', type: 'text' },
          { name: 'description', type: 'text', isNullable: true },
          varchar('image_sha256', 64, true),
          { name: 'latency_ms', type: 'float' },
          varchar('requested_by', 128, true),
        ],
        indices: [
          { name: 'IDX_predictions_created_at', columnNames: ['created_at'] },
          { name: 'IDX_predictions_model_version', columnNames: ['model_version'] },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'feedback',
        columns: [
          id,
          varchar('prediction_id', 36),
          { name: 'true_prdtypecode', type: 'integer' },
          createdAt('created_at'),
          varchar('reported_by', 128, true),
        ],
        indices: [{ name: 'IDX_feedback_prediction_id', columnNames: ['prediction_id'] }],
        foreignKeys: [
          {
            name: 'FK_feedback_prediction_id',
            columnNames: ['prediction_id'],
            referencedTableName: 'predictions',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'feedback',
      'predictions',
      'promotion_audit',
      'production_pointer',
      'model_versions',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
