import { ApiProperty } from '@nestjs/swagger';
import { DRIFT_SIGNALS } from '@app/drift';

export class DriftSignalDto {
  @ApiProperty({ enum: DRIFT_SIGNALS, example: 'class_mix' }) signal: string;
  @ApiProperty({
    description:
      'Jensen-Shannon distance (0..1) of the window from the reference; for estimated_f1_drop, the reference estimated F1 minus the window estimated F1',
    example: 0.081,
  })
  value: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'DRIFT_QUANTILE quantile of the signal on windows of this size drawn from the reference; null below DRIFT_MIN_WINDOW',
    example: 0.062,
  })
  threshold: number | null;
  @ApiProperty({ description: 'value > threshold: the ModelDrift alert fires after its for: delay' })
  drifting: boolean;
}

export class ClassShiftDto {
  @ApiProperty({ example: 2583 }) prdtypecode: number;
  @ApiProperty({ description: 'Share of the window predicted as this class', example: 0.31 })
  windowShare: number;
  @ApiProperty({ description: 'Share of the reference predicted as this class', example: 0.12 })
  referenceShare: number;
}

export class AuditBoostDto {
  @ApiProperty({ description: 'Audit sampling rate while the boost runs (DRIFT_AUDIT_BOOST_RATE)' })
  rate: number;
  @ApiProperty() until: Date;
  @ApiProperty({ description: 'The drift alert that raised it' }) reason: string;
}

export class DriftVersionDto {
  @ApiProperty({ example: 'v4' }) modelVersion: string;
  @ApiProperty({ description: 'Whether this replica serves this version now' }) serving: boolean;
  @ApiProperty({ description: 'False: the artifact has no drift-reference.json, nothing is watched' })
  hasReference: boolean;
  @ApiProperty({ description: 'Predictions in the window now' }) predictions: number;
  @ApiProperty({ description: 'predictions >= DRIFT_MIN_WINDOW: only then are signals judged' })
  judged: boolean;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Weighted F1 estimated from calibrated probabilities',
  })
  estimatedF1: number | null;
  @ApiProperty({ nullable: true, type: Number, description: "The reference's estimated weighted F1" })
  referenceEstimatedF1: number | null;
  @ApiProperty({ nullable: true, type: Number, description: "The reference's weighted F1 from its labels" })
  referenceF1: number | null;
  @ApiProperty({ type: [DriftSignalDto] }) signals: DriftSignalDto[];
  @ApiProperty({
    type: [ClassShiftDto],
    description: 'The classes whose share moved most, largest move first',
  })
  classShifts: ClassShiftDto[];
  @ApiProperty({
    type: AuditBoostDto,
    nullable: true,
    description: 'A running audit boost a drift alert raised',
  })
  auditBoost: AuditBoostDto | null;
}

export class DriftWindowDto {
  @ApiProperty({ description: 'DRIFT_WINDOW: predictions per version in the sliding window' }) size: number;
  @ApiProperty({ description: 'DRIFT_MIN_WINDOW' }) minWindow: number;
  @ApiProperty({ description: 'DRIFT_QUANTILE' }) quantile: number;
  @ApiProperty({ description: 'DRIFT_BOOTSTRAP_DRAWS: windows drawn from the reference per size' })
  draws: number;
}

export class DriftMonitoringDto {
  @ApiProperty() computedAt: Date;
  @ApiProperty({ description: 'DRIFT_MONITORING: false when the watch is off' }) enabled: boolean;
  @ApiProperty({ type: DriftWindowDto }) window: DriftWindowDto;
  @ApiProperty({
    type: [DriftVersionDto],
    description: 'The versions this replica watches (the one it serves)',
  })
  versions: DriftVersionDto[];
}
