import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditBoosts, DriftMonitor } from '@app/drift';
import { Roles } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import { ModelServingService } from '../serving/model-serving.service';
import { DriftMonitoringDto } from './drift.dto';

@ApiTags('monitoring')
@Roles('ml-engineer', 'monitoring')
@Controller('v1/monitoring')
export class DriftController {
  constructor(
    private readonly monitor: DriftMonitor,
    private readonly boosts: AuditBoosts,
    private readonly serving: ModelServingService,
  ) {}

  @Get('drift')
  @ApiOperation({
    summary: "Drift of the served version's recent predictions from its reference, without labels",
    description:
      'The figures /metrics exports (model_drift_*, model_estimated_weighted_f1) for the window of this replica: ' +
      'each signal with its threshold, the estimated weighted F1, the classes whose share moved most, and any ' +
      'audit boost a drift alert raised. See docs/drift.md.',
  })
  @ApiOkResponse({ type: DriftMonitoringDto })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  async getDrift(): Promise<DriftMonitoringDto> {
    const boosts = new Map((await this.boosts.active()).map((boost) => [boost.modelVersion, boost]));
    const serving = this.serving.current?.version;
    const { window, minWindow, quantile, draws } = this.monitor.settings;
    return {
      computedAt: new Date(),
      enabled: this.monitor.enabled,
      window: { size: window, minWindow, quantile, draws },
      versions: this.monitor.reports().map((report) => {
        const boost = boosts.get(report.modelVersion);
        return {
          ...report,
          serving: report.modelVersion === serving,
          auditBoost: boost ? { rate: boost.rate, until: boost.until, reason: boost.reason } : null,
        };
      }),
    };
  }
}
