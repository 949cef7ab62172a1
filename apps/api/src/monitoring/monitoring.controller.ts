import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { Roles } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import { ModelServingService } from '../serving/model-serving.service';
import { LiveMonitoringService } from './live-monitoring.service';
import { LiveMonitoringDto } from './monitoring.dto';

@ApiTags('monitoring')
@Roles('ml-engineer', 'monitoring')
@Controller('v1/monitoring')
export class MonitoringController {
  constructor(
    private readonly live: LiveMonitoringService,
    private readonly serving: ModelServingService,
    private readonly config: AppConfig,
  ) {}

  @Get('live')
  @ApiOperation({
    summary: 'Live quality per model version, from the labels reported on its predictions',
    description:
      'The figures /metrics exports (model_live_*), computed now, with per-class F1 and the confusion counts.',
  })
  @ApiOkResponse({ type: LiveMonitoringDto })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  async getLive(): Promise<LiveMonitoringDto> {
    const { sampled: qualities, review } = await this.live.refresh();
    const threshold = this.config.env.LIVE_F1_THRESHOLD;
    const serving = this.serving.current?.version;
    return {
      computedAt: new Date(),
      window: { ...this.live.window, f1Threshold: threshold },
      versions: qualities.map((q) => ({
        ...q,
        serving: q.modelVersion === serving,
        belowThreshold: q.enoughSamples && q.weightedF1 < threshold,
        perClass: q.perClass.map(({ label, precision, recall, f1, support }) => ({
          prdtypecode: label,
          precision,
          recall,
          f1,
          support,
        })),
      })),
      reviewLabels: review.map(({ modelVersion, samples, weightedF1, accuracy }) => ({
        modelVersion,
        samples,
        weightedF1,
        accuracy,
      })),
    };
  }
}
