import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PRODUCT_TYPE_CODES } from '@app/ml';
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
    const codes = this.serving.current?.classifier.classes ?? PRODUCT_TYPE_CODES;
    return codes.map((prdtypecode) => ({ prdtypecode, name: this.serving.categoryName(prdtypecode) }));
  }
}
