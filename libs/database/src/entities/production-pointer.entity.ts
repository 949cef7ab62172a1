import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The single row (id 1) naming the version that serves production traffic. */
@Entity({ name: 'production_pointer' })
export class ProductionPointerEntity {
  static readonly ID = 1;

  @PrimaryColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  version: string | null;

  /** +1 at every move: replicas poll it to notice a change, writers compare-and-set on it. */
  @Column({ type: 'integer', default: 0 })
  revision: number;

  @Column({ name: 'updated_at', type: Date, nullable: true })
  updatedAt: Date | null;
}
