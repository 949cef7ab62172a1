import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/**
 * Users, refresh tokens (by family) and service tokens. Written with the Table API so the same migration runs on
 * PostgreSQL and SQLite; date columns take the types TypeORM maps date columns to.
 */
export class Auth1764288000000 implements MigrationInterface {
  readonly name = 'Auth1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { createDate, createDateDefault } = queryRunner.connection.driver.mappedDataTypes;
    const isSqlite = queryRunner.connection.options.type !== 'postgres';
    const createdAt: TableColumnOptions = {
      name: 'created_at',
      type: createDate as string,
      default: createDateDefault,
    };
    const date = (name: string, isNullable = true): TableColumnOptions => ({
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
        name: 'users',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('username', 128),
          varchar('password_hash', 100),
          { name: 'roles', type: 'text' },
          // SQLite stores booleans as 0 and 1, and TypeORM compares its defaults in that form.
          { name: 'disabled', type: 'boolean', default: isSqlite ? 0 : false },
          createdAt,
          date('last_login_at'),
          date('password_changed_at'),
        ],
        uniques: [{ name: 'UQ_users_username', columnNames: ['username'] }],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('family_id', 36),
          varchar('user_id', 36),
          varchar('token_hash', 64),
          createdAt,
          date('expires_at', false),
          date('used_at'),
          date('revoked_at'),
        ],
        uniques: [{ name: 'UQ_refresh_tokens_token_hash', columnNames: ['token_hash'] }],
        indices: [
          { name: 'IDX_refresh_tokens_family_id', columnNames: ['family_id'] },
          { name: 'IDX_refresh_tokens_user_id', columnNames: ['user_id'] },
        ],
        foreignKeys: [
          {
            name: 'FK_refresh_tokens_user_id',
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'service_tokens',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('name', 128),
          varchar('token_hash', 64),
          { name: 'roles', type: 'text' },
          createdAt,
          varchar('created_by', 128),
          date('expires_at'),
          date('revoked_at'),
          date('last_used_at'),
        ],
        uniques: [
          { name: 'UQ_service_tokens_name', columnNames: ['name'] },
          { name: 'UQ_service_tokens_token_hash', columnNames: ['token_hash'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['service_tokens', 'refresh_tokens', 'users']) {
      await queryRunner.dropTable(table);
    }
  }
}
