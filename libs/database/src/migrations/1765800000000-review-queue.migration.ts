import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions } from 'typeorm';

/**
 * The review queue (predictions waiting for a human label, with their lease) and where each label came from:
 * `feedback.source` is `consumer` (the caller of the prediction, the default for labels stored before), `review`
 * (a reviewer working the uncertain end of the queue) or `audit` (a reviewer labelling the random sample). The live
 * F1 reads only the random ones.
 */
export class ReviewQueue1765800000000 implements MigrationInterface {
  readonly name = 'ReviewQueue1765800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { createDate, createDateDefault } = queryRunner.connection.driver.mappedDataTypes;
    const date = (name: string, isNullable = false): TableColumnOptions => ({
      name,
      type: createDate as string,
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
        name: 'review_items',
        columns: [
          { ...varchar('prediction_id', 36), isPrimary: true },
          varchar('model_version', 64),
          date('predicted_at'),
          { name: 'prdtypecode', type: 'integer' },
          varchar('reason', 16),
          { name: 'priority', type: 'integer' },
          { name: 'margin', type: 'float' },
          varchar('title_key', 64),
          { name: 'sampling_probability', type: 'float' },
          varchar('status', 16),
          varchar('leased_by', 128, true),
          date('lease_until', true),
          varchar('decided_by', 128, true),
          date('decided_at', true),
          { name: 'label', type: 'integer', isNullable: true },
          varchar('skip_reason', 32, true),
          varchar('collapsed_into', 36, true),
          { ...date('created_at'), default: createDateDefault },
        ],
        indices: [
          { name: 'IDX_review_items_queue', columnNames: ['status', 'priority', 'margin', 'predicted_at'] },
          { name: 'IDX_review_items_title_key', columnNames: ['title_key', 'status'] },
          { name: 'IDX_review_items_decided_at', columnNames: ['decided_at'] },
        ],
      }),
    );
    await queryRunner.addColumn(
      'feedback',
      new TableColumn({ name: 'source', type: 'varchar', length: '16', default: "'consumer'" }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('feedback', 'source');
    await queryRunner.dropTable('review_items');
  }
}
