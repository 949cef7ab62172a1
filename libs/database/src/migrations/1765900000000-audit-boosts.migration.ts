import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** audit_boosts: the audit sampling rate a drift alert raised for a model version, and until when. */
export class AuditBoosts1765900000000 implements MigrationInterface {
  readonly name = 'AuditBoosts1765900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { createDate } = queryRunner.connection.driver.mappedDataTypes;
    await queryRunner.createTable(
      new Table({
        name: 'audit_boosts',
        columns: [
          { name: 'model_version', type: 'varchar', length: '64', isPrimary: true },
          { name: 'rate', type: 'float' },
          { name: 'until', type: createDate as string },
          { name: 'alert_key', type: 'varchar', length: '160' },
          { name: 'reason', type: 'text' },
          { name: 'updated_at', type: createDate as string },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_boosts');
  }
}
