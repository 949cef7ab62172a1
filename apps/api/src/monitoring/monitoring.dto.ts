import { ApiProperty } from '@nestjs/swagger';

export class LiveClassDto {
  @ApiProperty({ example: 2583 }) prdtypecode: number;
  @ApiProperty() precision: number;
  @ApiProperty() recall: number;
  @ApiProperty() f1: number;
  @ApiProperty({ description: 'Labelled predictions whose true code is this one' }) support: number;
}

export class LiveVersionDto {
  @ApiProperty({ example: 'v4' }) modelVersion: string;
  @ApiProperty({ description: 'Whether this replica serves this version now' }) serving: boolean;
  @ApiProperty({ description: 'Labelled predictions in the window' }) samples: number;
  @ApiProperty({ description: 'samples >= LIVE_MIN_SAMPLES: only then may the alert fire' })
  enoughSamples: boolean;
  @ApiProperty({ description: 'weightedF1 < LIVE_F1_THRESHOLD with enough samples' }) belowThreshold: boolean;
  @ApiProperty() weightedF1: number;
  @ApiProperty() macroF1: number;
  @ApiProperty() accuracy: number;
  @ApiProperty({ description: 'Oldest label in the window' }) from: Date;
  @ApiProperty({ description: 'Newest label in the window' }) to: Date;
  @ApiProperty({ type: [LiveClassDto] }) perClass: LiveClassDto[];
  @ApiProperty({
    description: 'Counts: rows are true codes, columns predicted codes, both in the order of labels',
    example: {
      labels: [10, 40],
      matrix: [
        [5, 1],
        [0, 7],
      ],
    },
  })
  confusion: { labels: number[]; matrix: number[][] };
}

export class LiveWindowDto {
  @ApiProperty({ description: 'LIVE_WINDOW_MINUTES' }) minutes: number;
  @ApiProperty({ description: 'LIVE_WINDOW_SIZE: most recent labels per version' }) size: number;
  @ApiProperty({ description: 'LIVE_MIN_SAMPLES' }) minSamples: number;
  @ApiProperty({ description: 'LIVE_F1_THRESHOLD' }) f1Threshold: number;
}

export class ReviewLabelQualityDto {
  @ApiProperty({ example: 'v4' }) modelVersion: string;
  @ApiProperty({ description: 'Review labels in the window' }) samples: number;
  @ApiProperty() weightedF1: number;
  @ApiProperty() accuracy: number;
}

export class LiveMonitoringDto {
  @ApiProperty() computedAt: Date;
  @ApiProperty({ type: LiveWindowDto }) window: LiveWindowDto;
  @ApiProperty({
    type: [LiveVersionDto],
    description:
      'Versions with labels in the window, from the labels of a random sample of traffic only (consumer feedback ' +
      'and the review queue’s audit sample): the figures the alert reads',
  })
  versions: LiveVersionDto[];
  @ApiProperty({
    type: [ReviewLabelQualityDto],
    description:
      'The same window over review labels (the listings the model was least sure of): lower than the traffic by ' +
      'construction, reported apart and never read by the alert',
  })
  reviewLabels: ReviewLabelQualityDto[];
}
