import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DEFAULT_CATEGORY_NAMES, PRODUCT_TYPE_CODES } from '@app/ml';
import { Roles } from '../auth/auth.decorators';
import { ModelServingService } from '../serving/model-serving.service';
import { CategoryDto } from './prediction.dto';

@ApiTags('predictions')
@Roles('client')
@Controller('v1/categories')
export class CategoriesController {
  constructor(private readonly serving: ModelServingService) {}

  @Get()
  @ApiOperation({ summary: 'The product type codes the service can answer, with their names' })
  @ApiOkResponse({ type: [CategoryDto] })
  list(): CategoryDto[] {
    const classifier = this.serving.current?.classifier;
    const codes = classifier?.classes ?? PRODUCT_TYPE_CODES;
    return codes.map((prdtypecode) => ({
      prdtypecode,
      name:
        classifier?.categoryName(prdtypecode) ?? DEFAULT_CATEGORY_NAMES[prdtypecode] ?? String(prdtypecode),
    }));
  }
}
