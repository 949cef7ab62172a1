import { MigrationInterface, QueryRunner, TableColumn, TableIndex, TableUnique } from 'typeorm';

/**
 * feedback_audit.revision: the position of an overwrite in its prediction's chain of labels (1 for the first
 * overwrite). Unique per prediction, so that two overwrites can never both claim to follow the same label: the
 * trail is one chain even if two writers race. Rows already stored are numbered in the order they were written;
 * the unique constraint's index serves the lookups by prediction that the old index served.
 */
export class FeedbackAuditRevision1765500000000 implements MigrationInterface {
  readonly name = 'FeedbackAuditRevision1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'feedback_audit',
      new TableColumn({ name: 'revision', type: 'integer', isNullable: true }),
    );
    await queryRunner.query(
      `UPDATE "feedback_audit" SET "revision" = (
         SELECT COUNT(*) FROM "feedback_audit" "earlier"
         WHERE "earlier"."prediction_id" = "feedback_audit"."prediction_id"
           AND ("earlier"."created_at" < "feedback_audit"."created_at"
             OR ("earlier"."created_at" = "feedback_audit"."created_at" AND "earlier"."id" <= "feedback_audit"."id")))`,
    );
    await queryRunner.changeColumn(
      'feedback_audit',
      'revision',
      new TableColumn({ name: 'revision', type: 'integer' }),
    );
    await queryRunner.dropIndex('feedback_audit', 'IDX_feedback_audit_prediction_id');
    await queryRunner.createUniqueConstraint(
      'feedback_audit',
      new TableUnique({
        name: 'UQ_feedback_audit_prediction_revision',
        columnNames: ['prediction_id', 'revision'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropUniqueConstraint('feedback_audit', 'UQ_feedback_audit_prediction_revision');
    await queryRunner.createIndex(
      'feedback_audit',
      new TableIndex({ name: 'IDX_feedback_audit_prediction_id', columnNames: ['prediction_id'] }),
    );
    await queryRunner.dropColumn('feedback_audit', 'revision');
  }
}
