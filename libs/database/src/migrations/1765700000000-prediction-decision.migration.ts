import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * predictions.decision and decision_threshold: whether each answer was accepted automatically or sent to review,
 * and at which calibrated-probability threshold. Nullable: predictions stored before decisions existed have none.
 */
export class PredictionDecision1765700000000 implements MigrationInterface {
  readonly name = 'PredictionDecision1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('predictions', [
      new TableColumn({ name: 'decision', type: 'varchar', length: '8', isNullable: true }),
      new TableColumn({ name: 'decision_threshold', type: 'float', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('predictions', 'decision_threshold');
    await queryRunner.dropColumn('predictions', 'decision');
  }
}
