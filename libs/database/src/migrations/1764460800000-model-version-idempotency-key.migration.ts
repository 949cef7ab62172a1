import { MigrationInterface, QueryRunner, TableColumn, TableUnique } from 'typeorm';

/**
 * model_versions.idempotency_key: the key of the job that registered a version (unique; null for versions
 * registered without one), so that a retried job finds the version its first attempt registered.
 */
export class ModelVersionIdempotencyKey1764460800000 implements MigrationInterface {
  readonly name = 'ModelVersionIdempotencyKey1764460800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'model_versions',
      new TableColumn({ name: 'idempotency_key', type: 'varchar', length: '128', isNullable: true }),
    );
    await queryRunner.createUniqueConstraint(
      'model_versions',
      new TableUnique({ name: 'UQ_model_versions_idempotency_key', columnNames: ['idempotency_key'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropUniqueConstraint('model_versions', 'UQ_model_versions_idempotency_key');
    await queryRunner.dropColumn('model_versions', 'idempotency_key');
  }
}
